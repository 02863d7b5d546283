// Segments of a format 4.0 bundle: a zstd frame is believed only for what the
// bundle says it holds, and never costs more memory than the caller's limit
// (bundle_format/format4.md, "Segments and their limits").
#include <catch2/catch.hpp>
#include <zstd.h>

#include <string>

#include "bundle/segment.h"
#include "ferry/error.h"

using namespace ferry;
using bundle::SegmentCompressor;
using bundle::SegmentDecompressor;

namespace {

// Bytes like a run of stored operations: mostly repeated structure, some noise.
std::string operations_like(std::size_t n) {
  std::string out;
  std::uint64_t x = 88172645463325252ull;
  while (out.size() < n) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    out += "\x97\x01\x00\x90\x04\x91\xcd";
    out += static_cast<char>(x & 0xff);
    out += "\x93\x01\xa4item";
    out += static_cast<char>('0' + x % 10);
  }
  out.resize(n);
  return out;
}

std::string compressed(std::string_view raw) { return SegmentCompressor().compress(raw); }

// Offset of the Frame_Content_Size field in a zstd frame (RFC 8878, 3.1.1.1).
std::size_t content_size_offset(const std::string& frame) {
  const auto d = static_cast<unsigned char>(frame[4]);
  const bool single_segment = (d >> 5) & 1;
  static const std::size_t kDictBytes[] = {0, 1, 2, 4};
  return 5 + (single_segment ? 0 : 1) + kDictBytes[d & 3];
}

void refused(const std::string& frame, std::size_t raw_size, const std::string& says,
             std::size_t limit = bundle::kMaxSegmentBytes) {
  try {
    (void)SegmentDecompressor().decompress(frame, raw_size, limit, "bundle b.ferry: segment 1");
    FAIL("the segment was accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::corrupt);
    CHECK_THAT(e.what(), Catch::Contains("bundle b.ferry: segment 1: ") && Catch::Contains(says));
  }
}

}  // namespace

TEST_CASE("a segment decompresses to exactly the bytes compressed, in much less space", "[segment]") {
  SegmentCompressor compressor;
  SegmentDecompressor decompressor;
  for (std::size_t n : {std::size_t{1}, std::size_t{100}, std::size_t{65536}, bundle::kMaxSegmentBytes}) {
    const std::string raw = operations_like(n);
    const std::string frame = compressor.compress(raw);
    CHECK(decompressor.decompress(frame, n, bundle::kMaxSegmentBytes, "s") == raw);
    if (n >= 65536) CHECK(frame.size() * 3 < n);
  }
}

TEST_CASE("a segment stating more than the limit is refused before anything is allocated", "[segment]") {
  const std::string frame = compressed(operations_like(1000));  // About 1 KB on the stick...
  refused(frame, std::size_t{10} << 30, "states 10737418240 bytes decompressed, more than the 1048576 allowed");
  refused(frame, 0, "a segment of 0 bytes");
}

TEST_CASE("a frame that states another size than the bundle, or none, is refused", "[segment]") {
  const std::string frame = compressed(operations_like(1000));
  refused(frame, 999, "the segment's zstd frame states 1000 bytes, the bundle 999");
  // The same data as a stream, which does not state its size.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  const std::string raw = operations_like(1000);
  std::string unsized(ZSTD_compressBound(raw.size()), '\0');
  unsized.resize(ZSTD_compress2(cctx, unsized.data(), unsized.size(), raw.data(), raw.size()));
  ZSTD_freeCCtx(cctx);
  refused(unsized, 1000, "does not state its size");
}

TEST_CASE("a frame whose content is longer or shorter than it states is refused", "[segment]") {
  const std::string raw = operations_like(1000);
  std::string frame = compressed(raw);
  const std::size_t at = content_size_offset(frame);
  std::string longer = frame, shorter = frame;
  longer[at] = static_cast<char>(longer[at] - 1);  // States 999: the content is 1 byte more.
  shorter[at] = static_cast<char>(shorter[at] + 1);  // States 1001: the content is 1 byte less.
  refused(longer, 999, "the segment does not decompress");
  refused(shorter, 1001, "the segment does not decompress");
}

TEST_CASE("a segment is exactly one frame: no trailing bytes, no second frame, no skippable frame", "[segment]") {
  const std::string frame = compressed(operations_like(1000));
  refused(frame + "x", 1000, "1 bytes follow the segment's zstd frame");
  refused(frame + frame, 1000, " bytes follow the segment's zstd frame");
  refused(frame.substr(0, frame.size() - 5), 1000, "cut short or damaged");
  refused("not zstd at all", 1000, "not a zstd frame");
  const std::string skippable = std::string("\x50\x2a\x4d\x18\x0a\0\0\0", 8) + "0123456789";  // RFC 8878, 3.1.2.
  refused(skippable, 10, "the segment's zstd frame states 0 bytes, the bundle 10");
}

TEST_CASE("a frame that needs a dictionary is refused", "[segment]") {
  std::string frame = compressed(operations_like(1000));
  auto& d = reinterpret_cast<unsigned char&>(frame[4]);
  const std::size_t at = 5 + (((d >> 5) & 1) ? 0 : 1);
  d = static_cast<unsigned char>(d | 1);  // A one-byte dictionary id follows the window descriptor.
  frame.insert(at, 1, '\x07');
  refused(frame, 1000, "needs a dictionary");
}

TEST_CASE("every bit of a frame's header counts: no checksum, or an unused bit set, is refused", "[segment]") {
  const std::string raw = operations_like(1000);
  SECTION("a frame without a checksum") {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    REQUIRE(cctx != nullptr);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    std::string frame(ZSTD_compressBound(raw.size()), '\0');
    const std::size_t n = ZSTD_compress2(cctx, frame.data(), frame.size(), raw.data(), raw.size());
    ZSTD_freeCCtx(cctx);
    REQUIRE_FALSE(ZSTD_isError(n));
    frame.resize(n);
    refused(frame, raw.size(), "has no checksum");
  }
  SECTION("the unused bit of the frame header descriptor, which zstd itself ignores") {
    std::string frame = compressed(raw);
    frame[4] = static_cast<char>(static_cast<unsigned char>(frame[4]) | 0x10);
    refused(frame, raw.size(), "sets bits zstd reserves");
  }
}
