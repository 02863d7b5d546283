/*
 * ferry's C API: the same engine as ferry/engine.h, through a plain C ABI for
 * apps written in C, Swift, Kotlin, C#... and for bindings.
 *
 * Conventions
 * - Every function returns a ferry_code; FERRY_OK (0) is success. On any other
 *   code, ferry_errmsg(handle) holds the same message the ferry tool prints
 *   (what happened, where, and what to do), and nothing was changed: every call
 *   that writes runs in one transaction.
 * - No C++ exception crosses this boundary; out of memory is FERRY_INTERNAL.
 * - Strings are UTF-8 and NUL-terminated. A char* or void* that a call returns
 *   through an out-parameter belongs to the caller, who frees it with
 *   ferry_free(). Strings returned directly (ferry_errmsg, ferry_device_id)
 *   belong to the handle and stay valid until the next call on it.
 * - JSON results use the keys the README documents for the tool's --json.
 *
 * Threads: a ferry_db may be used by one thread at a time (give each thread its
 * own handle; any number of handles, in any threads, may be open on the same
 * or different databases). Functions without a handle are thread-safe.
 */
#ifndef FERRY_FERRY_H
#define FERRY_FERRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#if defined(__GNUC__)
#pragma GCC visibility push(default) /* Exported from libferry.so. */
#endif

typedef enum ferry_code {
  FERRY_OK = 0,
  FERRY_INVALID_ARGUMENT = 1, /* A null pointer, a bad id or option. */
  FERRY_NOT_FOUND = 2,        /* A file, table, device or conflict that does not exist. */
  FERRY_CORRUPT = 3,          /* A damaged bundle or a tampered log. */
  FERRY_REFUSED = 4,          /* Valid input ferry will not accept (newer format, forked chain, schema). */
  FERRY_UNTRUSTED = 5,        /* A signature that does not verify, or a device this database does not trust. */
  FERRY_DATABASE = 6,         /* SQLite failed: locked, read-only, disk full, I/O error. */
  FERRY_INTERNAL = 7          /* A bug, or an environment failure (out of memory, no entropy). */
} ferry_code;

/* One application database, seen as one device. Opaque. */
typedef struct ferry_db ferry_db;

/* Called now and then during long exports and imports. */
typedef void (*ferry_progress)(void* user, size_t done, size_t total);

/*
 * Opening. Each stores a handle in *out and returns a code. The handle is
 * created even when the call fails (unless memory is exhausted, then *out is
 * NULL), so that ferry_errmsg can say why; close it with ferry_close in every
 * case.
 */
/* Prepares the database at `path` (created if missing) and gives it a device
 * identity and keys; on a database already prepared, changes nothing. `name`
 * may be NULL. */
ferry_code ferry_init(const char* path, const char* name, ferry_db** out);
/* Opens a database that ferry_init prepared. */
ferry_code ferry_open(const char* path, ferry_db** out);
/* Opens the database file behind an app's own connection (its "main"
 * database), on a connection of ferry's own. `connection` is a sqlite3*; it is
 * not used afterwards. Call ferry's functions outside the app's transactions. */
ferry_code ferry_open_connection(void* connection, ferry_db** out);
/* Closes the handle (NULL is fine). */
void ferry_close(ferry_db* db);

/* The message of the last failed call on `db`, "" after a success. Never NULL. */
const char* ferry_errmsg(const ferry_db* db);
/* Frees what a call returned through an out-parameter. NULL is fine. */
void ferry_free(void* p);

/* This device's id, canonical text (36 characters). NULL for a NULL handle. */
const char* ferry_device_id(ferry_db* db);

/* Starts capturing every change to `table`; *backfilled (may be NULL) gets the
 * number of rows already there, recorded as inserts the first time. */
ferry_code ferry_track(ferry_db* db, const char* table, size_t* backfilled);
/* The same for a scoped table (bundle_format/format4.md §12.1): `scope` is an
 * SQL expression over the row, usually a column, whose value names the scope
 * each row belongs to; every device tracks the table with the same one. */
ferry_code ferry_track_scoped(ferry_db* db, const char* table, const char* scope, size_t* backfilled);
ferry_code ferry_untrack(ferry_db* db, const char* table);

typedef struct ferry_export_options {
  const char* peer;        /* Device id, id prefix or name; NULL or "" with `all` or `since`. */
  int all;                 /* Non-zero: everything this device holds. */
  const char* since;       /* Only what is newer than this clock, "DEVICE:SEQ,..."; may be NULL. */
  int snapshot;            /* Non-zero: the current state, to start a new device. */
  const char* encrypt_for; /* Encrypt for this device (id, prefix or name); may be NULL. */
  ferry_progress progress; /* May be NULL. */
  void* progress_user;
  int format;              /* Bundle format: 0 the newest (4); 3 for peers still running ferry 3.x. */
} ferry_export_options;

