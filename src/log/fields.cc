#include "log/fields.h"

#include <algorithm>

#include "ferry/error.h"
#include "log/codec.h"

namespace ferry::log {
std::unique_ptr<util::Unpacked> parse_next(std::string_view bytes, std::size_t& offset, const std::string& where) {
  // Each element of an array takes at least one byte: no honest array is longer than the bytes left.
  const std::size_t left = offset < bytes.size() ? bytes.size() - offset : 0;
  const msgpack::unpack_limit limits(/*array=*/std::min(kMaxChains, left), /*map=*/0, /*str=*/kMaxValueBytes,
                                     /*bin=*/kMaxValueBytes, /*ext=*/0, /*depth=*/4);
  try {
    return std::make_unique<util::Unpacked>(bytes, offset, limits);
  } catch (const std::exception& e) {
    throw Error(Errc::corrupt, where + ": not valid msgpack: " + e.what());
  }
}

std::unique_ptr<util::Unpacked> parse_exactly(std::string_view bytes, const std::string& where) {
  std::size_t offset = 0;
  auto handle = parse_next(bytes, offset, where);
  if (offset != bytes.size())
    throw Error(Errc::corrupt, where + ": " + std::to_string(bytes.size() - offset) +
                                   " unexpected bytes after the encoded operation");
  return handle;
}

[[noreturn]] void bad(const std::string& where, const char* field, const char* expected) {
  throw Error(Errc::corrupt, where + ": field '" + field + "' is not " + expected);
}

void shared_scope_only(std::string_view scope, const std::string& where, const char* field) {
  if (!scope.empty())
    throw Error(Errc::refused, where + ": field '" + field +
                                   "' names a scope; scoped sync is newer than this ferry understands; upgrade ferry");
}

std::uint64_t Cursor::big_endian(std::size_t n, const char* field) {
  if (bytes_.size() - at_ < n) bad(where_, field, "whole (the bytes end inside it)");
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(bytes_[at_ + i]);
  at_ += n;
  return v;
}

std::size_t Cursor::array(const char* field) {
  if (at_ == bytes_.size()) bad(where_, field, "an array");
  const auto tag = static_cast<unsigned char>(bytes_[at_++]);
  std::uint64_t n = 0;
  if ((tag & 0xf0) == 0x90) n = tag & 0x0f;
  else if (tag == 0xdc) n = big_endian(2, field);
  else if (tag == 0xdd) n = big_endian(4, field);
  else bad(where_, field, "an array");
  if (n > bytes_.size() - at_) bad(where_, field, "an array the bytes left can hold");
  return static_cast<std::size_t>(n);
}

std::string_view Cursor::take(std::size_t n, const char* field) {
  if (bytes_.size() - at_ < n) bad(where_, field, "whole (the bytes end inside it)");
  const std::string_view out = bytes_.substr(at_, n);
  at_ += n;
  return out;
}

std::string_view Cursor::str(const char* field) {
  if (at_ == bytes_.size()) bad(where_, field, "a string");
  const auto tag = static_cast<unsigned char>(bytes_[at_++]);
  if ((tag & 0xe0) == 0xa0) return take(tag & 0x1f, field);
  if (tag < 0xd9 || tag > 0xdb) bad(where_, field, "a string");
  return take(static_cast<std::size_t>(big_endian(std::size_t{1} << (tag - 0xd9), field)), field);
}

std::string_view Cursor::bin(const char* field) {
  if (at_ == bytes_.size()) bad(where_, field, "a binary");
  const auto tag = static_cast<unsigned char>(bytes_[at_++]);
  if (tag < 0xc4 || tag > 0xc6) bad(where_, field, "a binary");
  return take(static_cast<std::size_t>(big_endian(std::size_t{1} << (tag - 0xc4), field)), field);
}

std::string_view Cursor::value(const char* field) {
  const std::size_t start = at_;
  if (at_ == bytes_.size()) bad(where_, field, "a value");
  const auto tag = static_cast<unsigned char>(bytes_[at_]);
  if (tag < 0x80 || tag >= 0xe0 || tag == 0xc0) {  // Fixints and nil: the tag is the value.
    ++at_;
  } else if (tag >= 0xcc && tag <= 0xcf) {
    ++at_, take(std::size_t{1} << (tag - 0xcc), field);
  } else if (tag >= 0xd0 && tag <= 0xd3) {
    ++at_, take(std::size_t{1} << (tag - 0xd0), field);
  } else if (tag == 0xcb) {
    ++at_, take(8, field);
  } else if ((tag & 0xe0) == 0xa0 || (tag >= 0xd9 && tag <= 0xdb)) {
    str(field);
  } else if (tag >= 0xc4 && tag <= 0xc6) {
    bin(field);
  } else {
    bad(where_, field, "nil, an integer, float64, a string or a binary");
  }
  return bytes_.substr(start, at_ - start);
}

bool Cursor::uint_next() const {
  if (at_ == bytes_.size()) return false;
  const auto tag = static_cast<unsigned char>(bytes_[at_]);
  return tag < 0x80 || (tag >= 0xcc && tag <= 0xcf);
}

std::uint64_t Cursor::uint(const char* field) {
  if (!uint_next()) bad(where_, field, "an unsigned integer");
  const auto tag = static_cast<unsigned char>(bytes_[at_++]);
  if (tag < 0x80) return tag;
  return big_endian(std::size_t{1} << (tag - 0xcc), field);
}

bool Cursor::bin_if(std::uint8_t* out, std::size_t n) {
  // bin8 is the only form a short bin takes in what ferry writes; others are not it.
  if (n > 0xff || bytes_.size() - at_ < 2 + n || static_cast<unsigned char>(bytes_[at_]) != 0xc4 ||
      static_cast<unsigned char>(bytes_[at_ + 1]) != n)
    return false;
  std::memcpy(out, bytes_.data() + at_ + 2, n);
  at_ += 2 + n;
  return true;
}

void Cursor::finish(const char* what) const {
  if (!at_end())
    throw Error(Errc::corrupt, where_ + ": " + std::to_string(bytes_.size() - at_) + " unexpected bytes after the " + what);
}

std::uint64_t get_uint(const msgpack::object& o, const std::string& where, const char* field) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) bad(where, field, "an unsigned integer");
  return o.via.u64;
}

