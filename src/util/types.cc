// Small value types of the public API: Value, Uuid, VectorClock, Operation helpers, Errc names, printable().
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "ferry/error.h"
#include "ferry/ids.h"
#include "ferry/operation.h"
#include "ferry/value.h"
#include "ferry/vector_clock.h"
#include "util/counters.h"
#include "util/hex.h"
#include "util/utf8.h"

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

std::string printable(const std::string& s, std::size_t max_bytes) { return util::escaped(s, max_bytes); }

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

namespace {

bool entry_before(const VectorClock::Entry& e, const DeviceId& d) { return e.first < d; }

}  // namespace

VectorClock::VectorClock(std::vector<Entry> entries) : entries_(std::move(entries)) {
  const auto ascending = [](const Entry& a, const Entry& b) { return a.first < b.first && a.second > 0; };
  if (std::adjacent_find(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) { return !ascending(a, b); }) ==
          entries_.end() &&
      (entries_.empty() || entries_.back().second > 0))
    return;  // Given in device order, each once, none 0: as a clock keeps them.
  std::sort(entries_.begin(), entries_.end());
  // Equal devices are now adjacent, the greatest seq last: keep that one.
  auto out = entries_.begin();
  for (auto in = entries_.begin(); in != entries_.end(); ++in) {
    if (in->second == 0 || (in + 1 != entries_.end() && (in + 1)->first == in->first)) continue;
    *out++ = *in;
  }
  entries_.erase(out, entries_.end());
}

std::uint64_t VectorClock::get(const DeviceId& device) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), device, entry_before);
  return it != entries_.end() && it->first == device ? it->second : 0;
}

void VectorClock::set(const DeviceId& device, std::uint64_t seq) {
  if (seq > 0 && (entries_.empty() || entries_.back().first < device)) {
    entries_.emplace_back(device, seq);
    return;
  }
  auto it = std::lower_bound(entries_.begin(), entries_.end(), device, entry_before);
  const bool found = it != entries_.end() && it->first == device;
  if (seq == 0) {
    if (found) entries_.erase(it);
  } else if (found) {
    it->second = seq;
  } else {
    entries_.insert(it, Entry{device, seq});
  }
}

void VectorClock::merge(const VectorClock& other) {
  std::vector<Entry> out;
  out.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.cbegin();
  auto b = other.entries_.cbegin();
  const auto a_end = entries_.cend();
  const auto b_end = other.entries_.cend();
  while (a != a_end || b != b_end) {
    if (b == b_end || (a != a_end && a->first < b->first)) {
      out.push_back(*a++);
    } else if (a == a_end || b->first < a->first) {
      out.push_back(*b++);
    } else {
      out.emplace_back(a->first, std::max(a->second, b->second));
      ++a, ++b;
    }
  }
  entries_ = std::move(out);
}

bool VectorClock::included_in(const VectorClock& other) const {
  auto b = other.entries_.begin();
  const auto b_end = other.entries_.end();
  for (const auto& [device, seq] : entries_) {
    while (b != b_end && b->first < device) ++b;
    if (b == b_end || b->first != device || b->second < seq) return false;
  }
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
  return a.format == b.format && a.id == b.id && a.origin == b.origin && a.scope == b.scope && a.seq == b.seq && a.lamport == b.lamport &&
         a.clock == b.clock && a.table == b.table && a.key == b.key && a.kind == b.kind &&
         a.columns == b.columns && a.prev_hash == b.prev_hash;
}

std::string to_hex(const Hash& hash) { return util::hex(hash.data(), hash.size()); }

Value Value::parse(const std::string& text) {
  if (text == "NULL" || text == "null") return Value();
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
      out += text[i];
      if (text[i] == '\'' && i + 2 < text.size() && text[i + 1] == '\'') ++i;
    }
    return Value::text(out);
  }
  if (text.size() >= 3 && (text[0] == 'x' || text[0] == 'X') && text[1] == '\'' && text.back() == '\'' && text.size() % 2 == 1) {
    Bytes b;
    for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
      const std::string pair = text.substr(i, 2);
      if (pair.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return Value::text(text);
      b.push_back(static_cast<std::uint8_t>(std::stoi(pair, nullptr, 16)));
    }
    return Value::blob(b);
  }
  if (!text.empty() && text.find_first_not_of("+-0123456789") == std::string::npos) {
    try {
      std::size_t used = 0;
      const long long v = std::stoll(text, &used);
      if (used == text.size()) return Value::integer(v);
    } catch (const std::exception&) {
    }
  }
  if (!text.empty() && text.find_first_not_of("+-0123456789.eE") == std::string::npos) {
    try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == text.size()) return Value::real(v);
    } catch (const std::exception&) {
    }
  }
  return Value::text(text);
}

VectorClock VectorClock::parse(const std::string& text) {
  VectorClock clock;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    const auto colon = item.rfind(':');
    auto id = colon == std::string::npos ? std::nullopt : Uuid::parse(item.substr(0, colon));
    if (!id)
      throw Error(Errc::invalid_argument,
                  "'" + printable(item) + "' is not DEVICE-ID:SEQ (a clock is DEVICE-ID:SEQ,DEVICE-ID:SEQ...)");
    // Digits only: stoull would take "-1" for 2^64 - 1.
    const std::string digits = item.substr(colon + 1);
    const bool number = !digits.empty() && digits.size() <= 19 &&
                        digits.find_first_not_of("0123456789") == std::string::npos;
    const std::uint64_t seq = number ? std::stoull(digits) : 0;
    if (!number || seq > util::kMaxCounter)
      throw Error(Errc::invalid_argument, "'" + printable(item) + "' does not end in a sequence number (0 to 2^62)");
    if (clock.get(*id) != 0)
      throw Error(Errc::invalid_argument, "'" + printable(text) + "' names device " + id->to_string() + " twice");
    clock.set(*id, seq);
    start = end + 1;
  }
  return clock;
}

const char* version() noexcept { return FERRY_VERSION; }

}  // namespace ferry
