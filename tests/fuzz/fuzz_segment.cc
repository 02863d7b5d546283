// libFuzzer harness: the segment decompressor (bundle/segment.h), fed a size
// the bundle would state (the first 4 bytes, little-endian) and a frame (the
// rest), then the stored-form decoder (bundle/stored.h) on what it gives, as
// one range's operations. Findings are: a crash or sanitizer report; any
// exception other than ferry::Error; an accepted segment of another size than
// stated; one that does not survive compressing and decompressing again
// unchanged; an operation decoded whose canonical bytes are not its encoding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bundle/segment.h"
#include "bundle/stored.h"
#include "ferry/error.h"
#include "log/codec.h"

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
  // The operations of one range of chain 1, as a 4.0 reader takes them.
  ferry::DeviceId chains[3];
  for (int c = 0; c < 3; ++c) chains[c].bytes.fill(static_cast<std::uint8_t>(0x10 * (c + 1)));
  static const ferry::bundle::StoredForms forms({chains[0], chains[1], chains[2]},
                                                {{"items", {"id", "name", "qty", "price", "note"}}, {"t", {"k", "v"}}});
  ferry::bundle::Position at;
  at.origin = chains[0];
  std::size_t offset = 0;
  while (offset < raw.size()) {
    ++at.seq;
    std::string canonical;
    try {
      const ferry::Operation op = forms.decode(raw, offset, at, canonical, "fuzz input");
      if (ferry::log::encode(op) != canonical) {
        std::fprintf(stderr, "a stored form decoded to an operation whose canonical bytes differ\n");
        std::abort();
      }
      at.prev_hash = ferry::log::hash_of(canonical);
      at.prev_lamport = op.lamport;
      at.prev_time_ms = op.id.unix_ms();
    } catch (const ferry::Error&) {
      break;
    }
  }
  return 0;
}
