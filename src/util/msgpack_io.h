#pragma once
// The two msgpack helpers every per-operation codec uses. Both exist for
// speed: an import encodes and parses several small msgpack values per
// operation, and msgpack-c's defaults allocate (and free) an 8 KB block for
// each one, which on a 100,000-operation import costs more than the parsing.

#include <cstddef>
#include <memory>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <type_traits>

namespace ferry::util {

// A packer target that appends to `out` (a std::string or Bytes), which the
// caller then moves out: no fixed first block, no copy at the end.
template <typename Container>
struct AppendSink {
  Container out;
  void write(const char* p, std::size_t n) {
    if constexpr (std::is_same_v<Container, std::string>) out.append(p, n);  // insert() goes through _M_replace.
    else out.insert(out.end(), p, p + n);
  }
};

// `bytes` parsed as one msgpack object. Strings and binaries point into
// `bytes` (REQUIRES: it outlives this); everything else lives in a zone this
// thread reuses, so parsing allocates nothing once the thread is warm.
// Throws what msgpack::unpack throws; `offset` is where parsing stopped.
class Unpacked {
 public:
  Unpacked(std::string_view bytes, std::size_t& offset, const msgpack::unpack_limit& limits);
  ~Unpacked();
  Unpacked(const Unpacked&) = delete;
  Unpacked& operator=(const Unpacked&) = delete;

  const msgpack::object& get() const { return object_; }

 private:
  std::unique_ptr<msgpack::zone> own_;  // Only while another Unpacked holds this thread's zone.
  msgpack::object object_;
};

}  // namespace ferry::util
