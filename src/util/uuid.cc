#include "util/uuid.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <chrono>
#include <cstring>

#include "ferry/error.h"

namespace ferry::util {

Uuid make_uuid_v7(std::int64_t unix_ms) {
  Uuid id;
  try {
    static thread_local boost::uuids::random_generator generator;
    const boost::uuids::uuid random = generator();
    std::memcpy(id.bytes.data(), random.data, 16);
  } catch (const std::exception& e) {
    throw Error(Errc::internal, std::string("cannot draw random bytes for an id: ") + e.what());
  }
  const auto ms = static_cast<std::uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i) id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  id.bytes[6] = static_cast<std::uint8_t>(0x70 | (id.bytes[6] & 0x0f));  // Version 7.
  id.bytes[8] = static_cast<std::uint8_t>(0x80 | (id.bytes[8] & 0x3f));  // RFC 4122 variant.
  return id;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace ferry::util
