# Debian packages: `cpack -G DEB` in a build folder writes one package per
# install component (src/CMakeLists.txt, tools/CMakeLists.txt):
#   ferry          the tool, its man page and bash completion
#   libferry1      libferry.so.1 (the SONAME's number is in the name, as Debian's policy asks)
#   libferry-dev   headers, libferry.a, the libferry.so link, CMake and pkg-config files
#   ferry-sqlite   the loadable SQLite extension
# Each carries the license (as a Debian copyright file) and a changelog.
# tests/packaging/deb_test.sh builds them, checks them with lintian and builds
# the C example against them unpacked.

set(FERRY_PACKAGE_MAINTAINER "ferry developers <ferry-dev@ferry.invalid>" CACHE STRING
    "Maintainer of the Debian packages: set it to a real address before publishing them")
include(GNUInstallDirs)

configure_file(${CMAKE_CURRENT_LIST_DIR}/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.gz
  COMMAND gzip -9n -c ${PROJECT_BINARY_DIR}/packaging/changelog > ${PROJECT_BINARY_DIR}/packaging/changelog.gz
  DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog)
add_custom_target(ferry_package_changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.gz)

set(ferry_packages tool:ferry lib:libferry${FERRY_SOVERSION} dev:libferry-dev extension:ferry-sqlite)
foreach(entry ${ferry_packages})
  string(REPLACE ":" ";" entry ${entry})
  list(GET entry 0 component)
  list(GET entry 1 package)
  string(TOUPPER ${component} COMPONENT)
  set(CPACK_DEBIAN_${COMPONENT}_PACKAGE_NAME ${package})
  set(CPACK_DEBIAN_${COMPONENT}_FILE_NAME DEB-DEFAULT)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/copyright ${PROJECT_BINARY_DIR}/packaging/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package} COMPONENT ${component})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/ferry COMPONENT tool)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VENDOR "The ferry authors")
set(CPACK_PACKAGE_CONTACT ${FERRY_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # Executables and shared objects; the static library by strip_archives.cmake.
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/strip_archives.cmake)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL tool lib dev extension)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the libraries each binary links (dpkg-shlibdeps).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)  # libferry0's shlibs file, for the packages built against it.

# CPack indents each line of a description and turns an empty one into " .".
set(story "ferry keeps the SQLite databases of devices that are rarely or never online
in sync through signed bundle files, carried on a USB stick or sent by email:
it captures every change into a hash-chained log, exports what a peer lacks,
and imports bundles in causal order, recording conflicts.")
set(CPACK_DEBIAN_TOOL_DESCRIPTION "offline sync for SQLite databases through bundle files
${story}

This package holds the ferry command-line tool.")
set(CPACK_DEBIAN_LIB_DESCRIPTION "offline sync for SQLite databases - shared library
${story}

This package holds the shared library, for programs that embed ferry.")
set(CPACK_DEBIAN_DEV_DESCRIPTION "offline sync for SQLite databases - development files
${story}

This package holds the C and C++ headers, the static library and the CMake
and pkg-config files.")
set(CPACK_DEBIAN_EXTENSION_DESCRIPTION "offline sync for SQLite databases - loadable SQLite extension
${story}

This package holds the extension any SQLite driver can load, giving ferry's
verbs as SQL functions.")
# ldconfig runs by trigger, once for all packages installed together (CPack also
# adds calls to it in postinst and postrm; lintian warns of those, no more).
file(WRITE ${PROJECT_BINARY_DIR}/packaging/lib/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/packaging/lib/triggers)
set(CPACK_DEBIAN_TOOL_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libferry${FERRY_SOVERSION} (= ${PROJECT_VERSION}), libsqlite3-dev, libssl-dev, libzstd-dev")
# The extension calls the SQLite of the program that loads it, and links none itself.
set(CPACK_DEBIAN_EXTENSION_PACKAGE_ENHANCES "libsqlite3-0")
include(CPack)
