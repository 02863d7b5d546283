"""The loadable SQLite extension from Python's standard sqlite3 module.

    extension_test.py EXTENSION DIR            runs the checks in the empty folder DIR
    extension_test.py EXTENSION DIR doorway    runs only the shared scenario (doorways.sh)

Exits 77 (skipped) when this Python's sqlite3 cannot load extensions.
"""
import json
import os
import sqlite3
import sys
import time

SCHEMA = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, photo BLOB)"


def connect(extension, path):
    conn = sqlite3.connect(path, isolation_level=None)  # Autocommit: ferry's calls run outside app transactions.
    conn.enable_load_extension(True)
    conn.load_extension(extension)
    conn.enable_load_extension(False)
    return conn


def device(extension, folder, name):
    conn = connect(extension, os.path.join(folder, name + ".db"))
    conn.execute(SCHEMA)
    device_id = conn.execute("SELECT ferry_init(?)", (name,)).fetchone()[0]
    assert len(device_id) == 36, device_id
    assert conn.execute("SELECT ferry_track('items')").fetchone()[0] == 0
    return conn


def send(src, dst, path):
    exported = json.loads(src.execute("SELECT ferry_export(NULL, ?)", (path,)).fetchone()[0])
    imported = json.loads(dst.execute("SELECT ferry_import(?)", (path,)).fetchone()[0])
    return exported, imported


def scenario(extension, folder):
    a, b = device(extension, folder, "a"), device(extension, folder, "b")
    a.execute("INSERT INTO items VALUES(1, 'bolt', 0.1, x'00ff'), (2, 'nut', NULL, NULL)")
    b.execute("INSERT INTO items VALUES(3, 'washer', 2.5, x'')")
    send(a, b, os.path.join(folder, "a1.ferry"))
    send(b, a, os.path.join(folder, "b1.ferry"))
    b.execute("UPDATE items SET price = 0.2 WHERE id = 1")
    exported, imported = send(b, a, os.path.join(folder, "b2.ferry"))
    return a, b, exported, imported


