// Trust: every operation is vouched for by its origin's key, every bundle by its
// exporter's; a forged, re-signed, unknown, removed or forked history is refused
// whole, naming the device, and the database is untouched.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "bundle/format.h"
#include "support/impostor.h"
#include "support/refusal.h"
#include "support/reseal.h"
#include "support/support.h"
#include "trust/keys.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

trust::KeyPair keys_of(const Replica& r) { return trust::KeyPair::load(trust::key_path(r.path), r.engine.device_id()); }

std::string bundle_of(Replica& from, const test::TempDir& dir, const std::string& name) {
  const std::string path = dir.file(name);
  test::export_all(from, path);
  return path;
}

// Imports `bundle` into `to` expecting a refusal of kind `code` that changes nothing and names the bundle.
Error refusal(Replica& to, const std::string& bundle, Errc code) {
  const Error e = test::expect_refusal(to, bundle, code);
  CHECK_THAT(e.what(), Catch::Contains(bundle));
  if (code != Errc::corrupt) CHECK_THAT(e.what(), Catch::Contains("Nothing was imported"));
  return e;
}

std::string blob_hex(const std::uint8_t* p, std::size_t n) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += std::string{digits[p[i] >> 4], digits[p[i] & 15]};
  return out;
}

struct Devices {
  test::TempDir dir;
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};
  Replica c{dir, "c", kSchema};
  Devices() { a.sql("INSERT INTO items VALUES(1, 'from a'), (2, 'also a')"); }
};

}  // namespace

