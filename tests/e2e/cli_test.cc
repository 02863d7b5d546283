// The ferry tool as a person or a script meets it: exit codes, messages that
// say what and where, JSON keys, and every command of the README's walkthrough.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "e2e/cli.h"
#include "util/utf8.h"

using nlohmann::json;
using test::Cli;
using test::kNotes;
using test::prepared;

TEST_CASE("every command of the README walkthrough works as written", "[e2e][readme]") {
  Cli ferry;
  const std::size_t commands = test::run_readme(ferry, "## A five-minute walkthrough").size();
  CHECK(commands >= 20);
  CHECK(test::dump(ferry.dir.file("office.db"), "notes") == test::dump(ferry.dir.file("laptop.db"), "notes"));
  CHECK(test::count(ferry.dir.file("office.db"), "SELECT count(*) FROM ferry_conflicts WHERE closed_ms IS NULL") == 0);
}

TEST_CASE("usage errors exit 2 with a one-line hint", "[e2e]") {
  Cli ferry;
  CHECK(ferry("fly away").status == 2);
  CHECK(ferry("export").status == 2);
  prepared(ferry, "a.db", "a");
  const auto no_peer = ferry("export a.db -o x.ferry");
  CHECK(no_peer.status == 2);
  CHECK_THAT(no_peer.out, Catch::Contains("--peer") && Catch::Contains("--all"));
  const auto missing = ferry("status nowhere.db");
  CHECK(missing.status == 2);
  CHECK_THAT(missing.out, Catch::StartsWith("ferry: nowhere.db: no such database") && Catch::Contains("ferry init"));
  const auto table = ferry("track a.db nope");
  CHECK(table.status == 2);
  CHECK_THAT(table.out, Catch::Contains("no table named 'nope'"));
  for (const char* verb : {"init", "track", "untrack", "status", "export", "import", "inspect", "verify", "conflicts",
                           "resolve", "log", "peers"}) {
    INFO(verb);
    CHECK(ferry(std::string(verb) + " --help").status == 0);
  }
}

TEST_CASE("a damaged bundle exits 3, a refused one 4, each naming the file", "[e2e]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  ferry.sql("b.db", "CREATE TABLE other(id INTEGER PRIMARY KEY)");
  REQUIRE(ferry("init b.db").status == 0);
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 't', 'b')");
  REQUIRE(ferry("export a.db --all -o good.ferry").status == 0);
  auto bytes = test::read_file(ferry.dir.file("good.ferry"));
  bytes.resize(bytes.size() / 2);
  test::write_file(ferry.dir.file("half.ferry"), bytes);

  const auto damaged = ferry("import b.db half.ferry");
  CHECK(damaged.status == 3);
  CHECK_THAT(damaged.out, Catch::StartsWith("ferry: half.ferry: is truncated"));
  CHECK(ferry("verify half.ferry").status == 3);
  const auto refused = ferry("import b.db good.ferry");
  CHECK(refused.status == 4);
  CHECK_THAT(refused.out, Catch::Contains("good.ferry: writes table 'notes'") && Catch::Contains("ferry track"));
  CHECK(refused.out.find("std::") == std::string::npos);
}

TEST_CASE("a locked or read-only database exits 5 and says why", "[e2e]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  SECTION("locked by another writer") {
    const std::string db = ferry.dir.file("a.db");
    // The holder says when it has the lock (a file appears), however slowly a loaded machine starts it.
    const auto r = test::run("cd " + test::shell_quote(ferry.dir.path()) +
                             "; python3 -c \"import sqlite3, time; c = sqlite3.connect('" + db +
                             "', isolation_level=None); c.execute('BEGIN IMMEDIATE'); open('holding', 'w').close(); "
                             "time.sleep(3)\" & for i in $(seq 300); do [ -e holding ] && break; sleep 0.05; done; "
                             "FERRY_BUSY_TIMEOUT_MS=100 " FERRY_BINARY " status a.db; code=$?; wait; exit $code");
    CHECK(r.status == 5);
    CHECK_THAT(r.out, Catch::Contains("another program holds the database"));
  }
  SECTION("read-only") {
    REQUIRE(::chmod(ferry.dir.path().c_str(), 0755) == 0);  // Another user may enter the folder...
    REQUIRE(::chmod(ferry.dir.file("a.db").c_str(), 0444) == 0);  // ...but not write the database.
    const std::string as_nobody = "cd " + test::shell_quote(ferry.dir.path()) +
                                  " && setpriv --reuid=65534 --regid=65534 --clear-groups " FERRY_BINARY " ";
    const auto r = test::run(as_nobody + "export a.db --all -o /nonexistent/x.ferry || (echo exit=$?)");
    if (r.out.find("setpriv") != std::string::npos) {
      WARN("setpriv unavailable; read-only case not run");
    } else {
      CHECK_THAT(r.out, Catch::Contains("exit=5"));
      CHECK_THAT(r.out, Catch::StartsWith("ferry: a.db: is read-only"));
      // What only reads works on a database it cannot write.
      const auto status = test::run(as_nobody + "status a.db");
      CHECK(status.status == 0);
      CHECK_THAT(status.out, Catch::Contains("operations 0"));
    }
  }
}