def checks(extension, folder):
    a, b, exported, imported = scenario(extension, folder)
    assert exported["operations"] == 4, exported
    assert imported["applied"] == 1 and imported["duplicates"] == 3, imported
    rows = "SELECT id, name, price, photo FROM items ORDER BY id"
    assert a.execute(rows).fetchall() == b.execute(rows).fetchall()
    assert a.execute("SELECT price FROM items WHERE id = 1").fetchone()[0] == 0.2

    status = json.loads(a.execute("SELECT ferry_status()").fetchone()[0])
    assert status["operations"] == 4 and len(status["device"]["fingerprint"]) == 24, status
    assert json.loads(a.execute("SELECT ferry_verify()").fetchone()[0])["ok"] is True

    # A conflict, settled with a typed SQL value; the resolution travels.
    a.execute("UPDATE items SET name = 'bolt A' WHERE id = 2")
    b.execute("UPDATE items SET name = 'bolt B' WHERE id = 2")
    send(a, b, os.path.join(folder, "a2.ferry"))
    conflicts = json.loads(b.execute("SELECT ferry_conflicts()").fetchone()[0])
    assert len(conflicts) == 1 and conflicts[0]["column"] == "name", conflicts
    resolution = json.loads(b.execute("SELECT ferry_resolve_value(?, ?)", (conflicts[0]["id"], b"\x01\x02")).fetchone()[0])
    assert resolution["columns"]["name"] == {"blob": "0102"}, resolution
    send(b, a, os.path.join(folder, "b3.ferry"))
    assert a.execute(rows).fetchall() == b.execute(rows).fetchall()
    assert json.loads(a.execute("SELECT ferry_conflicts()").fetchone()[0]) == []
    send(a, b, os.path.join(folder, "a3.ferry"))  # Now both hold every operation: one fingerprint.
    fingerprint = json.loads(a.execute("SELECT ferry_fingerprint()").fetchone()[0])
    other = json.loads(b.execute("SELECT ferry_fingerprint()").fetchone()[0])
    for held in ("operations", "state", "tables", "heads"):  # Not "device" and "taken": whose, and when.
        assert fingerprint[held] == other[held], (held, fingerprint, other)
    assert fingerprint["operations"]["count"] == 7, fingerprint

    # A new identity; the old one stays a device whose operations a holds.
    before = json.loads(a.execute("SELECT ferry_status()").fetchone()[0])["device"]["id"]
    renamed = json.loads(a.execute("SELECT ferry_reidentify()").fetchone()[0])
    assert renamed["previous"]["id"] == before and renamed["device"]["id"] != before, renamed
    assert json.loads(a.execute("SELECT ferry_status()").fetchone()[0])["device"]["id"] == renamed["device"]["id"]

    # Errors are SQL errors carrying ferry's message, and a result code by kind.
    damaged = os.path.join(folder, "damaged.ferry")
    with open(os.path.join(folder, "a3.ferry"), "rb") as f:
        good = f.read()
    with open(damaged, "wb") as f:
        f.write(good[:len(good) // 2])  # Cut short, as by a pulled USB stick.
    SQLITE_CORRUPT, SQLITE_NOTFOUND, SQLITE_MISMATCH = 11, 12, 20
    for sql, expected, code in [("SELECT ferry_import('/no/such.ferry')", "/no/such.ferry: no such file", SQLITE_NOTFOUND),
                                ("SELECT ferry_track('nope')", "nope", SQLITE_NOTFOUND),
                                ("SELECT ferry_resolve(1, 'both')", "'winner' or 'loser'", SQLITE_MISMATCH),
                                ("SELECT ferry_export('nobody', 'x.ferry')", "no known device is called 'nobody'",
                                 SQLITE_NOTFOUND),
                                ("SELECT ferry_import('" + damaged + "')", damaged, SQLITE_CORRUPT)]:
        try:
            a.execute(sql)
            raise AssertionError(sql + " did not fail")
        except sqlite3.Error as e:
            assert expected in str(e), (sql, str(e))
            assert getattr(e, "sqlite_errorcode", code) & 0xff == code, (sql, e.sqlite_errorcode, str(e))
    memory = connect(extension, ":memory:")
    try:
        memory.execute("SELECT ferry_init()")
        raise AssertionError("ferry_init on :memory: did not fail")
    except sqlite3.Error as e:
        assert "needs a database file" in str(e), str(e)
        assert getattr(e, "sqlite_errorcode", SQLITE_MISMATCH) == SQLITE_MISMATCH, e.sqlite_errorcode


def many_rounds(extension, folder):
    """As an app works: each device writes 200 rows in a transaction, then the two
    exchange bundles both ways, five rounds; every row arrives on both."""
    north, south = device(extension, folder, "north"), device(extension, folder, "south")
    for round_ in range(5):
        for conn, base in ((north, 1000), (south, 100000)):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO items VALUES(?, ?, ?, NULL)",
                             [(base + round_ * 1000 + i, "round %d" % round_, i) for i in range(200)])
            conn.execute("COMMIT")
        for src, dst, name in ((north, south, "n"), (south, north, "s")):
            send(src, dst, os.path.join(folder, "%s%d.ferry" % (name, round_)))
        rows = "SELECT id, name, price FROM items ORDER BY id"
        assert north.execute("SELECT count(*) FROM items").fetchone()[0] == (round_ + 1) * 400
        assert north.execute(rows).fetchall() == south.execute(rows).fetchall(), round_


def inside_transactions(extension, folder):
    """ferry's functions inside the app's own transaction: their work commits or
    rolls back with it; those that must commit on their own say so at once."""
    source, app = device(extension, folder, "source"), device(extension, folder, "app")
    source.execute("INSERT INTO items VALUES(1, 'bolt', 0.1, NULL), (2, 'nut', NULL, NULL)")
    bundle = os.path.join(folder, "source.ferry")
    source.execute("SELECT ferry_export(NULL, ?)", (bundle,))
    count = "SELECT count(*) FROM items"

    app.execute("BEGIN")
    app.execute("INSERT INTO items VALUES(10, 'mine', 1.0, NULL)")
    started = time.monotonic()
    assert json.loads(app.execute("SELECT ferry_import(?)", (bundle,)).fetchone()[0])["applied"] == 2
    assert time.monotonic() - started < 2, "the import waited for a lock its caller holds"
    assert app.execute(count).fetchone()[0] == 3
    app.execute("ROLLBACK")
    assert app.execute(count).fetchone()[0] == 0
    assert json.loads(app.execute("SELECT ferry_status()").fetchone()[0])["operations"] == 0

    app.execute("BEGIN")
    app.execute("INSERT INTO items VALUES(10, 'mine', 1.0, NULL)")
    app.execute("SELECT ferry_import(?)", (bundle,))
    app.execute("COMMIT")
    assert app.execute(count).fetchone()[0] == 3
    assert json.loads(app.execute("SELECT ferry_status()").fetchone()[0])["operations"] == 3  # Its own insert, sealed.

    app.execute("BEGIN")
    started = time.monotonic()
    try:
        app.execute("SELECT ferry_export(NULL, ?)", (os.path.join(folder, "app.ferry"),))
        raise AssertionError("ferry_export ran inside a transaction")
    except sqlite3.Error as e:
        assert "Commit (or roll back) first" in str(e), str(e)
        assert getattr(e, "sqlite_errorcode", 19) & 0xff == 19, e.sqlite_errorcode  # SQLITE_CONSTRAINT: refused.
    assert time.monotonic() - started < 2
    app.execute("ROLLBACK")
    assert not os.path.exists(os.path.join(folder, "app.ferry"))
    assert json.loads(app.execute("SELECT ferry_export(NULL, ?)", (os.path.join(folder, "app.ferry"),)).fetchone()[0])[
        "operations"] == 3


def whole_api(extension, folder):
    """What the CLI does, from SQL: trust, peers, log, history, as-of, bundles as BLOBs, the version."""
    SQLITE_AUTH = 23
    office, clinic = device(extension, folder, "office"), device(extension, folder, "clinic")
    version = office.execute("SELECT ferry_version()").fetchone()[0]
    assert len(version.split(".")) == 3 and all(p.isdigit() for p in version.split(".")), version
    office_id = json.loads(office.execute("SELECT ferry_status()").fetchone()[0])["device"]["id"]
    office_key = json.loads(office.execute("SELECT ferry_status()").fetchone()[0])["device"]["public_key"]

    assert clinic.execute("SELECT ferry_trust_policy()").fetchone()[0] == "tofu"
    assert clinic.execute("SELECT ferry_trust_policy('strict')").fetchone()[0] == "strict"
    office.execute("INSERT INTO items VALUES(1, 'bolt', 0.1, NULL)")
    bundle = office.execute("SELECT ferry_export_blob(NULL)").fetchone()[0]
    assert isinstance(bundle, bytes) and bundle.startswith(b"SQLite format 3"), bundle[:16]
    try:
        clinic.execute("SELECT ferry_import_blob(?)", (bundle,))
        raise AssertionError("strict accepted a device it never added")
    except sqlite3.Error as e:
        assert office_id in str(e) and getattr(e, "sqlite_errorcode", SQLITE_AUTH) == SQLITE_AUTH, str(e)
    added = json.loads(clinic.execute("SELECT ferry_trust_add(?, ?, 'office')", (office_id, office_key)).fetchone()[0])
    assert added["replaced"] is False and added["forgotten"] == 0, added
    assert json.loads(clinic.execute("SELECT ferry_import_blob(?)", (bundle,)).fetchone()[0])["applied"] == 1
    listed = json.loads(clinic.execute("SELECT ferry_trust_list()").fetchone()[0])
    assert [p["trust"] for p in listed] == ["self", "added"], listed
    peers = json.loads(clinic.execute("SELECT ferry_peers()").fetchone()[0])
    assert any(p["id"] == office_id and p["head"] == 1 for p in peers), peers

    office.execute("UPDATE items SET price = 0.2 WHERE id = 1")
    clinic.execute("SELECT ferry_import_blob(?)", (office.execute("SELECT ferry_export_blob(NULL)").fetchone()[0],))
    log = json.loads(clinic.execute("SELECT ferry_log(1)").fetchone()[0])
    assert len(log) == 1 and log[0]["kind"] == "update", log
    history = json.loads(clinic.execute("SELECT ferry_history('items', 1)").fetchone()[0])
    assert [v["values"]["price"] for v in history] == [0.1, 0.2], history
    copy = os.path.join(folder, "items-then.db")
    clock = office_id + ":1"  # After office's first operation: the insert.
    assert json.loads(clinic.execute("SELECT ferry_as_of('items', ?, ?)", (clock, copy)).fetchone()[0])["rows"] == 1
    assert sqlite3.connect(copy).execute("SELECT price FROM items").fetchone()[0] == 0.1

    clinic.execute("SELECT ferry_trust_remove(?)", (office_id,))
    office.execute("UPDATE items SET price = 0.3 WHERE id = 1")
    try:
        clinic.execute("SELECT ferry_import_blob(?)", (office.execute("SELECT ferry_export_blob(NULL)").fetchone()[0],))
        raise AssertionError("a removed device's bundle was accepted")
    except sqlite3.Error as e:
        assert "removed" in str(e) and getattr(e, "sqlite_errorcode", SQLITE_AUTH) == SQLITE_AUTH, str(e)


def ferry3_peers(extension, folder):
    """While a peer still runs ferry 3.x: ferry_compat(3), then bundles of format 3, to a file or as a BLOB."""
    SQLITE_CONSTRAINT, SQLITE_MISMATCH = 19, 20
    bridge, modern = device(extension, folder, "bridge"), device(extension, folder, "modern")
    receiver = device(extension, folder, "receiver3")
    assert modern.execute("SELECT ferry_compat()").fetchone()[0] == 4
    modern.execute("INSERT INTO items VALUES(1, 'sealed for 4', NULL, NULL)")
    try:
        modern.execute("SELECT ferry_export_blob(NULL, NULL, 3)")
        raise AssertionError("a format 3 bundle carried an operation ferry 3.x cannot read")
    except sqlite3.Error as e:
        assert "compat DB 3" in str(e) and getattr(e, "sqlite_errorcode", SQLITE_CONSTRAINT) == SQLITE_CONSTRAINT, str(e)
    for bad in ("SELECT ferry_compat(5)", "SELECT ferry_export_blob(NULL, NULL, 'three')"):
        try:
            modern.execute(bad)
            raise AssertionError(bad + " was accepted")
        except sqlite3.Error as e:
            assert getattr(e, "sqlite_errorcode", SQLITE_MISMATCH) == SQLITE_MISMATCH, str(e)

    assert bridge.execute("SELECT ferry_compat(3)").fetchone()[0] == 3
    assert json.loads(bridge.execute("SELECT ferry_status()").fetchone()[0])["ferry3_compatible"] is True
    bridge.execute("INSERT INTO items VALUES(2, 'sealed for 3', NULL, NULL)")
    path = os.path.join(folder, "for-3.ferry")
    assert json.loads(bridge.execute("SELECT ferry_export(NULL, ?, NULL, 3)", (path,)).fetchone()[0])["operations"] == 1
    assert sqlite3.connect(path).execute("SELECT format_major FROM ferry_bundle").fetchone()[0] == 3
    assert json.loads(receiver.execute("SELECT ferry_import(?)", (path,)).fetchone()[0])["applied"] == 1
    blob = bridge.execute("SELECT ferry_export_blob(NULL, NULL, 3)").fetchone()[0]
    assert json.loads(receiver.execute("SELECT ferry_import_blob(?)", (blob,)).fetchone()[0])["duplicates"] == 1
    assert receiver.execute("SELECT name FROM items").fetchall() == [("sealed for 3",)]
    assert bridge.execute("SELECT ferry_compat(4)").fetchone()[0] == 4


def a_fleet(extension, folder):
    """The fleet from SQL: init, join, a change held until a grant, a grant refused to a member."""
    SQLITE_CONSTRAINT = 19
    hq, member = device(extension, folder, "f-hq"), device(extension, folder, "f-member")
    assert json.loads(hq.execute("SELECT ferry_fleet()").fetchone()[0])["administrator"] is None
    hq_id = json.loads(hq.execute("SELECT ferry_fleet_init()").fetchone()[0])["administrator"]
    invite = json.loads(hq.execute("SELECT ferry_fleet()").fetchone()[0])
    joined = json.loads(member.execute("SELECT ferry_fleet_join(?, ?, 'hq')",
                                       (hq_id, invite["administrator_key"])).fetchone()[0])
    assert joined["administrator"] == hq_id and joined["started"] is False, joined
    member.execute("SELECT ferry_import_blob(?)", (hq.execute("SELECT ferry_export_blob(NULL)").fetchone()[0],))
    member.execute("INSERT INTO items VALUES(1, 'held', NULL, NULL)")
    status = json.loads(member.execute("SELECT ferry_status()").fetchone()[0])
    assert len(status["held"]) == 1 and status["fleet"]["started"] is True, status
    try:
        member.execute("SELECT ferry_fleet_grant(?, 1)", (hq_id,))
        raise AssertionError("a member wrote a grant")
    except sqlite3.Error as e:
        assert "run this there" in str(e) and getattr(e, "sqlite_errorcode", SQLITE_CONSTRAINT) == SQLITE_CONSTRAINT, str(e)
    member_id = status["device"]["id"]
    grant = json.loads(hq.execute("SELECT ferry_fleet_grant(?, 1)", (member_id,)).fetchone()[0])
    assert grant["write"] == [""], grant
    member.execute("SELECT ferry_import_blob(?)", (hq.execute("SELECT ferry_export_blob(NULL)").fetchone()[0],))
    hq.execute("SELECT ferry_import_blob(?)", (member.execute("SELECT ferry_export_blob(NULL)").fetchone()[0],))
    assert hq.execute("SELECT name FROM items").fetchall() == [("held",)]
    assert json.loads(hq.execute("SELECT ferry_fleet_revoke(?)", (member_id,)).fetchone()[0])["write"] == []
    admitted = json.loads(hq.execute("SELECT ferry_fleet_admit(?)", (member_id + ":1",)).fetchone()[0])
    assert admitted["administrator"] == hq_id, admitted


def scopes(extension, folder):
    """Scoped tables from SQL: track with a scope, a grant of one scope, a fingerprint of it."""
    hq, member = connect(extension, os.path.join(folder, "s-hq.db")), connect(extension, os.path.join(folder, "s-member.db"))
    for db, name in ((hq, "s-hq"), (member, "s-member")):
        db.execute("CREATE TABLE visits(id INTEGER PRIMARY KEY, clinic INTEGER)")
        db.execute("SELECT ferry_init(?)", (name,))
        db.execute("SELECT ferry_track('visits', 'clinic')")
    hq_id = json.loads(hq.execute("SELECT ferry_fleet_init()").fetchone()[0])["administrator"]
    key = json.loads(hq.execute("SELECT ferry_fleet()").fetchone()[0])["administrator_key"]
    member.execute("SELECT ferry_fleet_join(?, ?, 'hq')", (hq_id, key))
    member_id = json.loads(member.execute("SELECT ferry_status()").fetchone()[0])["device"]["id"]
    grant = json.loads(hq.execute("SELECT ferry_fleet_grant(?, '{\"read\": [\"7\"]}')", (member_id,)).fetchone()[0])
    assert grant["read"] == ["7"], grant
    try:
        hq.execute("SELECT ferry_fleet_grant(?, '{\"reed\": [\"7\"]}')", (member_id,))
        raise AssertionError("a grant with a misspelt list was written")
    except sqlite3.Error as e:
        assert "no list 'reed'" in str(e), str(e)
    hq.execute("INSERT INTO visits VALUES(1, 7), (2, 8)")
    member.execute("SELECT ferry_import_blob(?)", (hq.execute("SELECT ferry_export_blob(?)", (member_id,)).fetchone()[0],))
    assert member.execute("SELECT * FROM visits").fetchall() == [(1, 7)]
    mine = json.loads(member.execute("SELECT ferry_fingerprint('7')").fetchone()[0])
    theirs = json.loads(hq.execute("SELECT ferry_fingerprint('7')").fetchone()[0])
    assert mine["scope"] == "7" and mine["state"] == theirs["state"] and mine["heads"] == theirs["heads"], (mine, theirs)


def through_a_folder(extension, folder):
    """ferry_sync: two devices that only sync one folder; a damaged file there is named and left."""
    stick = os.path.join(folder, "stick")
    os.mkdir(stick)
    a, b = device(extension, folder, "sync-a"), device(extension, folder, "sync-b")
    a.execute("INSERT INTO items VALUES(1, 'carried', NULL, NULL)")
    first = json.loads(a.execute("SELECT ferry_sync(?)", (stick,)).fetchone()[0])
    assert first["error"] is None and first["exports"][0]["file"].startswith("from-sync-a-"), first
    for _ in range(2):
        for db in (b, a):
            assert json.loads(db.execute("SELECT ferry_sync(?, 20000000)", (stick,)).fetchone()[0])["error"] is None
    b.execute("SELECT ferry_sync(?)", (stick,))
    assert b.execute("SELECT name FROM items").fetchall() == [("carried",)]
    with open(os.path.join(stick, "to-sync-b-damaged.ferry"), "wb") as f:
        f.write(b"not a bundle at all")
    a.execute("INSERT INTO items VALUES(2, 'carried too', NULL, NULL)")
    a.execute("SELECT ferry_sync(?)", (stick,))
    report = json.loads(b.execute("SELECT ferry_sync(?)", (stick,)).fetchone()[0])
    assert report["error"] == "corrupt", report
    refused = [f for f in report["imports"] if f["file"] == "to-sync-b-damaged.ferry"]
    assert refused and "to-sync-b-damaged.ferry" in refused[0]["detail"], report
    assert b.execute("SELECT count(*) FROM items").fetchone()[0] == 2  # The rest was still done.
    assert os.path.exists(os.path.join(stick, "to-sync-b-damaged.ferry"))
    for bad, why in (((os.path.join(folder, "no-such-stick"),), "no-such-stick"), ((stick, 0), "max_size")):
        try:
            b.execute("SELECT ferry_sync(" + ", ".join("?" * len(bad)) + ")", bad)
            raise AssertionError("ferry_sync%r was not refused" % (bad,))
        except sqlite3.Error as e:
            assert why in str(e), str(e)
    b.execute("BEGIN")
    try:
        b.execute("SELECT ferry_sync(?)", (stick,))
        raise AssertionError("ferry_sync ran inside a transaction")
    except sqlite3.Error as e:
        assert "commit" in str(e).lower(), str(e)
    b.execute("ROLLBACK")


def main():
    extension, folder = sys.argv[1], sys.argv[2]
    probe = sqlite3.connect(":memory:")
    if not hasattr(probe, "enable_load_extension"):
        print("skipped: this Python's sqlite3 module cannot load extensions (" + sys.executable + ")")
        return 77
    if len(sys.argv) > 3 and sys.argv[3] == "doorway":
        scenario(extension, folder)
    else:
        checks(extension, folder)
        many_rounds(extension, folder)
        inside_transactions(extension, folder)
        whole_api(extension, folder)
        ferry3_peers(extension, folder)
        a_fleet(extension, folder)
        scopes(extension, folder)
        through_a_folder(extension, folder)
        print("extension: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
