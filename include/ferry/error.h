#pragma once
// The one error type ferry throws. Every failure carries a kind from a small
// closed set (what the CLI turns into an exit code) and a message a person can
// act on, in the form "<where>: <what happened>[: <detail>]".

#include <cstddef>
#include <stdexcept>
#include <string>

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

enum class Errc {
  invalid_argument,  // The caller asked for something impossible (no such option, bad id text).
  not_found,         // A file, table, device or conflict that does not exist.
  corrupt,           // Bytes that do not verify: a damaged bundle, a tampered log.
  refused,           // Valid input ferry will not accept (newer format, chain mismatch, schema).
  untrusted,         // An intact bundle from a device this database does not trust (or by another key).
  database,          // SQLite failed (locked, read-only, disk full, I/O error).
  internal,          // A bug or an environment failure (no entropy, OpenSSL failure).
};

// Short stable name of a kind: "corrupt", "refused", ...
const char* to_string(Errc code) noexcept;

// A string another device wrote (a device name, a table name from a bundle)
// made safe to print: control characters (C0, DEL, C1) and bytes that are not
// well-formed UTF-8 escaped as \xNN, and at most `max_bytes` shown (then
// "..."), so that nothing a stranger wrote can drive a terminal. ferry's
// messages already show such strings this way; a program printing a whole
// message (which may quote SQLite's words on a file) can pass it through too.
std::string printable(const std::string& s, std::size_t max_bytes = 80);

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace ferry
#pragma GCC visibility pop