TEST_CASE("a device's keys round-trip through its private key file", "[trust]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema);
  const trust::KeyPair keys = keys_of(a);
  CHECK(trust::to_text(keys.identity()) == a.engine.public_key());
  struct stat st;
  REQUIRE(::stat(trust::key_path(a.path).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const auto signature = keys.sign("message");
  CHECK(trust::verify(keys.identity().sign, "message", signature));
  CHECK_FALSE(trust::verify(keys.identity().sign, "messagE", signature));
  Signature flipped = signature;
  flipped[10] ^= 1;
  CHECK_FALSE(trust::verify(keys.identity().sign, "message", flipped));
  CHECK_FALSE(trust::verify(PublicKey{}, "message", signature));  // All-zero key.
  CHECK_FALSE(trust::verify(keys.identity().sign, "message", Signature{}));
  CHECK(trust::parse_identity(a.engine.public_key()) == keys.identity());
  CHECK_FALSE(trust::parse_identity("zz" + a.engine.public_key().substr(2)));
}

TEST_CASE("a key file that others may read, or another device's, or none, is refused by name", "[trust]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema);
  Replica b(dir, "b", kSchema);
  const std::string key = trust::key_path(a.path);
  ExportOptions all;
  all.all = true;
  std::string expected;
  SECTION("readable by others") {
    ::chmod(key.c_str(), 0644);
    expected = "chmod 600 " + key;
  }
  SECTION("another device's key") {
    test::write_file(key, test::read_file(trust::key_path(b.path)));
    expected = "holds the key of device " + b.engine.device_id().to_string();
  }
  SECTION("missing") {
    ::unlink(key.c_str());
    expected = "the private key of this device is missing";
  }
  SECTION("damaged") {
    test::write_file(key, {'x', '\n'});
    expected = "is not a ferry device key file";
  }
  auto reopened = Engine::open(a.path);
  CHECK_THROWS_WITH(reopened.export_bundle(dir.file("x.ferry"), all), Catch::Contains(key) && Catch::Contains(expected));
  CHECK(::access(dir.file("x.ferry").c_str(), F_OK) != 0);
}

TEST_CASE("no private key reaches the database or a bundle", "[trust]") {
  Devices d;
  const auto file = test::read_file(trust::key_path(d.a.path));
  const std::string text(file.begin(), file.end());
  const std::string hex = text.substr(text.find("ed25519 ") + 8, 64);
  const std::string box = text.substr(text.find("x25519 ") + 7, 64);
  const std::string bundle = bundle_of(d.a, d.dir, "a.ferry");
  for (const auto& secret : {hex, box}) {
    std::vector<std::uint8_t> raw;
    for (std::size_t i = 0; i < 64; i += 2) raw.push_back(static_cast<std::uint8_t>(std::stoi(secret.substr(i, 2), nullptr, 16)));
    for (const auto& path : {d.a.path, d.a.path + "-wal", bundle}) {
      INFO(path);
      const auto bytes = test::read_file(path);
      CHECK(std::search(bytes.begin(), bytes.end(), raw.begin(), raw.end()) == bytes.end());
      const std::string upper = blob_hex(raw.data(), raw.size());
      CHECK(std::string(bytes.begin(), bytes.end()).find(secret) == std::string::npos);
      CHECK(test::count(d.a.path, "SELECT count(*) FROM ferry_meta WHERE hex(value) LIKE '%" + upper + "%'") == 0);
    }
  }
}

TEST_CASE("a bundle whose signature does not match is refused as damaged", "[trust]") {
  Devices d;
  const std::string good = bundle_of(d.a, d.dir, "good.ferry");
  const std::string path = d.dir.file("bad.ferry");
  test::write_file(path, test::read_file(good));
  std::string sql;
  SECTION("a byte of the signature changed") {
    sql = "UPDATE ferry_bundle SET signature = CAST(substr(signature, 1, 20) || x'ff' || substr(signature, 22) AS BLOB)";
  }
  SECTION("the signature of another bundle of the same device") {
    const std::string other = bundle_of(d.a, d.dir, "other.ferry");
    sql = "UPDATE ferry_bundle SET signature = (SELECT signature FROM o.ferry_bundle)";
    test::exec(path, "ATTACH " + test::shell_quote(other) + " AS o; " + sql);
    sql.clear();
  }
  SECTION("an all-zero signature") { sql = "UPDATE ferry_bundle SET signature = zeroblob(64)"; }
  SECTION("another device's key as signer") {
    sql = "UPDATE ferry_bundle SET signer_key = x'" + d.b.engine.public_key().substr(0, 64) + "'";
  }
  if (!sql.empty()) test::exec(path, sql);
  // A signature that fails against the key the bundle itself names forges nothing: the bytes were changed.
  const Error e = refusal(d.c, path, Errc::corrupt);
  CHECK_THAT(e.what(), Catch::Contains("signature does not verify") || Catch::Contains("content hash does not match"));
  CHECK_FALSE(verify_bundle(path).ok);
  (void)d.c.engine.import_bundle(good);  // The genuine bundle still imports.
  CHECK(d.c.dump("items") == d.a.dump("items"));
}

TEST_CASE("operations whose head signature does not match their origin's key are refused", "[trust]") {
  Devices d;
  test::exchange(d.a, d.b, d.dir);  // b now holds a's operations and a's signature of them.
  d.b.sql("INSERT INTO items VALUES(3, 'from b')");
  const std::string relayed = bundle_of(d.b, d.dir, "relayed.ferry");
  const std::string a_id = d.a.engine.device_id().to_string();
  const std::string a_chain = "(SELECT number FROM ferry_chains WHERE device <> (SELECT exporter FROM ferry_bundle))";
  const std::string path = d.dir.file("bad.ferry");
  test::write_file(path, test::read_file(relayed));
  SECTION("a byte of a's head signature changed on the way: damage") {
    test::exec(path, "UPDATE ferry_ranges SET head_signature = CAST(substr(head_signature, 1, 5) || x'00' || "
                     "substr(head_signature, 7) AS BLOB) WHERE chain = " + a_chain);
    const Error e = refusal(d.c, path, Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains("content hash does not match"));
  }
  SECTION("a's operations claimed under c's key on the way: damage") {
    test::exec(path, "UPDATE ferry_ranges SET origin_key = x'" + d.c.engine.public_key().substr(0, 64) + "' WHERE chain = " +
                         a_chain);
    const Error e = refusal(d.c, path, Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains("content hash does not match"));
  }
  SECTION("b passes on a head signature a never made, and signs the bundle: untrusted") {
    test::exec(path, "UPDATE ferry_ranges SET head_signature = zeroblob(64) WHERE chain = " + a_chain);
    test::reseal(path, keys_of(d.b));
    const Error e = refusal(d.c, path, Errc::untrusted);
    CHECK_THAT(e.what(), Catch::Contains(a_id) && Catch::Contains("do not carry that device's valid signature"));
  }
}

TEST_CASE("a relay that re-signs another device's operations is caught", "[trust]") {
  Devices d;
  test::exchange(d.a, d.c, d.dir);  // c knows a's key.
  test::exchange(d.a, d.b, d.dir);
  const auto a = d.a.engine.device_id();
  const std::string a_blob = "x'" + blob_hex(a.bytes.data(), 16) + "'";
  auto app = test::app(d.b.path);
  std::uint64_t head = 0;
  Hash head_hash{};
  {
    auto st = app.prepare("SELECT head_seq, head_hash FROM ferry_devices WHERE id = ?");
    st.bind_blob(1, a.bytes.data(), 16);
    REQUIRE(st.step());
    head = static_cast<std::uint64_t>(st.integer(0));
    const auto h = st.blob(1);
    std::copy(h.begin(), h.end(), head_hash.begin());
  }
  d.b.sql("INSERT INTO items VALUES(3, 'from b')");
  const std::string path = d.dir.file("resigned.ferry");
  std::string expected;
  SECTION("b signs a's operations with its own key") {
    test::write_file(path, test::read_file(bundle_of(d.b, d.dir, "genuine.ferry")));
    const trust::KeyPair own = keys_of(d.b);
    const auto signature = own.sign(bundle::head_message(a, head, head_hash));
    test::exec(path, "UPDATE ferry_ranges SET origin_key = x'" + blob_hex(own.identity().sign.data(), 32) +
                         "', head_signature = x'" + blob_hex(signature.data(), 64) +
                         "' WHERE chain = (SELECT number FROM ferry_chains WHERE device = " + a_blob + ")");
    test::reseal(path, own);
    expected = "a device may only sign its own operations";
  }
  SECTION("b presents a key of its making as a's, and signs a's head with it") {
    // Done inside b's database, so that b's own export writes a bundle consistent in every other way.
    const trust::KeyPair fresh = trust::KeyPair::generate();
    const auto signature = fresh.sign(bundle::head_message(a, head, head_hash));
    app.exec("UPDATE ferry_heads SET signature = x'" + blob_hex(signature.data(), 64) + "'");
    app.exec("UPDATE ferry_devices SET sign_key = x'" + blob_hex(fresh.identity().sign.data(), 32) + "' WHERE id = " +
             a_blob);
    ExportOptions all;
    all.all = true;
    d.b.engine.export_bundle(path, all);
    expected = "knows it by key " + trust::fingerprint(a, keys_of(d.a).identity().sign);
  }
  const Error e = refusal(d.c, path, Errc::untrusted);
  CHECK_THAT(e.what(), Catch::Contains(a.to_string()) && Catch::Contains(expected));
}

TEST_CASE("a device claiming another's id without its key is refused", "[trust]") {
  Devices d;
  test::exchange(d.a, d.c, d.dir);
  // An impostor database that calls itself a, with keys of its own.
  Replica impostor(d.dir, "impostor", kSchema);
  const auto a = d.a.engine.device_id();
  test::pose_as(impostor.path, a);
  auto as_a = Engine::open(impostor.path);
  impostor.sql("INSERT INTO items VALUES(1, 'forged'), (2, 'forged'), (3, 'forged')");
  ExportOptions all;
  all.all = true;
  const std::string path = d.dir.file("forged.ferry");
  as_a.export_bundle(path, all);
  const Error e = refusal(d.c, path, Errc::untrusted);
  CHECK_THAT(e.what(), Catch::Contains("device " + a.to_string()) && Catch::Contains("impersonating"));
  CHECK_THAT(e.what(), Catch::Contains("ferry trust " + d.c.path + " add " + a.to_string()));
}

TEST_CASE("trust on first use pins a new device's key and says so, strict accepts only added devices", "[trust]") {
  Devices d;
  const std::string bundle = bundle_of(d.a, d.dir, "a.ferry");
  SECTION("trust on first use, the default") {
    const auto summary = d.c.engine.import_bundle(bundle);
    REQUIRE(summary.newly_trusted.size() == 1);
    CHECK(summary.newly_trusted[0].id == d.a.engine.device_id());
    CHECK(summary.newly_trusted[0].trust == Trust::tofu);
    CHECK(summary.newly_trusted[0].fingerprint == d.a.engine.status().fingerprint);
    CHECK(d.c.engine.import_bundle(bundle).newly_trusted.empty());  // Pinned once; a replay is duplicates.
    const auto listed = d.c.engine.trusted();
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].is_self);
    CHECK(listed[1].trust == Trust::tofu);
  }
  SECTION("strict") {
    d.c.engine.set_strict(true);
    const Error e = refusal(d.c, bundle, Errc::untrusted);
    CHECK_THAT(e.what(), Catch::Contains("not among the devices") && Catch::Contains(d.a.engine.status().fingerprint) &&
                             Catch::Contains("add " + d.a.engine.device_id().to_string() + " " + d.a.engine.public_key()));
    d.c.engine.trust_add(d.a.engine.device_id().to_string(), d.a.engine.public_key(), "a");
    const auto summary = d.c.engine.import_bundle(bundle);
    CHECK(summary.applied == 2);
    CHECK(summary.newly_trusted.empty());
    // A relay brings a device c never added: refused, naming that device.
    test::exchange(d.c, d.b, d.dir);
    d.b.sql("INSERT INTO items VALUES(9, 'from b')");
    const std::string from_b = bundle_of(d.b, d.dir, "b.ferry");
    const Error relay = refusal(d.c, from_b, Errc::untrusted);
    CHECK_THAT(relay.what(), Catch::Contains(d.b.engine.device_id().to_string()));
    d.c.engine.trust_add(d.b.engine.device_id().to_string(), d.b.engine.public_key().substr(0, 64));
    CHECK(d.c.engine.import_bundle(from_b).applied == 1);
    for (const auto& p : d.c.engine.trusted()) CHECK((p.is_self || p.trust == Trust::added));
  }
}

