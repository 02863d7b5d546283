// looks_like_bundle, inspect_bundle and verify_bundle (ferry/engine.h): what a
// bundle file is, without a database.
#include <sys/stat.h>

#include <set>

#include "bundle/format.h"
#include "bundle/reader.h"
#include "ferry/engine.h"
#include "trust/envelope.h"
#include "util/files.h"

namespace ferry {

bool looks_like_bundle(const std::string& path) {
  const std::string header = util::read_head(path, 72);
  if (header.compare(0, 8, "FERRYENC") == 0) return true;  // Encrypted (trust/envelope.h).
  if (header.size() < 72 || header.compare(0, 16, std::string("SQLite format 3\0", 16)) != 0) return false;
  std::uint32_t app_id = 0;  // Big-endian at offset 68 of the SQLite header (bundle/format.h).
  for (int i = 68; i < 72; ++i) app_id = app_id << 8 | static_cast<std::uint8_t>(header[static_cast<std::size_t>(i)]);
  return app_id == static_cast<std::uint32_t>(bundle::kApplicationId);
}

BundleInfo inspect_bundle(const std::string& path) {
  if (const auto envelope = trust::peek_envelope(path, path)) {
    BundleInfo info;  // Only what an encrypted bundle shows anyone.
    info.encrypted_for = envelope->recipient;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) info.bytes = static_cast<std::uint64_t>(st.st_size);
    return info;
  }
  return bundle::Reader(path).info();
}

VerifyReport verify_bundle(const std::string& path) {
  VerifyReport report;
  try {
    bundle::Reader reader(path);
    std::set<DeviceId> devices;
    reader.scan([&](const Operation& op, std::string_view, const Hash&) {
      ++report.operations;
      devices.insert(op.origin);
    });
    report.devices = devices.size();
  } catch (const Error& e) {
    if (e.code() != Errc::corrupt && e.code() != Errc::untrusted) throw;
    report.ok = false;
    report.first_failure = e.what();
  }
  return report;
}

}  // namespace ferry
