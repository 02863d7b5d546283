#pragma once
// UTF-8 as the terminal and JSON see it. TEXT in SQLite may hold any bytes
// (bundle_format/README.md §2), and names come from strangers: what is shown
// or rendered must not break either.

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry::util {

// The length of the well-formed UTF-8 sequence starting at `s[i]` (1 to 4),
// or 0 if there is none: a stray continuation byte, a truncated or overlong
// sequence, a surrogate, a code point past U+10FFFF.
std::size_t utf8_sequence(std::string_view s, std::size_t i);

// True when every byte of `s` belongs to a well-formed UTF-8 sequence.
bool is_utf8(std::string_view s);

// `s` made safe for a terminal: control characters (C0, DEL and C1) and bytes
// that are not well-formed UTF-8 become \xNN; at most `max_bytes` of `s` are
// shown, then "...". Other characters pass as they are.
std::string escaped(std::string_view s, std::size_t max_bytes);

}  // namespace ferry::util