TEST_CASE("JSON output carries the documented keys", "[e2e][json]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  prepared(ferry, "b.db", "b");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 't', x'00ff')");
  const json init = json::parse(ferry("init a.db --json").out);
  CHECK(init["device"]["id"].get<std::string>().size() == 36);
  CHECK(init["device"]["name"] == "a");
  const json ex = json::parse(ferry("export a.db --all -o x.ferry --json").out);
  CHECK(ex["operations"] == 1);
  const json inspect = json::parse(ferry("inspect x.ferry --json").out);
  for (const char* key : {"bundle_id", "exporter", "clock", "ranges", "operations", "format_version"})
    CHECK(inspect.contains(key));
  CHECK(inspect["format_version"] == "4.0");
  const json imp = json::parse(ferry("import b.db x.ferry --json").out);
  for (const char* key : {"applied", "duplicates", "pending", "conflicts"}) CHECK(imp.contains(key));
  CHECK(imp["applied"] == 1);
  const json status = json::parse(ferry("status b.db --json").out);
  for (const char* key : {"device", "clock", "tables", "operations", "pending", "conflicts_open", "peers"})
    CHECK(status.contains(key));
  CHECK(status["clock"][init["device"]["id"].get<std::string>()] == 1);
  const json log = json::parse(ferry("log b.db --json").out);
  REQUIRE(log.size() == 1);
  CHECK(log[0]["columns"]["body"]["blob"] == "00ff");
  const json verify = json::parse(ferry("verify b.db --json").out);
  CHECK(verify["ok"] == true);
  CHECK(json::parse(ferry("conflicts b.db --json").out).is_array());
  CHECK(json::parse(ferry("peers b.db --json").out).size() == 2);
  const json fa = json::parse(ferry("fingerprint a.db --json").out), fb = json::parse(ferry("fingerprint b.db --json").out);
  CHECK(fa["operations"]["count"] == 1);
  CHECK(fa["operations"]["root"] == fb["operations"]["root"]);
  CHECK(fa["state"] == fb["state"]);
  CHECK(fa["heads"].size() == 1);
}

TEST_CASE("trust: a stranger exits 6 under strict until added, keys and fingerprints are shown", "[e2e][trust]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  prepared(ferry, "b.db", "b");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 't', 'x')");
  REQUIRE(ferry("export a.db --all -o a.ferry").status == 0);
  const json a = json::parse(ferry("status a.db --json").out);
  const std::string id = a["device"]["id"], key = a["device"]["public_key"], fingerprint = a["device"]["fingerprint"];
  CHECK(key.size() == 128);
  CHECK_THAT(ferry("inspect a.ferry").out, Catch::Contains("signed by  key " + fingerprint));

  CHECK(ferry("trust b.db policy strict").status == 0);
  const auto refused = ferry("import b.db a.ferry");
  CHECK(refused.status == 6);
  CHECK_THAT(refused.out, Catch::Contains("a.ferry") && Catch::Contains(fingerprint) &&
                              Catch::Contains("ferry trust b.db add " + id + " " + key));
  CHECK(ferry("trust b.db add " + id + " not-a-key").status == 2);
  CHECK(ferry("trust b.db add " + id + " " + key + " --name a").status == 0);
  CHECK(ferry("import b.db a.ferry").status == 0);
  const json listed = json::parse(ferry("trust b.db list --json").out);
  REQUIRE(listed.size() == 2);
  CHECK(listed[1]["trust"] == "added");
  CHECK(listed[1]["fingerprint"] == fingerprint);

  CHECK(ferry("trust b.db remove a").status == 0);
  ferry.sql("a.db", "INSERT INTO notes VALUES(2, 't', 'y')");
  REQUIRE(ferry("export a.db --all -o a2.ferry").status == 0);
  CHECK(ferry("import b.db a2.ferry").status == 6);
  CHECK_THAT(ferry("peers b.db").out, Catch::Contains("NOT trusted (removed)"));
}

