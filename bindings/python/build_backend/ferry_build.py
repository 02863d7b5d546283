"""PEP 517 build backend for ferry's Python package, using nothing outside
Python's standard library, so that `pip install .` needs no network.

The wheel holds ferry/ (this folder's package), ferry/_version.py (the
version of ferry and the bundle format it writes, read from the checkout) and
ferry/ferry.so: the file FERRY_EXTENSION names, or else the extension built
from this checkout (../..) with CMake, into a temporary folder.
"""
import base64
import hashlib
import os
import re
import subprocess
import sysconfig
import tempfile
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bindings/python
ROOT = os.path.dirname(os.path.dirname(HERE))                        # the checkout


def _read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def _version():
    return re.search(r"project\(ferry VERSION ([0-9.]+)", _read("CMakeLists.txt")).group(1)


def _bundle_format():
    return int(re.search(r"kExportFormatMajor = (\d+);", _read("src/bundle/format.h")).group(1))


def _extension(work):
    given = os.environ.get("FERRY_EXTENSION")
    if given:
        if not os.path.isfile(given):
            raise RuntimeError("FERRY_EXTENSION names " + given + ", which is not a file")
        return given
    build = os.path.join(work, "build")
    options = ["-DCMAKE_BUILD_TYPE=Release", "-DFERRY_BUILD_TESTS=OFF", "-DFERRY_BUILD_TOOLS=OFF",
               "-DFERRY_BUILD_BENCHMARKS=OFF"]
    subprocess.run(["cmake", "-S", ROOT, "-B", build, *options], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "--target", "ferry_sqlite", "-j", str(os.cpu_count() or 1)], check=True)
    return os.path.join(build, "src", "ferry.so")


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (name, digest, len(data))


def _tag():
    return "py3-none-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")


def _dist_info_files(version):
    """The wheel's metadata: METADATA, WHEEL and the license."""
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
        license_text = f.read()
    return {
        "METADATA": ("Metadata-Version: 2.1\nName: ferry\nVersion: %s\n"
                     "Summary: Offline sync for SQLite databases through bundle files, for Python's sqlite3\n"
                     "License: Apache-2.0\nRequires-Python: >=3.8\nDescription-Content-Type: text/markdown\n\n%s"
                     % (version, readme)).encode(),
        "WHEEL": ("Wheel-Version: 1.0\nGenerator: ferry_build\nRoot-Is-Purelib: false\nTag: %s\n" % _tag()).encode(),
        "LICENSE": license_text,
    }


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    # Without this hook pip would build the wheel twice (the extension too) to learn its metadata.
    version = _version()
    dist_info = "ferry-%s.dist-info" % version
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    for name, data in _dist_info_files(version).items():
        with open(os.path.join(metadata_directory, dist_info, name), "wb") as f:
            f.write(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    dist_info = "ferry-%s.dist-info" % version
    with tempfile.TemporaryDirectory() as work:
        files = {}
        for name in sorted(os.listdir(os.path.join(HERE, "ferry"))):
            if name.endswith(".py"):
                with open(os.path.join(HERE, "ferry", name), "rb") as f:
                    files["ferry/" + name] = f.read()
        files["ferry/_version.py"] = ('"""Written by the build (build_backend/ferry_build.py)."""\n'
                                      '__version__ = "%s"\nBUNDLE_FORMAT = %d  # The bundle format this ferry writes.\n'
                                      % (version, _bundle_format())).encode()
        with open(_extension(work), "rb") as f:
            files["ferry/ferry.so"] = f.read()
        for name, data in _dist_info_files(version).items():
            files[dist_info + "/" + name] = data
        record = [_record_line(name, data) for name, data in files.items()] + [dist_info + "/RECORD,,"]
        files[dist_info + "/RECORD"] = ("\n".join(record) + "\n").encode()
        wheel_name = "ferry-%s-%s.whl" % (version, _tag())
        with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as wheel:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
                wheel.writestr(info, data, zipfile.ZIP_DEFLATED)
    return wheel_name


def get_requires_for_build_wheel(config_settings=None):
    return []
