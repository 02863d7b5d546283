// What a stranger wrote is shown, never obeyed: names and messages pass through
// printable() on their way to a terminal, and JSON carries any TEXT exactly.
#include <catch2/catch.hpp>

#include "ferry/error.h"
#include "util/utf8.h"

using ferry::printable;

TEST_CASE("printable escapes control characters, C1 controls and bytes that are not UTF-8", "[printable]") {
  CHECK(printable("plain text, é and 漢字") == "plain text, é and 漢字");
  CHECK(printable("bell\x07 and escape\x1b[31m") == "bell\\x07 and escape\\x1b[31m");
  CHECK(printable("C1 CSI \xc2\x9b" "31m") == "C1 CSI \\xc2\\x9b31m");
  CHECK(printable("stray \xff\xfe bytes") == "stray \\xff\\xfe bytes");
  CHECK(printable("overlong \xc0\xaf slash") == "overlong \\xc0\\xaf slash");
  CHECK(printable("surrogate \xed\xa0\x80") == "surrogate \\xed\\xa0\\x80");
  CHECK(printable("cut \xe6\xbc") == "cut \\xe6\\xbc");
  CHECK(printable(std::string(100, 'x')) == std::string(80, 'x') + "...");
  CHECK(printable(std::string(100, 'x'), std::string::npos) == std::string(100, 'x'));
}

TEST_CASE("is_utf8 accepts exactly well-formed UTF-8", "[printable]") {
  CHECK(ferry::util::is_utf8(""));
  CHECK(ferry::util::is_utf8("a\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80"));
  CHECK_FALSE(ferry::util::is_utf8("\xff"));
  CHECK_FALSE(ferry::util::is_utf8("\xf4\x90\x80\x80"));  // Past U+10FFFF.
  CHECK_FALSE(ferry::util::is_utf8("\xe0\x80\xaf"));      // Overlong.
}
