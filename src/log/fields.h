#pragma once
// The msgpack pieces every encoding of an operation is built from: the
// canonical encoding (log/codec.h) and a bundle's stored form
// (bundle/stored.h). One writer of the canonical forms (shortest integers,
// float64 always, str and bin), and readers that check each field's type and
// name it when it is wrong.

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "ferry/operation.h"
#include "ferry/value.h"
#include "util/msgpack_io.h"

namespace ferry::log {

class Encoder {
 public:
  Encoder() { sink_.out.reserve(256); }  // Most operations fit.
  // Writes after what `start` holds (take() gives back both): no new buffer,
  // no copy, for many small encodings gathered into one.
  explicit Encoder(std::string&& start) { sink_.out = std::move(start); }
  void array(std::size_t n) { packer_.pack_array(static_cast<std::uint32_t>(n)); }
  void uint(std::uint64_t v) { packer_.pack_uint64(v); }
  void integer(std::int64_t v) { packer_.pack_int64(v); }  // Shortest form, as uint for v >= 0.
  void nil() { packer_.pack_nil(); }
  void bin(const void* p, std::size_t n) {
    packer_.pack_bin(static_cast<std::uint32_t>(n));
    packer_.pack_bin_body(static_cast<const char*>(p), static_cast<std::uint32_t>(n));
  }
  void str(std::string_view s) {
    packer_.pack_str(static_cast<std::uint32_t>(s.size()));
    packer_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  }
  void value(const Value& v) {
    switch (v.type()) {
      case Value::Type::null: packer_.pack_nil(); break;
      case Value::Type::integer: packer_.pack_int64(v.as_integer()); break;
      case Value::Type::real: real(v.as_real()); break;
      case Value::Type::text: str(v.as_text()); break;
      case Value::Type::blob: bin(v.as_blob().data(), v.as_blob().size()); break;
    }
  }
  // msgpack::pack(double) writes integral doubles as integers (and loses -0.0): never use it.
  void real(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    char out[9] = {static_cast<char>(0xcb)};
    for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
    sink_.write(out, sizeof out);
  }
  std::string take() { return std::move(sink_.out); }
  // Appends what was written to `out`, and starts again empty.
  // Bytes already in the canonical form, as they are.
  void raw(std::string_view bytes) { sink_.write(bytes.data(), bytes.size()); }
  void append_to(std::string& out) {
    out += sink_.out;
    sink_.out.clear();
  }

 private:
  util::AppendSink<std::string> sink_;
  msgpack::packer<util::AppendSink<std::string>> packer_{sink_};
};

// Reads msgpack in place, one field at a time, for long runs of small fields
// (a kept clock of 10,000 entries) where building msgpack objects would cost
// more than the reading. Each call checks the type and the bytes left, and
// throws Error(corrupt) naming `where` and the field; an array's count is
// believed only as far as the bytes left could hold it (an element takes at
// least one byte), so a hostile count costs nothing.
class Cursor {
 public:
  Cursor(std::string_view bytes, const std::string& where) : bytes_(bytes), where_(where) {}
  std::size_t array(const char* field);
  std::uint64_t uint(const char* field);
  // True, and the `n` bytes copied to `out`, when a bin of exactly n bytes is
  // next; false, moving nothing, when something else is.
  bool bin_if(std::uint8_t* out, std::size_t n);
  std::string_view str(const char* field);
  std::string_view bin(const char* field);
  // The bytes of the next SQLite value (nil, an integer, float64, str or
  // bin), as they are, header included.
  std::string_view value(const char* field);
  // True when the next value is an unsigned integer (moving nothing).
  bool uint_next() const;
  bool at_end() const { return at_ == bytes_.size(); }
  // Throws unless every byte was read.
  void finish(const char* what) const;

 private:
  std::uint64_t big_endian(std::size_t n, const char* field);
  std::string_view take(std::size_t n, const char* field);
  std::string_view bytes_;
  const std::string& where_;
  std::size_t at_ = 0;
};

// `bytes`, which must be exactly one msgpack object within the decoding limits
// (log/codec.h: arrays, strings, depth). REQUIRES: `bytes` outlives the
// returned object (its strings point into it). Throws Error(corrupt).
std::unique_ptr<util::Unpacked> parse_exactly(std::string_view bytes, const std::string& where);
// The one msgpack object that starts at `offset` in `bytes`, moving `offset` past it.
std::unique_ptr<util::Unpacked> parse_next(std::string_view bytes, std::size_t& offset, const std::string& where);

// Throws Error(corrupt): "`where`: field '`field`' is not `expected`".
[[noreturn]] void bad(const std::string& where, const char* field, const char* expected);
// Throws Error(refused) unless `scope` is the shared one (""): other scopes
// come with scoped sync (bundle_format/format4.md §2).
void shared_scope_only(std::string_view scope, const std::string& where, const char* field);
std::uint64_t get_uint(const msgpack::object& o, const std::string& where, const char* field);
const msgpack::object_array& get_array(const msgpack::object& o, const std::string& where, const char* field);
void get_bin(const msgpack::object& o, std::uint8_t* out, std::size_t n, const std::string& where, const char* field);
std::string get_str(const msgpack::object& o, const std::string& where, const char* field);
// A SQLite value: nil, an integer of 64 signed bits, float64, str or bin.
Value get_value(const msgpack::object& o, const std::string& where, const char* field);

}  // namespace ferry::log
