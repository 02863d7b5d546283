#include "replica/meta.h"

#include <cstring>

namespace ferry::replica {
namespace {

const std::string kForgottenKey = "forgotten ";  // + device id.

}  // namespace

std::optional<Value> get_meta(sql::Database& db, const std::string& key) {
  auto st = db.prepare("SELECT value FROM ferry_meta WHERE key=?");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return st.value(0);
}

std::uint64_t get_meta_count(sql::Database& db, const std::string& key, std::uint64_t fallback) {
  const auto v = get_meta(db, key);
  return v && v->type() == Value::Type::integer ? static_cast<std::uint64_t>(v->as_integer()) : fallback;
}

void set_meta(sql::Database& db, const std::string& key, const Value& value) {
  auto st = db.prepare("INSERT INTO ferry_meta(key, value) VALUES(?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  st.bind(1, key).bind(2, value);
  st.run();
}

std::optional<std::string> reuse_evidence(sql::Database& db) {
  const auto v = get_meta(db, kEvidenceKey);
  if (!v || v->type() != Value::Type::text) return std::nullopt;
  return v->as_text();
}

std::uint64_t reuse_agreed(sql::Database& db) { return get_meta_count(db, kAgreedKey, 0); }

void clear_reuse_evidence(sql::Database& db) {
  auto st = db.prepare("DELETE FROM ferry_meta WHERE key IN (?, ?)");
  st.bind(1, kEvidenceKey).bind(2, kAgreedKey);
  st.run();
}

DeviceId own_device_id(sql::Database& db) {
  auto v = get_meta(db, "device_id");
  if (!v || v->type() != Value::Type::blob || v->as_blob().size() != 16)
    throw Error(Errc::corrupt, db.path() + ": ferry_meta holds no valid device id");
  DeviceId id;
  std::memcpy(id.bytes.data(), v->as_blob().data(), 16);
  return id;
}

std::string own_device_name(sql::Database& db) {
  auto v = get_meta(db, "device_name");
  return v && v->type() == Value::Type::text ? v->as_text() : "";
}

std::map<DeviceId, std::uint64_t> forgotten(sql::Database& db) {
  std::map<DeviceId, std::uint64_t> out;
  auto st = db.prepare("SELECT key, value FROM ferry_meta WHERE key > ? AND key < ?");
  st.bind(1, kForgottenKey).bind(2, kForgottenKey + "~");
  while (st.step()) {
    const auto device = Uuid::parse(st.text(0).substr(kForgottenKey.size()));
    if (device && st.value(1).type() == Value::Type::integer) out[*device] = static_cast<std::uint64_t>(st.integer(1));
  }
  return out;
}

void set_forgotten(sql::Database& db, const DeviceId& device, std::uint64_t up_to) {
  set_meta(db, kForgottenKey + device.to_string(), Value::integer(static_cast<std::int64_t>(up_to)));
}

namespace {
const std::string kPurgedKey = "purged ";
}  // namespace

std::uint64_t purged_head(sql::Database& db, const DeviceId& chain) {
  return get_meta_count(db, kPurgedKey + chain.to_string(), 0);
}

void set_purged_head(sql::Database& db, const DeviceId& chain, std::uint64_t seq) {
  set_meta(db, kPurgedKey + chain.to_string(), Value::integer(static_cast<std::int64_t>(seq)));
}

}  // namespace ferry::replica
