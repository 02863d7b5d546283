// Encrypted bundles: only the recipient can read one, a carrier sees only the
// recipient and the size, and any change to any byte is found before anything
// in it is used.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include "support/support.h"

using namespace ferry;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";

struct Fixture {
  test::TempDir dir;
  Replica a{dir, "a", kSchema};
  Replica b{dir, "b", kSchema};
  Replica c{dir, "c", kSchema};
  std::string sealed = dir.file("for-b.ferry");

  // `rows` rows of 100 random hex digits, which compress to about half: 2,000 make a
  // bundle of several 64 KiB chunks.
  explicit Fixture(int rows = 3) {
    test::exchange(b, a, dir);  // a learns b's keys from b's first bundle.
    a.sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(rows) +
          ") INSERT INTO items SELECT i, hex(randomblob(50)) FROM n");
    ExportOptions options;
    options.peer = "b";
    options.encrypt_for = "b";
    const auto summary = a.engine.export_bundle(sealed, options);
    REQUIRE(summary.encrypted_for == b.engine.device_id());
  }

  // Imports `path` into b expecting a refusal; checks b is untouched.
  Error refusal(const std::string& path) {
    const std::string rows = b.dump("items");
    try {
      (void)b.engine.import_bundle(path);
    } catch (const Error& e) {
      CHECK(b.dump("items") == rows);
      return e;
    }
    FAIL("the bundle was accepted");
    return Error(Errc::internal, "unreachable");
  }

  std::string changed(const std::function<void(std::vector<std::uint8_t>&)>& edit) {
    auto bytes = test::read_file(sealed);
    edit(bytes);
    const std::string path = dir.file("changed.ferry");
    test::write_file(path, bytes);
    return path;
  }
};

}  // namespace

TEST_CASE("the recipient imports an encrypted bundle like any other", "[envelope]") {
  Fixture f;
  const auto summary = f.b.engine.import_bundle(f.sealed);
  CHECK(summary.applied == 3);
  CHECK(f.b.dump("items") == f.a.dump("items"));
}

TEST_CASE("a carrier sees only the recipient and the size", "[envelope]") {
  Fixture f;
  const BundleInfo info = inspect_bundle(f.sealed);
  REQUIRE(info.encrypted_for);
  CHECK(*info.encrypted_for == f.b.engine.device_id());
  CHECK(info.bytes == test::read_file(f.sealed).size());
  CHECK(info.operations == 0);
  CHECK(info.ranges.empty());
  const auto bytes = test::read_file(f.sealed);
  CHECK(std::string(bytes.begin(), bytes.end()).find("items") == std::string::npos);
  CHECK_THROWS_WITH(verify_bundle(f.sealed), Catch::Contains("only that device can read it"));
}

TEST_CASE("another device cannot read it, and says whose it is", "[envelope]") {
  Fixture f;
  try {
    (void)f.c.engine.import_bundle(f.sealed);
    FAIL("c read b's bundle");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("encrypted for device " + f.b.engine.device_id().to_string()));
  }
  CHECK(f.c.engine.status().operations == 0);
}

TEST_CASE("any changed byte of an encrypted bundle is found before anything is used", "[envelope]") {
  Fixture f(3000);
  const auto size = test::read_file(f.sealed).size();
  REQUIRE(size > 3 * 65536);
  const std::size_t at = GENERATE_COPY(std::size_t{70}, std::size_t{96}, std::size_t{65536 + 96 + 16 + 5}, size / 2,
                                       size - 17, size - 1);
  INFO("byte " << at << " of " << size);
  const Error e = f.refusal(f.changed([&](auto& bytes) { bytes[at] ^= 0x20; }));
  CHECK(e.code() == Errc::corrupt);
  CHECK_THAT(e.what(), Catch::Contains("was changed, damaged or cut short") || Catch::Contains("not usable"));
}

TEST_CASE("an encrypted bundle cut short, even at a chunk boundary, is refused", "[envelope]") {
  Fixture f(3000);
  const std::size_t record = 65536 + 16;
  const auto size = test::read_file(f.sealed).size();
  const std::size_t keep = GENERATE_COPY(std::size_t{50}, std::size_t{96}, std::size_t{96 + record}, size - 1,
                                         96 + record * ((size - 96) / record));
  INFO("kept " << keep << " of " << size);
  const Error e = f.refusal(f.changed([&](auto& bytes) { bytes.resize(keep); }));
  CHECK(e.code() == Errc::corrupt);
}

TEST_CASE("the header names the recipient and its key, changing either is refused", "[envelope]") {
  Fixture f;
  SECTION("recipient id") {
    const Error e = f.refusal(f.changed([](auto& bytes) { bytes[20] ^= 1; }));
    CHECK(e.code() == Errc::refused);
    CHECK_THAT(e.what(), Catch::Contains("is encrypted for device"));
  }
  SECTION("recipient key") {
    const Error e = f.refusal(f.changed([](auto& bytes) { bytes[40] ^= 1; }));
    CHECK_THAT(e.what(), Catch::Contains("another key of this device"));
  }
}

TEST_CASE("an unusable ephemeral key in the header is refused, naming the file", "[envelope]") {
  Fixture f;
  // All zeros: a point of low order, whose agreement OpenSSL refuses.
  const Error e = f.refusal(f.changed([](auto& bytes) { std::fill(bytes.begin() + 60, bytes.begin() + 92, 0); }));
  CHECK(e.code() == Errc::corrupt);
  CHECK_THAT(e.what(), Catch::StartsWith(f.dir.file("changed.ferry")) && Catch::Contains("encryption header is damaged"));
}

TEST_CASE("encrypting for a device whose encryption key is unknown says how to learn it", "[envelope]") {
  Fixture f;
  f.a.engine.trust_add(f.c.engine.device_id().to_string(), f.c.engine.public_key().substr(0, 64), "c");
  ExportOptions options;
  options.all = true;
  options.encrypt_for = "c";
  CHECK_THROWS_WITH(f.a.engine.export_bundle(f.dir.file("for-c.ferry"), options),
                    Catch::Contains("encryption key of device " + f.c.engine.device_id().to_string()) &&
                        Catch::Contains("is not known here"));
  options.encrypt_for = f.a.engine.device_id().to_string();
  CHECK_THROWS_WITH(f.a.engine.export_bundle(f.dir.file("for-a.ferry"), options), Catch::Contains("this device itself"));
}