TEST_CASE("export --encrypt-for writes a bundle only the recipient reads, inspect shows only the recipient", "[e2e][trust]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  prepared(ferry, "b.db", "b");
  prepared(ferry, "c.db", "c");
  REQUIRE(ferry("export b.db --all -o b.ferry").status == 0);
  REQUIRE(ferry("import a.db b.ferry").status == 0);  // a learns b's encryption key.
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'secret', 'x')");
  const json ex = json::parse(ferry("export a.db --peer b --encrypt-for b -o for-b.ferry --json").out);
  const std::string b_id = json::parse(ferry("status b.db --json").out)["device"]["id"];
  CHECK(ex["encrypted_for"] == b_id);
  const json inspect = json::parse(ferry("inspect for-b.ferry --json").out);
  CHECK(inspect["encrypted_for"] == b_id);
  CHECK_FALSE(inspect.contains("exporter"));
  const auto other = ferry("import c.db for-b.ferry");
  CHECK(other.status == 4);
  CHECK_THAT(other.out, Catch::Contains("encrypted for device " + b_id));
  CHECK(ferry("import b.db for-b.ferry").status == 0);
  CHECK(test::dump(ferry.dir.file("b.db"), "notes") == test::dump(ferry.dir.file("a.db"), "notes"));
  CHECK(ferry("export a.db --all --encrypt-for nobody -o x.ferry").status == 2);
}

TEST_CASE("diff, network, prove and check-proof compare devices that never meet", "[e2e][compare]") {
  Cli ferry;
  prepared(ferry, "a.db", "alpha");
  prepared(ferry, "b.db", "beta");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'milk', 'two litres')");
  REQUIRE(ferry("export a.db --all -o a.ferry").status == 0);
  REQUIRE(ferry("import b.db a.ferry").status == 0);
  CHECK(ferry("diff a.db b.db").status == 0);
  REQUIRE(ferry("fingerprint b.db -o b.fingerprint").status == 0);

  ferry.sql("a.db", "INSERT INTO notes VALUES(2, 'eggs', 'six'); UPDATE notes SET body = 'one litre' WHERE id = 1");
  auto d = ferry("diff a.db b.fingerprint");
  CHECK(d.status == 7);
  CHECK_THAT(d.out, Catch::Contains("alpha") && Catch::Contains("only in 1: 2-3") && Catch::Contains("table notes differs"));
  const auto dj = json::parse(ferry("diff b.fingerprint a.db --json").out);
  CHECK(dj["identical"] == false);
  CHECK(dj["devices"][0]["only_second"][0]["first"] == 2);

  auto n = ferry("network a.db b.db b.fingerprint");
  CHECK(n.status == 7);
  CHECK_THAT(n.out, Catch::Contains("b.db (beta) and b.fingerprint (beta) agree") && Catch::Contains("lacks alpha"));
  CHECK(ferry("network a.db a.db").status == 0);
  CHECK_THAT(ferry("diff a.db nowhere.db").out, Catch::Contains("nowhere.db: no such file"));

  const auto log = json::parse(ferry("log a.db --json").out);
  const std::string op = log[1]["id"];
  const auto proof = json::parse(ferry("prove a.db " + op + " -o op.proof --json").out);
  const std::string root = proof["root"];
  CHECK(ferry("check-proof " + root + " op.proof").status == 0);
  CHECK(ferry("check-proof '" + root.substr(0, 4) + " " + root.substr(4, 16) + "' op.proof").status == 0);
  std::string tampered = proof["proof"];
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  auto bad = ferry("check-proof " + root + " " + tampered);
  CHECK(bad.status == 3);
  CHECK_THAT(bad.out, Catch::Contains("does not lead to root"));
  const auto other_root = json::parse(ferry("fingerprint b.db --json").out)["operations"]["root"].get<std::string>();
  CHECK(ferry("check-proof " + other_root + " op.proof").status == 3);
  CHECK(ferry("check-proof 12ab op.proof").status == 2);
  auto unwritable = ferry("prove a.db " + op + " -o no-such-folder/op.proof");  // Whole or not at all.
  CHECK(unwritable.status != 0);
  CHECK_THAT(unwritable.out, Catch::Contains("no-such-folder/op.proof: cannot write the proof"));
  CHECK(ferry("prove a.db " + op + " -o op.proof").status == 0);  // Over the old one.
  CHECK(ferry("check-proof " + root + " op.proof").status == 0);
  CHECK(test::run("cd " + test::shell_quote(ferry.dir.path()) + " && ls op.proof*").out == "op.proof\n");  // No temp file.
}

