#pragma once
// Value: one SQLite value, kept exactly. A REAL keeps every bit (including
// -0.0), TEXT may hold any bytes (embedded NUL included), and TEXT and BLOB
// stay distinct.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

using Bytes = std::vector<std::uint8_t>;

class Value {
 public:
  enum class Type { null, integer, real, text, blob };

  Value() = default;
  static Value integer(std::int64_t v) { return Value(Rep(std::in_place_index<1>, v)); }
  static Value real(double v) { return Value(Rep(std::in_place_index<2>, v)); }
  static Value text(std::string v) { return Value(Rep(std::in_place_index<3>, std::move(v))); }
  static Value blob(Bytes v) { return Value(Rep(std::in_place_index<4>, std::move(v))); }

  Type type() const noexcept { return static_cast<Type>(rep_.index()); }
  bool is_null() const noexcept { return rep_.index() == 0; }
  // REQUIRES: type() is the matching type.
  std::int64_t as_integer() const { return std::get<1>(rep_); }
  double as_real() const { return std::get<2>(rep_); }
  const std::string& as_text() const { return std::get<3>(rep_); }
  const Bytes& as_blob() const { return std::get<4>(rep_); }

  // Exact equality: same type and same bytes (so -0.0 != 0.0 and 1 != 1.0).
  friend bool operator==(const Value& a, const Value& b) noexcept;
  friend bool operator!=(const Value& a, const Value& b) noexcept { return !(a == b); }

  // A short human rendering, SQL-literal style: NULL, 42, 1.5, 'text', x'00ff'.
  std::string to_display() const;
  // Reads a value as typed by a person: NULL, 42, -1.5, 'quoted text' (with ''
  // for a quote), x'00ff'; anything else is TEXT exactly as given.
  static Value parse(const std::string& literal);

 private:
  using Rep = std::variant<std::monostate, std::int64_t, double, std::string, Bytes>;
  explicit Value(Rep rep) : rep_(std::move(rep)) {}
  Rep rep_;
};

}  // namespace ferry
#pragma GCC visibility pop