const msgpack::object_array& get_array(const msgpack::object& o, const std::string& where,
                                       const char* field) {
  if (o.type != msgpack::type::ARRAY) bad(where, field, "an array");
  return o.via.array;
}

void get_bin(const msgpack::object& o, std::uint8_t* out, std::size_t n, const std::string& where,
             const char* field) {
  if (o.type != msgpack::type::BIN || o.via.bin.size != n) bad(where, field, "a binary of the right length");
  std::memcpy(out, o.via.bin.ptr, n);
}

std::string get_str(const msgpack::object& o, const std::string& where, const char* field) {
  if (o.type != msgpack::type::STR) bad(where, field, "a string");
  return std::string(o.via.str.ptr, o.via.str.size);
}

Value get_value(const msgpack::object& o, const std::string& where, const char* field) {
  switch (o.type) {
    case msgpack::type::NIL: return Value();
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<std::uint64_t>(INT64_MAX)) bad(where, field, "a 64-bit signed integer");
      return Value::integer(static_cast<std::int64_t>(o.via.u64));
    case msgpack::type::NEGATIVE_INTEGER: return Value::integer(o.via.i64);
    case msgpack::type::FLOAT64: return Value::real(o.via.f64);
    case msgpack::type::STR: return Value::text(std::string(o.via.str.ptr, o.via.str.size));
    case msgpack::type::BIN: {
      const auto* p = reinterpret_cast<const std::uint8_t*>(o.via.bin.ptr);
      return Value::blob(Bytes(p, p + o.via.bin.size));
    }
    default: bad(where, field, "a SQLite value (nil, integer, float64, string or binary)");
  }
}

}  // namespace ferry::log
