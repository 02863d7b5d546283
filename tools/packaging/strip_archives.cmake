# Run by CPack before it packs the staged files: removes the debug sections
# from static libraries, as Debian's dh_strip does (CPACK_STRIP_FILES leaves
# archives whole). A `cmake --install` keeps them as built.
file(GLOB_RECURSE archives "${CPACK_TEMPORARY_DIRECTORY}/*.a")
foreach(archive ${archives})
  execute_process(COMMAND strip --strip-debug --enable-deterministic-archives "${archive}" RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "strip --strip-debug ${archive} failed")
  endif()
endforeach()