typedef struct ferry_export_summary {
  size_t operations;
  uint64_t bytes;
  char bundle_id[37];
} ferry_export_summary;

/* Writes a bundle at `path` (complete or not at all). `summary` may be NULL. */
ferry_code ferry_export(ferry_db* db, const char* path, const ferry_export_options* options,
                        ferry_export_summary* summary);
/* The same bundle in memory: *data (free with ferry_free) and *size. */
ferry_code ferry_export_to_memory(ferry_db* db, const ferry_export_options* options, void** data, size_t* size,
                                  ferry_export_summary* summary);

typedef struct ferry_import_summary {
  size_t applied;                /* Operations now reflected in the tables. */
  size_t duplicates;             /* Already present; skipped. */
  size_t pending;                /* Stored, waiting for earlier operations. */
  size_t conflicts;              /* Conflicts this import opened that are still open. */
  size_t foreign_key_violations; /* Rows whose parent row is missing after the import. */
  size_t newly_trusted;          /* Devices whose keys this import pinned (trust on first use). */
  size_t discarded;              /* Operations an earlier import left pending that proved impossible once ready. */
  const char* discarded_why;     /* What made each impossible, one line each ("" when none); belongs to the
                                    handle and stays valid until the next call on it. */
} ferry_import_summary;

/* Validates a bundle, then applies it in one transaction. `summary` may be NULL. */
ferry_code ferry_import(ferry_db* db, const char* path, ferry_progress progress, void* progress_user,
                        ferry_import_summary* summary);
ferry_code ferry_import_from_memory(ferry_db* db, const void* data, size_t size, ferry_progress progress,
                                    void* progress_user, ferry_import_summary* summary);

/* Which ferry can read what this device seals, as `ferry compat DB [3|4]`
 * sets it (bundle_format/README.md §9). `version` 3: from now on, seal changes
 * as operations ferry 3.x reads (whole clocks, at most 4,096 devices), so that
 * an export with format 3 carries them to a peer still running it; 4 (the
 * default): operations whose size does not grow with the fleet; 0: change
 * nothing. *current (may be NULL) gets 3 or 4 afterwards. */
ferry_code ferry_compat(ferry_db* db, int version, int* current);

/* Status (device, keys, clock, pending, conflicts, peers) as JSON in *json. */
ferry_code ferry_status(ferry_db* db, char** json);
/* Open conflicts as a JSON array in *json. */
ferry_code ferry_conflicts(ferry_db* db, char** json);
/* Settles conflict `id` keeping the winner (keep_loser == 0) or the loser. */
ferry_code ferry_resolve(ferry_db* db, int64_t id, int keep_loser);
/* Settles conflict `id` with a value typed as the tool takes it: NULL, 42,
 * 1.5, 'text', x'00ff' (anything else is text). */
ferry_code ferry_resolve_value(ferry_db* db, int64_t id, const char* literal);
/* Recomputes every hash and chain of the log: *ok is 1 or 0; *first_failure
 * (may be NULL; free with ferry_free) says what fails, "" when ok. */
ferry_code ferry_verify(ferry_db* db, int* ok, char** first_failure);
/* The fingerprint of the data this database holds, as JSON: the Merkle root of
 * its operations, the digest of its tracked tables and each chain's head. Two
 * replicas that hold the same operations and rows give the same. */
ferry_code ferry_fingerprint(ferry_db* db, char** json);
/* The fingerprint of one scope: the shared tables and chains with `scope`'s
 * (format4.md §12.7), equal on devices that hold the same of them. */
ferry_code ferry_fingerprint_scope(ferry_db* db, const char* scope, char** json);
/* This device's public key (128 hex digits) and its fingerprint, the short
 * string people compare by voice; each may be NULL, free with ferry_free. */
ferry_code ferry_identity(ferry_db* db, char** public_key, char** fingerprint);
/* Gives this database a new device identity and key pair: the way on after an
 * import refused a bundle because another database uses this one's identity (a
 * restored backup, a copied file; status's "identity_reused" says so). What it
 * did, as JSON in *json (may be NULL; free with ferry_free). ferry_device_id
 * returns the new id afterwards. */
ferry_code ferry_reidentify(ferry_db* db, char** json);

/* Trust (bundle_format/README.md §14), as `ferry trust DB ...` does it. The
 * devices whose keys are known, as a JSON array in *json. */
