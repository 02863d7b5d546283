#pragma once
// Segments: runs of operations stored as one zstd frame each in a format 4.0
// bundle (bundle_format/format4.md, "Segments and their limits").
//
// A segment comes from a stranger's file, so the decompressor trusts nothing
// it claims. Before allocating, it refuses a frame that:
//   1. states no decompressed size, or one other than the segment's raw_size;
//   2. is not exactly one frame (a skippable frame, trailing bytes, a second
//      frame), needs a dictionary, has no checksum, or sets the frame
//      header's unused or reserved bits (so that every bit counts);
//   3. claims more than the caller's limit;
// and it then decompresses into exactly raw_size bytes, refusing a frame
// whose content turns out longer or shorter than it stated. Decompression is
// one pass into that buffer, which is also the decoder's history, so however
// large a window the frame asks for, the memory a segment costs is at most
// the limit, beside the decoder's own fixed context.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace ferry::bundle {

// The raw bytes of one segment of several operations; a segment of a single
// operation may be as large as that operation's encoding (log::kMaxBodyBytes).
constexpr std::size_t kMaxSegmentBytes = std::size_t{1} << 20;

class SegmentCompressor {
 public:
  explicit SegmentCompressor(int level = 3);
  ~SegmentCompressor();
  SegmentCompressor(const SegmentCompressor&) = delete;
  SegmentCompressor& operator=(const SegmentCompressor&) = delete;
  // One zstd frame holding `raw`, stating its size, with a checksum.
  std::string compress(std::string_view raw);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

class SegmentDecompressor {
 public:
  SegmentDecompressor();
  ~SegmentDecompressor();
  SegmentDecompressor(const SegmentDecompressor&) = delete;
  SegmentDecompressor& operator=(const SegmentDecompressor&) = delete;
  // The `raw_size` bytes `frame` holds. `where` names the segment in messages
  // ("bundle x.ferry: segment 3"). Throws Error(corrupt) for a raw_size of 0
  // or above `limit`, and for any frame breaking the rules above.
  std::string decompress(std::string_view frame, std::size_t raw_size, std::size_t limit, const std::string& where);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace ferry::bundle