TEST_CASE("history shows every version of a row, as-of copies a table as it was", "[e2e][history]") {
  Cli ferry;
  prepared(ferry, "a.db", "alpha");
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'milk', 'two litres')");
  const auto first = json::parse(ferry("log a.db --json").out)[0];
  const std::string then = first["time"];
  const std::string clock = json::parse(ferry("status a.db --json").out)["device"]["id"].get<std::string>() + ":1";
  ferry.sql("a.db", "UPDATE notes SET body = 'one litre' WHERE id = 1; DELETE FROM notes WHERE id = 1;"
                    "INSERT INTO notes VALUES(1, 'oat milk', NULL)");
  auto h = ferry("history a.db notes 1");
  CHECK(h.status == 0);
  CHECK_THAT(h.out, Catch::Contains("body='two litres'") && Catch::Contains("body='one litre'") &&
                        Catch::Contains("(row deleted)") && Catch::Contains("title='oat milk'"));
  const auto hj = json::parse(ferry("history a.db notes 1 --json").out);
  REQUIRE(hj.size() == 4);
  CHECK(hj[2]["exists"] == false);
  CHECK(hj[3]["values"]["title"] == "oat milk");
  CHECK_THAT(ferry("history a.db notes 1 --at " + then).out, Catch::Contains("body='two litres'"));
  CHECK_THAT(ferry("history a.db notes 1 --at " + clock).out, Catch::Contains("body='two litres'"));
  CHECK_THAT(ferry("history a.db notes 1 --at 2000-01-01T00:00:00Z").out, Catch::Contains("did not exist"));

  REQUIRE(ferry("as-of a.db notes --at " + clock + " -o then.db").status == 0);
  CHECK(test::count(ferry.dir.file("then.db"), "SELECT count(*) FROM notes WHERE body = 'two litres'") == 1);
  auto again = ferry("as-of a.db notes --at " + clock + " -o then.db");
  CHECK(again.status == 4);
  CHECK_THAT(again.out, Catch::Contains("then.db: already exists"));
  auto unknown = ferry("history a.db nope 1");
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.out, Catch::Contains("never tracked a table called 'nope'"));
  CHECK(ferry("history a.db notes 1 --at yesterday").status == 2);
}