ferry_code ferry_trust_list(ferry_db* db, char** json);
/* Accepts `device`'s operations signed with `key` (the 128 hex digits its
 * ferry_identity gives, or the first 64); `name` may be NULL. Replacing a key
 * under which operations of the device were admitted here is FERRY_REFUSED
 * unless `forget` is non-zero: they are then forgotten as not the device's.
 * What it did, as JSON in *json (may be NULL; free with ferry_free). */
ferry_code ferry_trust_add(ferry_db* db, const char* device, const char* key, const char* name, int forget,
                           char** json);
/* Refuses `device`'s operations from now on, also when others relay them. */
ferry_code ferry_trust_remove(ferry_db* db, const char* device);
/* Sets the trust policy: "strict" (only added devices) or "tofu" (trust on first use). */
ferry_code ferry_trust_policy(ferry_db* db, const char* policy);
/* The fleet (bundle_format/README.md §17), as `ferry fleet DB ...` does it.
 * Each writes the fleet as `ferry fleet DB list --json` prints it (grant and
 * revoke: the grant written) in *json, which may be NULL for all but
 * ferry_fleet; free it with ferry_free. init: this device administers a new
 * fleet. join: `administrator` (its device id) and `key` (its 128 hex digits)
 * are pinned as this database's administrator; `name` may be NULL. grant
 * (administrator only): `device` may change the shared tables if
 * `write_shared` is non-zero, else nothing. revoke: a grant of nothing. admit
 * (administrator only): what the devices of `history` ("DEVICE-ID:SEQ,...")
 * wrote up to there is allowed, whatever their grants. */
ferry_code ferry_fleet(ferry_db* db, char** json);
ferry_code ferry_fleet_init(ferry_db* db, char** json);
ferry_code ferry_fleet_join(ferry_db* db, const char* administrator, const char* key, const char* name, char** json);
ferry_code ferry_fleet_grant(ferry_db* db, const char* device, int write_shared, char** json);
/* A grant of scopes (format4.md §12.3): `read`, `write` and `relay` are
 * NULL-terminated lists of scope names (NULL: none), "" the shared tables,
 * "*" every scope; writing a scope includes reading it. */
ferry_code ferry_fleet_grant_scopes(ferry_db* db, const char* device, const char* const* read, const char* const* write,
                                    const char* const* relay, char** json);
ferry_code ferry_fleet_revoke(ferry_db* db, const char* device, char** json);
ferry_code ferry_fleet_admit(ferry_db* db, const char* history, char** json);
/* Every device this database knows, with what it announced, as a JSON array. */
ferry_code ferry_peers(ferry_db* db, char** json);
/* The operations held, newest first, at most `limit` (0: all), as a JSON array. */
ferry_code ferry_log(ferry_db* db, size_t limit, char** json);
/* Every version of one row, oldest first, as a JSON array: `key` holds the
 * `key_count` values of its primary key, each a literal as ferry_resolve_value
 * takes it (42, 'text', x'00ff'...). */
ferry_code ferry_history(ferry_db* db, const char* table, const char* const* key, size_t key_count, char** json);
/* Writes `table` as it was at `when` (a UTC time "2026-12-01T10:00:00Z" or a
 * clock "DEVICE-ID:SEQ,...") into a new database at `path`; what it wrote as
 * JSON in *json (may be NULL; free with ferry_free). */
ferry_code ferry_as_of(ferry_db* db, const char* table, const char* when, const char* path, char** json);
/* The whole exchange through a folder several devices share (a USB stick, a
 * shared drive, a mail folder), as `ferry sync DB FOLDER` does it
 * (include/ferry/sync.h, bundle_format/README.md §18): imports every bundle
 * there this device can use and has not imported, writes for each peer what it
 * lacks (`max_size` bytes at most a file, in parts; 0: FAT32's 4 GiB - 1), and
 * deletes what no device needs any more. What it did with each file, as the
 * tool's --json prints it, in *json (may be NULL; free with ferry_free), set
 * whenever the run took place. Unlike the other calls, a code other than
 * FERRY_OK does not mean nothing changed: each import is a transaction of its
 * own, and the code and ferry_errmsg are those of the first file refused (a
 * damaged bundle, left in the folder); the other files were still handled,
 * unless the code is FERRY_DATABASE or FERRY_INTERNAL, which stopped the run
 * there. Running it again finishes the work. */
ferry_code ferry_sync(ferry_db* db, const char* folder, uint64_t max_size, char** json);

/* This library's version, "MAJOR.MINOR.PATCH"; static, never freed. */
const char* ferry_version(void);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif
#ifdef __cplusplus
}
#endif

#endif /* FERRY_FERRY_H */
