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
  void append_to(std::string& out) {
    out += sink_.out;
    sink_.out.clear();
  }

 private:
  util::AppendSink<std::string> sink_;
  msgpack::packer<util::AppendSink<std::string>> packer_{sink_};
};

// `bytes`, which must be exactly one msgpack object within the decoding limits
// (log/codec.h: arrays, strings, depth). REQUIRES: `bytes` outlives the
// returned object (its strings point into it). Throws Error(corrupt).
std::unique_ptr<util::Unpacked> parse_exactly(std::string_view bytes, const std::string& where);
// The one msgpack object that starts at `offset` in `bytes`, moving `offset` past it.
std::unique_ptr<util::Unpacked> parse_next(std::string_view bytes, std::size_t& offset, const std::string& where);

// Throws Error(corrupt): "`where`: field '`field`' is not `expected`".
[[noreturn]] void bad(const std::string& where, const char* field, const char* expected);
std::uint64_t get_uint(const msgpack::object& o, const std::string& where, const char* field);
const msgpack::object_array& get_array(const msgpack::object& o, const std::string& where, const char* field);
void get_bin(const msgpack::object& o, std::uint8_t* out, std::size_t n, const std::string& where, const char* field);
std::string get_str(const msgpack::object& o, const std::string& where, const char* field);
// A SQLite value: nil, an integer of 64 signed bits, float64, str or bin.
Value get_value(const msgpack::object& o, const std::string& where, const char* field);

}  // namespace ferry::log
