#include "bundle/segment.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <new>

#include "ferry/error.h"

namespace ferry::bundle {

namespace {

[[noreturn]] void damaged(const std::string& where, const std::string& what) {
  throw Error(Errc::corrupt, where + ": " + what);
}

}  // namespace

struct SegmentCompressor::Context {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~Context() { ZSTD_freeCCtx(cctx); }
};

SegmentCompressor::SegmentCompressor(int level) : ctx_(std::make_unique<Context>()) {
  if (ctx_->cctx == nullptr) throw std::bad_alloc();
  auto set = [&](ZSTD_cParameter p, int v) {
    const std::size_t rc = ZSTD_CCtx_setParameter(ctx_->cctx, p, v);
    if (ZSTD_isError(rc))
      throw Error(Errc::internal, std::string("zstd refused a compression parameter: ") + ZSTD_getErrorName(rc));
  };
  set(ZSTD_c_compressionLevel, level);
  set(ZSTD_c_contentSizeFlag, 1);
  set(ZSTD_c_checksumFlag, 1);
  set(ZSTD_c_dictIDFlag, 0);
}

SegmentCompressor::~SegmentCompressor() = default;

std::string SegmentCompressor::compress(std::string_view raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const std::size_t n = ZSTD_compress2(ctx_->cctx, out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation) throw std::bad_alloc();
    throw Error(Errc::internal, std::string("zstd could not compress a segment: ") + ZSTD_getErrorName(n));
  }
  out.resize(n);
  return out;
}

struct SegmentDecompressor::Context {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~Context() { ZSTD_freeDCtx(dctx); }
};

SegmentDecompressor::SegmentDecompressor() : ctx_(std::make_unique<Context>()) {
  if (ctx_->dctx == nullptr) throw std::bad_alloc();
}

SegmentDecompressor::~SegmentDecompressor() = default;

std::string SegmentDecompressor::decompress(std::string_view frame, std::size_t raw_size, std::size_t limit,
                                            const std::string& where) {
  // 3. The size the bundle states, against the caller's limit, before anything else.
  if (raw_size == 0) damaged(where, "a segment of 0 bytes (a segment holds at least one operation)");
  if (raw_size > limit)
    damaged(where, "the segment states " + std::to_string(raw_size) + " bytes decompressed, more than the " +
                       std::to_string(limit) + " allowed");
  // 1. The frame's own statement of its size must be there and agree.
  const unsigned long long stated = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (stated == ZSTD_CONTENTSIZE_ERROR) damaged(where, "the segment is not a zstd frame");
  if (stated == ZSTD_CONTENTSIZE_UNKNOWN) damaged(where, "the segment's zstd frame does not state its size");
  if (stated != raw_size)
    damaged(where, "the segment's zstd frame states " + std::to_string(stated) + " bytes, the bundle " +
                       std::to_string(raw_size));
  // 2. Exactly one frame, no dictionary. A skippable frame states 0 bytes, refused above.
  const std::size_t frame_bytes = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_bytes)) damaged(where, "the segment's zstd frame is cut short or damaged");
  if (frame_bytes != frame.size())
    damaged(where, std::to_string(frame.size() - frame_bytes) + " bytes follow the segment's zstd frame");
  // The frame header's descriptor (the byte after the magic number): no
  // dictionary field, a checksum, and its unused and reserved bits clear, so
  // that no bit of a segment can change without being noticed.
  const auto descriptor = static_cast<std::uint8_t>(frame[4]);
  if ((descriptor & 0x03) != 0 || ZSTD_getDictID_fromFrame(frame.data(), frame.size()) != 0)
    damaged(where, "the segment's zstd frame needs a dictionary");
  if ((descriptor & 0x18) != 0) damaged(where, "the segment's zstd frame sets bits zstd reserves");
  if ((descriptor & 0x04) == 0) damaged(where, "the segment's zstd frame has no checksum");
  std::string raw(raw_size, '\0');
  const std::size_t n = ZSTD_decompressDCtx(ctx_->dctx, raw.data(), raw.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation) throw std::bad_alloc();
    damaged(where, std::string("the segment does not decompress: ") + ZSTD_getErrorName(n));
  }
  if (n != raw_size)
    damaged(where, "the segment decompresses to " + std::to_string(n) + " bytes, not the " + std::to_string(raw_size) +
                       " it states");
  return raw;
}

}  // namespace ferry::bundle