TEST_CASE("a removed device's operations are refused, also when relayed, until it is added again", "[trust]") {
  Devices d;
  test::exchange(d.a, d.c, d.dir);
  test::exchange(d.a, d.b, d.dir);
  d.c.engine.trust_remove("a");
  d.a.sql("INSERT INTO items VALUES(5, 'later')");
  test::exchange(d.a, d.b, d.dir);
  const std::string relayed = bundle_of(d.b, d.dir, "relayed.ferry");
  const Error e = refusal(d.c, relayed, Errc::untrusted);
  CHECK_THAT(e.what(), Catch::Contains("was removed from the devices"));
  d.c.engine.trust_add(d.a.engine.device_id().to_string(), d.a.engine.public_key());
  CHECK(d.c.engine.import_bundle(relayed).applied == 1);
  CHECK(d.c.dump("items") == d.a.dump("items"));
}

TEST_CASE("a device that signs two histories is refused, with the evidence kept and the device flagged", "[trust]") {
  Devices d;
  test::exchange(d.a, d.c, d.dir);
  // a's database and key copied to another machine: both continue the same chain differently.
  const std::string clone = d.dir.file("clone.db");
  test::exec(d.a.path, "VACUUM INTO " + test::shell_quote(clone));
  test::write_file(trust::key_path(clone), test::read_file(trust::key_path(d.a.path)));
  ::chmod(trust::key_path(clone).c_str(), 0600);
  auto copy = Engine::open(clone);
  d.a.sql("INSERT INTO items VALUES(3, 'original')");
  test::exec(clone, "INSERT INTO items VALUES(3, 'clone')");
  test::exchange(d.a, d.c, d.dir);
  ExportOptions to_c;
  to_c.peer = d.c.engine.device_id().to_string();
  const std::string forked = d.dir.file("clone.ferry");
  copy.export_bundle(forked, to_c);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const Error e = refusal(d.c, forked, Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("operation 3 of device " + d.a.engine.device_id().to_string()) &&
                             Catch::Contains("forked"));
  }
  const auto status = d.c.engine.status();
  REQUIRE(status.forks.size() == 1);  // Kept once, however often the bundle is offered.
  const ForkEvidence& f = status.forks[0];
  CHECK(f.device == d.a.engine.device_id());
  CHECK(f.seq == 3);
  CHECK(f.held_hash != f.other_hash);
  CHECK_THAT(f.held_body, Catch::Contains("original"));
  CHECK_THAT(f.other_body, Catch::Contains("clone"));
  CHECK(f.bundle == forked);
  for (const auto& p : status.peers) CHECK(p.forked == (p.id == d.a.engine.device_id()));
}

