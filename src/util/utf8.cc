#include "util/utf8.h"

#include <cstdint>
#include <cstdio>

namespace ferry::util {

std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp;
  if ((b0 & 0xe0) == 0xc0) {
    n = 2, cp = b0 & 0x1fu;
  } else if ((b0 & 0xf0) == 0xe0) {
    n = 3, cp = b0 & 0x0fu;
  } else if ((b0 & 0xf8) == 0xf0) {
    n = 4, cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (byte(i + k) & 0x3fu);
  }
  static const std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string escaped(std::string_view s, std::size_t max_bytes) {
  const std::string_view shown = s.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size());
  auto hex = [&](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (std::size_t i = 0; i < shown.size();) {
    const std::size_t n = utf8_sequence(shown, i);
    const auto c = static_cast<unsigned char>(shown[i]);
    // C1 controls (U+0080..U+009F) are two bytes, C2 80..C2 9F: a terminal obeys them too.
    const bool control = n == 1 ? (c < 0x20 || c == 0x7f)
                                : n == 2 && c == 0xc2 && static_cast<unsigned char>(shown[i + 1]) < 0xa0;
    if (n == 0 || control) {
      for (std::size_t k = 0; k < (n == 0 ? 1 : n); ++k) hex(static_cast<unsigned char>(shown[i + k]));
      i += n == 0 ? 1 : n;
    } else {
      out.append(shown.substr(i, n));
      i += n;
    }
  }
  return out + (s.size() > max_bytes ? "..." : "");
}

}  // namespace ferry::util
