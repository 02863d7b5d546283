// libFuzzer harness: the two texts that arrive from other devices without a
// bundle's checks around them -- a fingerprint file and an inclusion proof.
// Findings are: a crash or sanitizer report; any exception other than
// ferry::Error; a fingerprint that parses but does not come back the same
// after being written out and read again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "compare/fingerprint_file.h"
#include "ferry/compare.h"
#include "ferry/error.h"
#include "ferry/json.h"

namespace {

bool same(const ferry::Fingerprint& a, const ferry::Fingerprint& b) {
  return ferry::render::fingerprint(a) == ferry::render::fingerprint(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const ferry::InclusionProof proof = ferry::InclusionProof::parse(text);
    (void)ferry::root_of(proof);
    if (ferry::InclusionProof::parse(proof.to_text()).to_text() != proof.to_text()) {
      std::fprintf(stderr, "a proof does not survive being written out and read again\n");
      std::abort();
    }
  } catch (const ferry::Error&) {
  }
  try {
    const ferry::Fingerprint f = ferry::fingerprint::parse_file(text, "fuzz input");
    const std::string again = ferry::render::fingerprint(f).dump(2);
    if (!same(f, ferry::fingerprint::parse_file(again, "rewritten"))) {
      std::fprintf(stderr, "a fingerprint does not survive being written out and read again\n");
      std::abort();
    }
  } catch (const ferry::Error&) {
  }
  return 0;
}