TEST_CASE("a replayed old bundle changes nothing", "[trust]") {
  Devices d;
  const std::string old = bundle_of(d.a, d.dir, "old.ferry");
  (void)d.c.engine.import_bundle(old);
  d.a.sql("DELETE FROM items WHERE id = 1");
  test::exchange(d.a, d.c, d.dir);
  const std::string rows = d.c.dump("items");
  const auto replay = d.c.engine.import_bundle(old);
  CHECK(replay.applied == 0);
  CHECK(replay.duplicates == 2);
  CHECK(d.c.dump("items") == rows);
}

TEST_CASE("a key that replaces the one a device's operations were admitted under is taken only with them forgotten",
          "[trust]") {
  Devices d;
  test::exchange(d.a, d.c, d.dir);
  const trust::KeyPair other = trust::KeyPair::generate();
  const std::string a = d.a.engine.device_id().to_string();
  CHECK_THROWS_WITH(d.c.engine.trust_add(a, trust::to_text(other.identity())),
                    Catch::Contains("holds operations 1-2 of device " + a) && Catch::Contains("--forget"));
  CHECK(d.c.engine.trusted()[1].public_key == d.a.engine.public_key());
  CHECK(d.c.engine.trust_add(a, trust::to_text(other.identity()), "", true).forgotten == 2);
  CHECK(d.c.dump("items").empty());
  ExportOptions all;
  all.all = true;
  const auto summary = d.c.engine.export_bundle(d.dir.file("from-c.ferry"), all);
  for (const auto& r : summary.ranges) CHECK(r.device != d.a.engine.device_id());
  CHECK(summary.operations == 0);
}
