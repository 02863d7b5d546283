// libFuzzer harness: the operation decoder (both formats), fed arbitrary bytes as an
// operation body. Findings are: a crash or sanitizer report; any exception
// other than ferry::Error; a body that decodes but is not canonical (encoding
// the decoded operation must give back exactly the input, since the hash is
// taken over those bytes).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ferry/error.h"
#include "log/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ferry::Operation op;
  try {
    op = ferry::log::decode(body, "fuzz input", ferry::log::kNewestOperationFormat);
  } catch (const ferry::Error&) {
    return 0;
  }
  if (ferry::log::encode(op) != body) {
    std::fprintf(stderr, "a body decoded but does not re-encode to the same bytes\n");
    std::abort();
  }
  return 0;
}