TEST_CASE("a restored database exits 4 at the import that shows it, says so in status, and reidentify mends it",
          "[e2e][identity]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  prepared(ferry, "b.db", "b");
  REQUIRE(ferry("export b.db --all -o hello.ferry").status == 0);
  REQUIRE(ferry("import a.db hello.ferry").status == 0);
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'kept', '')");
  REQUIRE(ferry("export a.db --peer b -o a1.ferry").status == 0);
  REQUIRE(ferry("import b.db a1.ferry").status == 0);
  test::write_file(ferry.dir.file("backup.db"), test::read_file(ferry.dir.file("a.db")));
  ferry.sql("a.db", "INSERT INTO notes VALUES(2, 'lost with the disk', '')");
  REQUIRE(ferry("export a.db --peer b -o a2.ferry").status == 0);
  REQUIRE(ferry("import b.db a2.ferry").status == 0);
  // The disk dies; the backup comes back (with its key file, as a backup of the folder would).
  test::write_file(ferry.dir.file("a.db"), test::read_file(ferry.dir.file("backup.db")));
  ferry.sql("a.db", "INSERT INTO notes VALUES(3, 'written after the restore', '')");
  REQUIRE(ferry("status a.db").status == 0);  // Seals it as a's operation 2: the number a already used elsewhere.
  REQUIRE(ferry("export b.db --peer a -o b1.ferry").status == 0);

  const auto refused = ferry("import a.db b1.ferry");
  CHECK(refused.status == 4);
  CHECK_THAT(refused.out, Catch::StartsWith("ferry: b1.ferry: its operation 2 of this device differs") &&
                              Catch::Contains("ferry reidentify a.db"));
  CHECK_THAT(ferry("status a.db").out, Catch::Contains("STOPPED") && Catch::Contains("ferry reidentify a.db"));
  CHECK(json::parse(ferry("status a.db --json").out)["identity_reused"].is_string());
  CHECK(ferry("export a.db --peer b -o no.ferry").status == 4);

  const auto mended = ferry("reidentify a.db --json");
  REQUIRE(mended.status == 0);
  const json r = json::parse(mended.out);
  const std::string id = r["device"]["id"];
  CHECK(r["previous"]["head"] == 1);
  CHECK(r["reissued"] == 1);  // Row 3 travels as the new identity's operation 1.
  CHECK(r["evidence"].is_string());
  CHECK(json::parse(ferry("status a.db --json").out)["identity_reused"].is_null());
  REQUIRE(ferry("export a.db --peer b -o a3.ferry").status == 0);
  REQUIRE(ferry("import b.db a3.ferry").status == 0);
  REQUIRE(ferry("export b.db --peer " + id + " -o b2.ferry").status == 0);
  REQUIRE(ferry("import a.db b2.ferry").status == 0);
  CHECK(test::count(ferry.dir.file("a.db"), "SELECT count(*) FROM notes") == 3);
  CHECK(ferry("diff a.db b.db").status == 0);
  const auto ambiguous = ferry("export b.db --peer a -o b3.ferry");  // Two devices called a, now.
  CHECK(ambiguous.status == 2);
  CHECK_THAT(ambiguous.out, Catch::Contains(id));
}

TEST_CASE("a device name another device chose is printed with its control characters escaped", "[e2e][hostile]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  ferry.sql("b.db", kNotes);
  {
    auto b = ferry::Engine::init(ferry.dir.file("b.db"), "clinic\x1b]0;owned\x07\x1b[2J");  // Retitles, then clears, a terminal.
    b.track("notes");
  }
  ferry.sql("b.db", "INSERT INTO notes VALUES(1, 'from b', '')");
  REQUIRE(ferry("export b.db --all -o b.ferry").status == 0);
  const std::string escaped = "clinic\\x1b]0;owned\\x07\\x1b[2J";
  for (const char* command : {"import a.db b.ferry", "status a.db", "peers a.db", "trust a.db list",
                                     "inspect b.ferry", "history a.db notes 1", "diff a.db b.db"}) {
    const auto out = ferry(command).out;
    INFO(command << " printed: " << out);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find('\x07') == std::string::npos);
    CHECK_THAT(out, Catch::Contains(escaped));
  }
  CHECK(json::parse(ferry("status a.db --json").out)["peers"].dump().find("\\u001b") != std::string::npos);  // JSON keeps it, escaped.
}

TEST_CASE("values another device wrote are printed by log, history and conflicts with nothing a terminal acts on",
          "[e2e][hostile]") {
  Cli ferry;
  prepared(ferry, "a.db", "a");
  prepared(ferry, "b.db", "b");
  // A C1 control (CSI, as UTF-8), bytes that are not UTF-8, and a three-byte character across the 60th byte.
  const std::string hostile = "\xc2\x9b" "2J\xff\xfe" + std::string(53, 'x') + "\xe2\x82\xac" + "tail";
  ferry.sql("a.db", "INSERT INTO notes VALUES(1, 'mine', '')");
  ferry.sql("b.db", "INSERT INTO notes VALUES(1, CAST(x'" + [&] {
    std::string hex;
    for (unsigned char c : hostile) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
    return hex;
  }() + "' AS TEXT), '')");
  REQUIRE(ferry("export b.db --all -o b.ferry").status == 0);
  REQUIRE(ferry("import a.db b.ferry").status == 0);
  for (const char* command : {"log a.db", "history a.db notes 1", "conflicts a.db"}) {
    const auto out = ferry(command).out;
    INFO(command << " printed: " << out);
    CHECK(out.find("\xc2\x9b") == std::string::npos);
    CHECK(out.find('\xff') == std::string::npos);
    CHECK_THAT(out, Catch::Contains("\\xc2\\x9b2J\\xff\\xfe"));
    CHECK(ferry::util::is_utf8(out));
  }
}
