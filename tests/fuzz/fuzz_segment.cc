// libFuzzer harness: the segment decompressor (bundle/segment.h), fed a size
// the bundle would state (the first 4 bytes, little-endian) and a frame (the
// rest). Findings are: a crash or sanitizer report; any exception other than
// ferry::Error; an accepted segment of another size than stated; one that
// does not survive compressing and decompressing again unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bundle/segment.h"
#include "ferry/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t raw_size = (std::size_t{data[0]} | std::size_t{data[1]} << 8 | std::size_t{data[2]} << 16 |
                                std::size_t{data[3]} << 24) % (2 * ferry::bundle::kMaxSegmentBytes);
  const std::string_view frame(reinterpret_cast<const char*>(data) + 4, size - 4);
  static ferry::bundle::SegmentDecompressor decompressor;  // Reused across inputs, as a reader does.
  std::string raw;
  try {
    raw = decompressor.decompress(frame, raw_size, ferry::bundle::kMaxSegmentBytes, "fuzz input");
  } catch (const ferry::Error&) {
    return 0;
  }
  if (raw.size() != raw_size) {
    std::fprintf(stderr, "a segment was accepted with %zu bytes, not the %zu stated\n", raw.size(), raw_size);
    std::abort();
  }
  const std::string again = ferry::bundle::SegmentCompressor().compress(raw);
  if (decompressor.decompress(again, raw_size, ferry::bundle::kMaxSegmentBytes, "fuzz input") != raw) {
    std::fprintf(stderr, "a segment did not survive compressing and decompressing again\n");
    std::abort();
  }
  return 0;
}
