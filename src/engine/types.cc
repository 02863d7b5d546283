// Small value types of the public API: Value, Uuid, VectorClock, Operation helpers, Errc names.
#include <cstring>
#include <cstdio>

#include "ferry/error.h"
#include "ferry/ids.h"
#include "ferry/operation.h"
#include "ferry/value.h"
#include "ferry/vector_clock.h"

namespace ferry {

const char* to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::corrupt: return "corrupt";
    case Errc::refused: return "refused";
    case Errc::untrusted: return "untrusted";
    case Errc::database: return "database";
    case Errc::internal: return "internal";
  }
  return "internal";
}

bool operator==(const Value& a, const Value& b) noexcept {
  if (a.rep_.index() != b.rep_.index()) return false;
  if (a.type() == Value::Type::real) {
    const double x = a.as_real(), y = b.as_real();
    return std::memcmp(&x, &y, sizeof x) == 0;
  }
  return a.rep_ == b.rep_;
}

std::string Value::to_display() const {
  static const char* kHex = "0123456789abcdef";
  switch (type()) {
    case Type::null: return "NULL";
    case Type::integer: return std::to_string(as_integer());
    case Type::real: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", as_real());
      std::string s = buf;
      if (s.find_first_of(".eEni") == std::string::npos) s += ".0";
      return s;
    }
    case Type::text: {
      std::string out = "'";
      for (char c : as_text()) {
        if (c == '\'') out += "''";
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else out += c;
      }
      return out + "'";
    }
    case Type::blob: {
      std::string out = "x'";
      for (auto b : as_blob()) {
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
      }
      return out + "'";
    }
  }
  return "";
}

std::int64_t Uuid::unix_ms() const noexcept {
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | bytes[static_cast<std::size_t>(i)];
  return static_cast<std::int64_t>(ms);
}

std::string Uuid::to_string() const {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  Uuid id;
  std::size_t n = 0;
  int half = -1;
  for (char c : text) {
    if (c == '-') continue;
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return std::nullopt;
    if (half < 0) {
      half = v;
    } else {
      if (n >= 16) return std::nullopt;
      id.bytes[n++] = static_cast<std::uint8_t>(half * 16 + v);
      half = -1;
    }
  }
  if (n != 16 || half >= 0) return std::nullopt;
  return id;
}

const char* to_string(Order order) noexcept {
  switch (order) {
    case Order::before: return "before";
    case Order::after: return "after";
    case Order::equal: return "equal";
    case Order::concurrent: return "concurrent";
  }
  return "concurrent";
}

std::uint64_t VectorClock::get(const DeviceId& device) const {
  auto it = entries_.find(device);
  return it == entries_.end() ? 0 : it->second;
}

void VectorClock::set(const DeviceId& device, std::uint64_t seq) {
  if (seq == 0) entries_.erase(device);
  else entries_[device] = seq;
}

void VectorClock::merge(const VectorClock& other) {
  for (const auto& [device, seq] : other.entries_) {
    auto& mine = entries_[device];
    if (seq > mine) mine = seq;
  }
}

bool VectorClock::included_in(const VectorClock& other) const {
  for (const auto& [device, seq] : entries_)
    if (seq > other.get(device)) return false;
  return true;
}

std::string VectorClock::to_string() const {
  std::string out = "{";
  for (const auto& [device, seq] : entries_) {
    if (out.size() > 1) out += ", ";
    out += device.to_string() + ": " + std::to_string(seq);
  }
  return out + "}";
}

Order compare(const VectorClock& a, const VectorClock& b) {
  const bool a_in_b = a.included_in(b), b_in_a = b.included_in(a);
  if (a_in_b && b_in_a) return Order::equal;
  if (a_in_b) return Order::before;
  if (b_in_a) return Order::after;
  return Order::concurrent;
}

const char* to_string(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::insert: return "insert";
    case OpKind::update: return "update";
    case OpKind::remove: return "delete";
  }
  return "?";
}

bool operator==(const Operation& a, const Operation& b) {
  return a.id == b.id && a.origin == b.origin && a.seq == b.seq && a.lamport == b.lamport &&
         a.clock == b.clock && a.table == b.table && a.key == b.key && a.kind == b.kind &&
         a.columns == b.columns && a.prev_hash == b.prev_hash;
}

std::string to_hex(const Hash& hash) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (auto b : hash) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace ferry
