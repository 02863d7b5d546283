/* The C API from C (compiled as C99, not C++): a two-device round trip through
 * files, through memory and through a shared folder (ferry_sync), errors with
 * their messages, and two threads each syncing their own pair of databases at
 * once.
 *   capi_test DIR            runs the checks in the empty folder DIR
 *   capi_test DIR doorway    runs only the shared two-device scenario (doorways.sh) */
#include <ferry/ferry.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures = 0;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

#define OK(db, call)                                                                  \
  do {                                                                                \
    ferry_code rc_ = (call);                                                          \
    if (rc_ != FERRY_OK) {                                                            \
      fprintf(stderr, "%s:%d: %s failed (%d): %s\n", __FILE__, __LINE__, #call, (int)rc_, \
              ferry_errmsg(db));                                                      \
      ++failures;                                                                     \
    }                                                                                 \
  } while (0)

static void path_in(char* out, size_t n, const char* dir, const char* name) { snprintf(out, n, "%s/%s", dir, name); }

static void sql(const char* path, const char* statements) {
  sqlite3* db = NULL;
  char* error = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, statements, NULL, NULL, &error) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", path, error ? error : sqlite3_errmsg(db));
    ++failures;
  }
  sqlite3_free(error);
  sqlite3_close(db);
}

/* A device: the application table created, ferry prepared, the table tracked. */
static ferry_db* device(const char* dir, const char* name) {
  char path[4096];
  char file[256];
  ferry_db* db = NULL;
  snprintf(file, sizeof file, "%s.db", name);
  path_in(path, sizeof path, dir, file);
  sql(path, "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL, photo BLOB)");
  OK(db, ferry_init(path, name, &db));
  OK(db, ferry_track(db, "items", NULL));
  return db;
}

/* Exports everything `from` holds to DIR/NAME and imports it into `to`. */
static void send(ferry_db* from, ferry_db* to, const char* dir, const char* name) {
  char path[4096];
  ferry_export_options all;
  memset(&all, 0, sizeof all);
  all.all = 1;
  path_in(path, sizeof path, dir, name);
  OK(from, ferry_export(from, path, &all, NULL));
  OK(to, ferry_import(to, path, NULL, NULL, NULL));
}

/* The scenario every doorway runs (tests/embedding/doorways.sh compares the tables). */
static void scenario(const char* dir) {
  char a_path[4096], b_path[4096];
  ferry_db* a = device(dir, "a");
  ferry_db* b = device(dir, "b");
  path_in(a_path, sizeof a_path, dir, "a.db");
  path_in(b_path, sizeof b_path, dir, "b.db");
  sql(a_path, "INSERT INTO items VALUES(1, 'bolt', 0.1, x'00ff'), (2, 'nut', NULL, NULL)");
  sql(b_path, "INSERT INTO items VALUES(3, 'washer', 2.5, x'')");
  send(a, b, dir, "a1.ferry");
  send(b, a, dir, "b1.ferry");
  sql(b_path, "UPDATE items SET price = 0.2 WHERE id = 1");
  send(b, a, dir, "b2.ferry");
  ferry_close(a);
  ferry_close(b);
}

