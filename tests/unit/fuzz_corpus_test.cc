// Every input in the fuzzing seed corpus (tests/fuzz/corpus/), run through the
// same checks as the fuzz harnesses in the ordinary build: a crash the fuzzer
// once found stays found once its input is added to the corpus.
#include <catch2/catch.hpp>

#include <filesystem>

#include "bundle/segment.h"
#include "compare/fingerprint_file.h"
#include "ferry/json.h"
#include "log/codec.h"
#include "support/support.h"

using namespace ferry;

namespace {

std::vector<std::string> inputs(const std::string& harness) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(FERRY_FUZZ_CORPUS_DIR) + "/" + harness))
    out.push_back(entry.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

const char* const kSchema =
    "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, photo BLOB);"
    "CREATE TABLE tags(item INTEGER, tag TEXT, note TEXT, PRIMARY KEY(item, tag)) WITHOUT ROWID;";

}  // namespace

TEST_CASE("every bundle in the fuzz corpus is refused with an Error or imports into a log that verifies", "[fuzz]") {
  const auto files = inputs("bundle");
  REQUIRE(files.size() >= 4);
  for (const auto& file : files) {
    INFO(file);
    test::TempDir dir;
    test::Replica replica(dir, "replica", kSchema);
    Engine& engine = replica.engine;
    try {
      (void)inspect_bundle(file);
      (void)verify_bundle(file);
      (void)engine.import_bundle(file);
    } catch (const Error&) {
      // A refusal is fine; anything else escapes and fails the test.
    }
    CHECK(engine.verify().ok);
  }
}

TEST_CASE("every operation in the fuzz corpus decodes to something that re-encodes to the same bytes", "[fuzz]") {
  const auto files = inputs("operation");
  REQUIRE(files.size() >= 3);
  for (const auto& file : files) {
    INFO(file);
    const auto bytes = test::read_file(file);
    const std::string body(bytes.begin(), bytes.end());
    try {
      CHECK(log::encode(log::decode(body, file, log::kNewestOperationFormat)) == body);
    } catch (const Error&) {
    }
  }
}

TEST_CASE("every segment in the fuzz corpus decompresses to the size it states, or is refused with an Error", "[fuzz]") {
  const auto files = inputs("segment");
  REQUIRE(files.size() >= 3);
  bundle::SegmentDecompressor decompressor;
  for (const auto& file : files) {
    INFO(file);
    const auto bytes = test::read_file(file);
    const std::string input(bytes.begin(), bytes.end());
    REQUIRE(input.size() >= 4);
    std::size_t stated = 0;
    for (int i = 3; i >= 0; --i) stated = stated << 8 | static_cast<unsigned char>(input[i]);
    std::size_t got = stated;
    try {
      got = decompressor.decompress(input.substr(4), stated, bundle::kMaxSegmentBytes, file).size();
    } catch (const Error&) {
    }
    CHECK(got == stated);
  }
}

TEST_CASE("every fingerprint file and proof in the fuzz corpus parses, or is refused with an Error", "[fuzz]") {
  const auto files = inputs("fingerprint");
  REQUIRE(files.size() >= 2);
  std::size_t parsed = 0;
  for (const auto& file : files) {
    INFO(file);
    const auto bytes = test::read_file(file);
    const std::string text(bytes.begin(), bytes.end());
    try {
      const Fingerprint f = read_fingerprint(file);
      CHECK(fingerprint::parse_file(render::fingerprint(f).dump(), file).operations == f.operations);
      ++parsed;
    } catch (const Error&) {
    }
    try {
      const InclusionProof p = InclusionProof::parse(text);
      CHECK(InclusionProof::parse(p.to_text()).to_text() == p.to_text());
      CHECK(root_of(p).has_value());
      ++parsed;
    } catch (const Error&) {
    }
  }
  CHECK(parsed >= 2);  // The seeds themselves are valid.
}
