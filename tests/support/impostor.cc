#include "support/impostor.h"

#include <algorithm>
#include <stdexcept>

#include "support/support.h"
#include "trust/keys.h"

namespace test {

void pose_as(const std::string& path, const ferry::DeviceId& victim) {
  auto db = app(path);
  auto own = db.prepare("SELECT value FROM ferry_meta WHERE key = 'device_id'");
  const ferry::Bytes bytes = own.step() ? own.blob(0) : ferry::Bytes{};
  if (bytes.size() != 16) throw std::runtime_error(path + ": not a database ferry prepared");
  ferry::DeviceId self;
  std::copy(bytes.begin(), bytes.end(), self.bytes.begin());
  own.reset();
  const ferry::trust::KeyPair keys = ferry::trust::KeyPair::load(ferry::trust::key_path(path), self);
  auto set = db.prepare("UPDATE ferry_meta SET value = ?1 WHERE key = 'device_id'");
  set.bind_blob(1, victim.bytes.data(), 16);
  set.run();
  auto device = db.prepare("UPDATE ferry_devices SET id = ?1 WHERE trust = 'self'");
  device.bind_blob(1, victim.bytes.data(), 16);
  device.run();
  keys.save(ferry::trust::key_path(path), victim);
}

}  // namespace test