/* The integer the query `sql` gives on the database at `path`, or -1. */
static int int_query(const char* path, const char* sql) {
  sqlite3* db = NULL;
  sqlite3_stmt* st = NULL;
  int n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static int count_rows(const char* path) { return int_query(path, "SELECT count(*) FROM items"); }

static void round_trip_through_memory(const char* dir) {
  ferry_db* a = device(dir, "m-a");
  ferry_db* b = device(dir, "m-b");
  char a_path[4096], b_path[4096];
  void* data = NULL;
  size_t size = 0;
  ferry_export_options to_b;
  ferry_export_summary exported;
  ferry_import_summary imported;
  path_in(a_path, sizeof a_path, dir, "m-a.db");
  path_in(b_path, sizeof b_path, dir, "m-b.db");
  sql(a_path, "INSERT INTO items VALUES(1, 'in memory', 1.5, NULL)");
  memset(&to_b, 0, sizeof to_b);
  to_b.peer = ferry_device_id(b);
  OK(a, ferry_export_to_memory(a, &to_b, &data, &size, &exported));
  CHECK(exported.operations == 1);
  CHECK(size == exported.bytes && size > 0);
  CHECK(strlen(exported.bundle_id) == 36);
  OK(b, ferry_import_from_memory(b, data, size, NULL, NULL, &imported));
  CHECK(imported.applied == 1);
  CHECK(imported.newly_trusted == 1);
  ferry_free(data);
  CHECK(count_rows(b_path) == 1);
  ferry_close(a);
  ferry_close(b);
}

static void errors_carry_ferrys_message(const char* dir) {
  ferry_db* a = device(dir, "e-a");
  ferry_db* missing = NULL;
  char* json = NULL;
  int ok = 0;
  char* failure = NULL;
  char* key = NULL;
  char* fingerprint = NULL;
  CHECK(ferry_import(a, "/no/such/bundle.ferry", NULL, NULL, NULL) == FERRY_NOT_FOUND);
  CHECK(strstr(ferry_errmsg(a), "/no/such/bundle.ferry") != NULL);
  CHECK(ferry_track(a, "no_such_table", NULL) == FERRY_NOT_FOUND);
  CHECK(strstr(ferry_errmsg(a), "no_such_table") != NULL);
  CHECK(ferry_track(a, NULL, NULL) == FERRY_INVALID_ARGUMENT);
  CHECK(ferry_resolve(a, 42, 0) == FERRY_NOT_FOUND);
  OK(a, ferry_status(a, &json));  /* A success clears the message. */
  CHECK(strcmp(ferry_errmsg(a), "") == 0);
  CHECK(json != NULL && strstr(json, "\"fingerprint\"") != NULL);
  ferry_free(json);
  OK(a, ferry_conflicts(a, &json));
  CHECK(json != NULL && strcmp(json, "[]") == 0);
  ferry_free(json);
  OK(a, ferry_verify(a, &ok, &failure));
  CHECK(ok == 1 && failure != NULL && failure[0] == '\0');
  ferry_free(failure);
  OK(a, ferry_fingerprint(a, &json));
  CHECK(json != NULL && strstr(json, "\"operations\":{\"count\":0") != NULL);
  ferry_free(json);
  OK(a, ferry_identity(a, &key, &fingerprint));
  CHECK(key != NULL && strlen(key) == 128);
  CHECK(fingerprint != NULL && strlen(fingerprint) == 24);
  ferry_free(key);
  ferry_free(fingerprint);
  {
    char before[37];
    snprintf(before, sizeof before, "%s", ferry_device_id(a));
    OK(a, ferry_reidentify(a, &json));  /* A new identity; the old one is in the JSON. */
    CHECK(json != NULL && strstr(json, before) != NULL && strstr(json, "\"evidence\":null") != NULL);
    CHECK(strcmp(ferry_device_id(a), before) != 0 && strstr(json, ferry_device_id(a)) != NULL);
    ferry_free(json);
  }
  CHECK(ferry_open("/no/such/dir/x.db", &missing) == FERRY_NOT_FOUND);
  CHECK(missing != NULL && strstr(ferry_errmsg(missing), "/no/such/dir/x.db") != NULL);
  CHECK(ferry_track(missing, "items", NULL) == FERRY_INVALID_ARGUMENT);  /* It still says why it failed. */
  CHECK(strstr(ferry_errmsg(missing), "/no/such/dir/x.db") != NULL);
  ferry_close(missing);
  ferry_close(a);
}

static void opens_an_apps_connection(const char* dir) {
  char path[4096];
  sqlite3* app = NULL;
  ferry_db* db = NULL;
  ferry_close(device(dir, "conn"));
  path_in(path, sizeof path, dir, "conn.db");
  CHECK(sqlite3_open(path, &app) == SQLITE_OK);
  OK(db, ferry_open_connection(app, &db));
  CHECK(ferry_device_id(db) != NULL && strlen(ferry_device_id(db)) == 36);
  ferry_close(db);
  sqlite3_close(app);
  CHECK(sqlite3_open(":memory:", &app) == SQLITE_OK);
  CHECK(ferry_open_connection(app, &db) == FERRY_INVALID_ARGUMENT);
  ferry_close(db);
  sqlite3_close(app);
}

/* Trust, peers, the log and the version, as the CLI has them. */
static void the_rest_of_the_cli(const char* dir) {
  ferry_db* office = device(dir, "t-office");
  ferry_db* clinic = device(dir, "t-clinic");
  char office_path[4096], bundle[4096];
  char* key = NULL;
  char* json = NULL;
  ferry_export_options all;
  memset(&all, 0, sizeof all);
  all.all = 1;
  path_in(office_path, sizeof office_path, dir, "t-office.db");
  path_in(bundle, sizeof bundle, dir, "t-office.ferry");
  sql(office_path, "INSERT INTO items VALUES(1, 'bolt', 0.1, NULL)");
  OK(office, ferry_export(office, bundle, &all, NULL));
  OK(clinic, ferry_trust_policy(clinic, "strict"));
  CHECK(ferry_import(clinic, bundle, NULL, NULL, NULL) == FERRY_UNTRUSTED);
  CHECK(ferry_trust_policy(clinic, "sometimes") == FERRY_INVALID_ARGUMENT);
  OK(office, ferry_identity(office, &key, NULL));
  OK(clinic, ferry_trust_add(clinic, ferry_device_id(office), key, "office", 0, &json));
  CHECK(json != NULL && strstr(json, "\"replaced\":false") != NULL);
  ferry_free(json);
  ferry_free(key);
  OK(clinic, ferry_import(clinic, bundle, NULL, NULL, NULL));
  OK(clinic, ferry_trust_list(clinic, &json));
  CHECK(json != NULL && strstr(json, "\"trust\":\"added\"") != NULL && strstr(json, "office") != NULL);
  ferry_free(json);
  OK(clinic, ferry_peers(clinic, &json));
  CHECK(json != NULL && strstr(json, ferry_device_id(office)) != NULL);
  ferry_free(json);
  OK(clinic, ferry_log(clinic, 1, &json));
  CHECK(json != NULL && strstr(json, "\"kind\":\"insert\"") != NULL);
  ferry_free(json);
  {
    const char* key_of_row[] = {"1"};
    char when[128], copy[4096];
    OK(clinic, ferry_history(clinic, "items", key_of_row, 1, &json));
    CHECK(json != NULL && strstr(json, "\"exists\":true") != NULL && strstr(json, "\"bolt\"") != NULL);
    ferry_free(json);
    snprintf(when, sizeof when, "%s:1", ferry_device_id(office));
    path_in(copy, sizeof copy, dir, "t-items-then.db");
    OK(clinic, ferry_as_of(clinic, "items", when, copy, &json));
    CHECK(json != NULL && strstr(json, "\"rows\":1") != NULL);
    ferry_free(json);
    CHECK(count_rows(copy) == 1);
    CHECK(ferry_history(clinic, "items", NULL, 1, &json) == FERRY_INVALID_ARGUMENT);
  }
  OK(clinic, ferry_trust_remove(clinic, ferry_device_id(office)));
  sql(office_path, "UPDATE items SET price = 0.2 WHERE id = 1");
  OK(office, ferry_export(office, bundle, &all, NULL));
  CHECK(ferry_import(clinic, bundle, NULL, NULL, NULL) == FERRY_UNTRUSTED);
  CHECK(strstr(ferry_errmsg(clinic), "removed") != NULL);
  CHECK(ferry_version() != NULL && strchr(ferry_version(), '.') != NULL);
  ferry_close(office);
  ferry_close(clinic);
}

/* A fleet: the administrator grants; a member without a grant keeps its
 * change back; a member's own grant lets it send; a non-administrator cannot grant. */
static void a_fleet(const char* dir) {
  ferry_db* hq = device(dir, "f-hq");
  ferry_db* member = device(dir, "f-member");
  char member_path[4096], hq_path[4096], bundle[4096];
  char* key = NULL;
  char* json = NULL;
  ferry_export_options all;
  memset(&all, 0, sizeof all);
  all.all = 1;
  path_in(member_path, sizeof member_path, dir, "f-member.db");
  path_in(hq_path, sizeof hq_path, dir, "f-hq.db");
  path_in(bundle, sizeof bundle, dir, "f.ferry");
  OK(hq, ferry_fleet_init(hq, NULL));
  OK(hq, ferry_identity(hq, &key, NULL));
  OK(member, ferry_fleet_join(member, ferry_device_id(hq), key, "hq", &json));
  CHECK(json != NULL && strstr(json, "\"started\":false") != NULL);
  ferry_free(json);
  ferry_free(key);
  OK(hq, ferry_export(hq, bundle, &all, NULL));
  OK(member, ferry_import(member, bundle, NULL, NULL, NULL));
  sql(member_path, "INSERT INTO items VALUES(1, 'held', NULL, NULL)");
  OK(member, ferry_status(member, &json));
  CHECK(json != NULL && strstr(json, "does not let it change shared tables") != NULL);
  ferry_free(json);
  CHECK(ferry_fleet_grant(member, ferry_device_id(hq), 1, NULL) == FERRY_REFUSED);
  CHECK(strstr(ferry_errmsg(member), "run this there") != NULL);
  OK(hq, ferry_fleet_grant(hq, ferry_device_id(member), 1, &json));
  CHECK(json != NULL && strstr(json, "\"write\":[\"\"]") != NULL);
  ferry_free(json);
  OK(hq, ferry_export(hq, bundle, &all, NULL));
  OK(member, ferry_import(member, bundle, NULL, NULL, NULL));
  OK(member, ferry_export(member, bundle, &all, NULL));
  OK(hq, ferry_import(hq, bundle, NULL, NULL, NULL));
  CHECK(count_rows(hq_path) == 1);
  OK(hq, ferry_fleet_revoke(hq, ferry_device_id(member), NULL));
  OK(hq, ferry_fleet(hq, &json));
  CHECK(json != NULL && strstr(json, "\"write\":[]") != NULL);
  ferry_free(json);
  CHECK(ferry_fleet(hq, NULL) == FERRY_INVALID_ARGUMENT);
  ferry_close(hq);
  ferry_close(member);
}

/* Scoped tables and grants of scopes: a member granted clinic 7 receives the
 * rows of 7 and never those of 8, and its fingerprint of 7 equals the office's. */
static void scopes(const char* dir) {
  char hq_path[4096], member_path[4096], bundle[4096];
  const char* const seven[] = {"7", NULL};
  char* key = NULL;
  char* json = NULL;
  char* other = NULL;
  ferry_db* hq = NULL;
  ferry_db* member = NULL;
  ferry_export_options for_member;
  path_in(hq_path, sizeof hq_path, dir, "s-hq.db");
  path_in(member_path, sizeof member_path, dir, "s-member.db");
  path_in(bundle, sizeof bundle, dir, "s.ferry");
  sql(hq_path, "CREATE TABLE visits(id INTEGER PRIMARY KEY, clinic INTEGER)");
  sql(member_path, "CREATE TABLE visits(id INTEGER PRIMARY KEY, clinic INTEGER)");
  OK(hq, ferry_init(hq_path, "s-hq", &hq));
  OK(member, ferry_init(member_path, "s-member", &member));
  OK(hq, ferry_track_scoped(hq, "visits", "clinic", NULL));
  OK(member, ferry_track_scoped(member, "visits", "clinic", NULL));
  CHECK(ferry_track_scoped(hq, "visits", NULL, NULL) == FERRY_INVALID_ARGUMENT);
  OK(hq, ferry_fleet_init(hq, NULL));
  OK(hq, ferry_identity(hq, &key, NULL));
  OK(member, ferry_fleet_join(member, ferry_device_id(hq), key, "hq", NULL));
  ferry_free(key);
  OK(hq, ferry_fleet_grant_scopes(hq, ferry_device_id(member), seven, NULL, NULL, &json));
  CHECK(json != NULL && strstr(json, "\"read\":[\"7\"]") != NULL);
  ferry_free(json);
  sql(hq_path, "INSERT INTO visits VALUES(1, 7), (2, 8)");
  memset(&for_member, 0, sizeof for_member);
  for_member.peer = ferry_device_id(member);
  OK(hq, ferry_export(hq, bundle, &for_member, NULL));
  OK(member, ferry_import(member, bundle, NULL, NULL, NULL));
  CHECK(int_query(member_path, "SELECT count(*) FROM visits") == 1);
  OK(hq, ferry_fingerprint_scope(hq, "7", &json));
  OK(member, ferry_fingerprint_scope(member, "7", &other));
  CHECK(json != NULL && other != NULL && strstr(json, "\"scope\":\"7\"") != NULL);
  CHECK(json != NULL && other != NULL && strstr(json, "\"state\"") != NULL &&
        strncmp(strstr(json, "\"state\""), strstr(other, "\"state\""), 75) == 0);
  ferry_free(json);
  ferry_free(other);
  ferry_close(hq);
  ferry_close(member);
}

/* While a peer still runs ferry 3.x: what is sealed after ferry_compat(3)
 * travels in a format 3 bundle; what was sealed for ferry 4 cannot, by name. */
static void seals_for_a_ferry3_peer(const char* dir) {
  ferry_db* bridge = device(dir, "c3-a");
  ferry_db* modern = device(dir, "c3-b");
  ferry_db* receiver = device(dir, "c3-c");
  char a_path[4096], b_path[4096], bundle[4096];
  int current = 0;
  ferry_export_options format3;
  ferry_import_summary imported;
  memset(&format3, 0, sizeof format3);
  format3.all = 1;
  format3.format = 3;
  path_in(a_path, sizeof a_path, dir, "c3-a.db");
  path_in(b_path, sizeof b_path, dir, "c3-b.db");
  path_in(bundle, sizeof bundle, dir, "c3.ferry");
  OK(bridge, ferry_compat(bridge, 0, &current));
  CHECK(current == 4);
  OK(bridge, ferry_compat(bridge, 3, &current));
  CHECK(current == 3);
  sql(a_path, "INSERT INTO items VALUES(1, 'for 3.x', NULL, NULL)");
  OK(bridge, ferry_export(bridge, bundle, &format3, NULL));
  CHECK(int_query(bundle, "SELECT format_major FROM ferry_bundle") == 3);
  OK(receiver, ferry_import(receiver, bundle, NULL, NULL, &imported));
  CHECK(imported.applied == 1 && imported.discarded == 0 && strcmp(imported.discarded_why, "") == 0);
  sql(b_path, "INSERT INTO items VALUES(2, 'for 4', NULL, NULL)");
  CHECK(ferry_export(modern, bundle, &format3, NULL) == FERRY_REFUSED);
  CHECK(strstr(ferry_errmsg(modern), "compat DB 3") != NULL);
  CHECK(ferry_compat(modern, 5, NULL) == FERRY_INVALID_ARGUMENT);
  CHECK(strstr(ferry_errmsg(modern), "not 5") != NULL);
  OK(bridge, ferry_compat(bridge, 4, NULL));
  OK(bridge, ferry_compat(bridge, 0, &current));
  CHECK(current == 4);
  ferry_close(bridge);
  ferry_close(modern);
  ferry_close(receiver);
}

/* An operation left pending whose Lamport time proves impossible once its
 * predecessor arrives is discarded, and the summary says why. */
static void says_what_it_discarded(const char* dir) {
  ferry_db* a = device(dir, "d-a");
  ferry_db* c = device(dir, "d-c");
  char a_path[4096], first[4096], second[4096], since[128];
  ferry_export_options all, after_first;
  ferry_import_summary imported;
  memset(&all, 0, sizeof all);
  all.all = 1;
  path_in(a_path, sizeof a_path, dir, "d-a.db");
  path_in(first, sizeof first, dir, "d-first.ferry");
  path_in(second, sizeof second, dir, "d-second.ferry");
  sql(a_path, "INSERT INTO items VALUES(1, 'a1', NULL, NULL)");
  OK(a, ferry_export(a, first, &all, NULL));
  /* a's second operation jumps to the end of the Lamport counter; c gets it first, so it waits. */
  sql(a_path, "UPDATE ferry_meta SET value = 9223372036854775806 WHERE key = 'lamport'; "
              "INSERT INTO items VALUES(2, 'a2', NULL, NULL)");
  memset(&after_first, 0, sizeof after_first);
  snprintf(since, sizeof since, "%s:1", ferry_device_id(a));
  after_first.since = since;
  OK(a, ferry_export(a, second, &after_first, NULL));
  OK(c, ferry_import(c, second, NULL, NULL, &imported));
  CHECK(imported.pending == 1 && imported.discarded == 0);
  OK(c, ferry_import(c, first, NULL, NULL, &imported));
  CHECK(imported.applied == 1);
  CHECK(imported.discarded == 1);
  CHECK(imported.discarded_why != NULL && strstr(imported.discarded_why, "Lamport time 9223372036854775807") != NULL);
  CHECK(imported.discarded_why != NULL && strstr(imported.discarded_why, ferry_device_id(a)) != NULL);
  ferry_close(a);
  ferry_close(c);
}

/* Two devices that only run ferry_sync on one folder; a damaged file there is
 * named by the code and the message, and the rest is still done. */
static void syncs_through_a_folder(const char* dir) {
  ferry_db* a = device(dir, "s-a");
  ferry_db* b = device(dir, "s-b");
  char a_path[4096], b_path[4096], stick[4096], damaged[8192];
  char* json = NULL;
  FILE* f;
  int round;
  path_in(a_path, sizeof a_path, dir, "s-a.db");
  path_in(b_path, sizeof b_path, dir, "s-b.db");
  path_in(stick, sizeof stick, dir, "stick");
  CHECK(mkdir(stick, 0700) == 0);
  sql(a_path, "INSERT INTO items VALUES(1, 'carried', NULL, NULL)");
  OK(a, ferry_sync(a, stick, 0, &json)); /* a's introduction: it knows no one yet. */
  CHECK(json != NULL && strstr(json, "\"from-s-a-") != NULL && strstr(json, "\"error\":null") != NULL);
  ferry_free(json);
  for (round = 0; round < 2; ++round) {
    OK(b, ferry_sync(b, stick, 0, NULL));
    OK(a, ferry_sync(a, stick, 0, NULL));
  }
  OK(b, ferry_sync(b, stick, 0, NULL));
  CHECK(count_rows(b_path) == 1);

  sql(a_path, "INSERT INTO items VALUES(2, 'carried too', NULL, NULL)");
  OK(a, ferry_sync(a, stick, 0, NULL));
  path_in(damaged, sizeof damaged, stick, "to-s-b-damaged.ferry");
  f = fopen(damaged, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs("not a bundle at all", f);
    fclose(f);
  }
  CHECK(ferry_sync(b, stick, 0, &json) == FERRY_CORRUPT);
  CHECK(strstr(ferry_errmsg(b), "to-s-b-damaged.ferry") != NULL);
  CHECK(json != NULL && strstr(json, "\"error\":\"corrupt\"") != NULL);
  ferry_free(json);
  CHECK(count_rows(b_path) == 2); /* The other bundle was imported all the same. */

  json = (char*)"unchanged";
  CHECK(ferry_sync(b, "/no/such/stick", 0, &json) == FERRY_NOT_FOUND);
  CHECK(json == NULL && strstr(ferry_errmsg(b), "/no/such/stick") != NULL);
  CHECK(ferry_sync(b, NULL, 0, NULL) == FERRY_INVALID_ARGUMENT);
  ferry_close(a);
  ferry_close(b);
}

static void* thread_scenario(void* dir) {
  scenario((const char*)dir);
  return NULL;
}

static void two_threads_two_databases(const char* dir) {
  char first[4096], second[4096];
  pthread_t t1, t2;
  path_in(first, sizeof first, dir, "thread-1");
  path_in(second, sizeof second, dir, "thread-2");
  CHECK(mkdir(first, 0700) == 0);
  CHECK(mkdir(second, 0700) == 0);
  pthread_create(&t1, NULL, thread_scenario, first);
  pthread_create(&t2, NULL, thread_scenario, second);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  strcat(first, "/a.db");
  strcat(second, "/a.db");
  CHECK(count_rows(first) == 3);
  CHECK(count_rows(second) == 3);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: capi_test DIR [doorway]\n");
    return 2;
  }
  if (argc > 2 && strcmp(argv[2], "doorway") == 0) {
    scenario(argv[1]);
  } else {
    char path[4096];
    scenario(argv[1]);
    path_in(path, sizeof path, argv[1], "a.db");
    CHECK(count_rows(path) == 3);
    round_trip_through_memory(argv[1]);
    errors_carry_ferrys_message(argv[1]);
    opens_an_apps_connection(argv[1]);
    the_rest_of_the_cli(argv[1]);
    seals_for_a_ferry3_peer(argv[1]);
    a_fleet(argv[1]);
    scopes(argv[1]);
    says_what_it_discarded(argv[1]);
    syncs_through_a_folder(argv[1]);
    two_threads_two_databases(argv[1]);
  }
  if (failures) fprintf(stderr, "%d checks failed\n", failures);
  return failures ? 1 : 0;
}
