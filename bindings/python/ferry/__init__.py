"""ferry for Python's sqlite3: offline sync for SQLite databases through bundle files.

    import sqlite3, ferry
    conn = ferry.load(sqlite3.connect("app.db", isolation_level=None))
    conn.execute("SELECT ferry_init('laptop')")

ferry.load() loads ferry's SQLite extension into a connection: ferry's verbs
become SQL functions (ferry_init, ferry_track, ferry_export, ferry_import,
ferry_status, ... ; the README of ferry lists them all). The extension calls
the SQLite of the connection it is loaded into; it brings none of its own.
"""
import os
import sqlite3

from ferry._version import BUNDLE_FORMAT, __version__

__all__ = ["load", "EXTENSION", "BUNDLE_FORMAT", "__version__"]

# The extension, as SQLite's load_extension() takes it (without the suffix).
EXTENSION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ferry")


def load(connection: sqlite3.Connection) -> sqlite3.Connection:
    """Loads ferry into `connection` and returns it.

    Extension loading is switched on only for the load, and off again after,
    so that SQL cannot load other extensions through this connection. Raises
    sqlite3.OperationalError when this Python's sqlite3 cannot load extensions
    (Debian's can; some self-built Pythons cannot), or when the extension does
    not match this platform."""
    if not hasattr(connection, "enable_load_extension"):
        raise sqlite3.OperationalError(
            "this Python's sqlite3 was built without extension loading: ferry cannot be loaded into it "
            "(Debian's python3 has it; a self-built Python needs --enable-loadable-sqlite-extensions)")
    connection.enable_load_extension(True)
    try:
        connection.load_extension(EXTENSION)
    finally:
        connection.enable_load_extension(False)
    return connection
