#include "util/msgpack_io.h"

namespace ferry::util {
namespace {

thread_local msgpack::zone t_zone;
thread_local bool t_zone_busy = false;

bool reference_input(msgpack::type::object_type, std::size_t, void*) { return true; }

}  // namespace

Unpacked::Unpacked(std::string_view bytes, std::size_t& offset, const msgpack::unpack_limit& limits) {
  if (t_zone_busy) {
    own_ = std::make_unique<msgpack::zone>();
  } else {
    t_zone_busy = true;
  }
  try {
    bool referenced = false;
    object_ = msgpack::unpack(own_ ? *own_ : t_zone, bytes.data(), bytes.size(), offset, referenced, reference_input,
                              nullptr, limits);
  } catch (...) {
    if (!own_) {
      t_zone.clear();
      t_zone_busy = false;
    }
    throw;
  }
}

Unpacked::~Unpacked() {
  if (own_) return;
  t_zone.clear();
  t_zone_busy = false;
}

}  // namespace ferry::util
