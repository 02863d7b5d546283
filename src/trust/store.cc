#include "trust/store.h"

#include <cstring>
#include <map>

#include "ferry/error.h"
#include "replica/meta.h"

namespace ferry::trust {
namespace {

const char* const kTrustNames[] = {"none", "self", "added", "tofu", "removed"};

Trust parse_trust(const std::string& text) {
  for (int i = 0; i < 5; ++i)
    if (text == kTrustNames[i]) return static_cast<Trust>(i);
  return Trust::none;
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> fixed_blob(sql::Statement& st, int column) {
  if (st.is_null(column)) return std::nullopt;
  const auto b = st.blob_view(column);
  if (b.size() != N) return std::nullopt;
  std::array<std::uint8_t, N> out{};
  std::memcpy(out.data(), b.data(), N);
  return out;
}

std::string device_words(const DeviceId& device, const std::string& name) {
  return "device " + device.to_string() + (name.empty() ? "" : " (" + printable(name) + ")");  // Names come in bundles.
}

}  // namespace
}  // namespace ferry::trust

namespace ferry {
const char* to_string(Trust trust) noexcept { return trust::kTrustNames[static_cast<int>(trust)]; }
}  // namespace ferry

namespace ferry::trust {

bool Store::strict() {
  const auto v = replica::get_meta(db_, "trust_policy");
  return v && v->type() == Value::Type::text && v->as_text() == "strict";
}

void Store::set_strict(bool strict) { replica::set_meta(db_, "trust_policy", Value::text(strict ? "strict" : "tofu")); }

Identity Store::self_identity() {
  const auto sign = replica::get_meta(db_, "sign_key"), box = replica::get_meta(db_, "box_key");
  if (!sign || !box || sign->type() != Value::Type::blob || box->type() != Value::Type::blob ||
      sign->as_blob().size() != 32 || box->as_blob().size() != 32)
    throw Error(Errc::corrupt, db_.path() + ": ferry_meta holds no valid public keys for this device");
  Identity id;
  std::memcpy(id.sign.data(), sign->as_blob().data(), 32);
  std::memcpy(id.box.data(), box->as_blob().data(), 32);
  return id;
}

std::optional<Identity> Store::identity(const DeviceId& device) {
  auto st = db_.prepare("SELECT sign_key, box_key FROM ferry_devices WHERE id=?");
  st.bind_blob(1, device.bytes.data(), 16);
  if (!st.step()) return std::nullopt;
  const auto sign = fixed_blob<32>(st, 0);
  if (!sign) return std::nullopt;
  return Identity{*sign, fixed_blob<32>(st, 1).value_or(PublicKey{})};
}

Trust Store::trust_of(const DeviceId& device) {
  auto st = db_.prepare("SELECT trust FROM ferry_devices WHERE id=?");
  st.bind_blob(1, device.bytes.data(), 16);
  return st.step() ? parse_trust(st.text(0)) : Trust::none;
}

std::vector<PeerInfo> Store::admit(const BundleInfo& info, const std::string& shown, replica::Devices& devices) {
  std::vector<PeerInfo> pinned;
  check(shown, devices, info.exporter, info.signer_key, &info.exporter_box_key, info.exporter_name, pinned);
  std::map<DeviceId, DeviceId> owner;  // A chain of a scope is signed by its device (format4.md §12.9).
  for (const ScopedChain& c : info.scoped_chains) owner.emplace(c.chain, c.device);
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    const auto scoped = owner.find(info.ranges[i].device);
    const DeviceId& device = scoped == owner.end() ? info.ranges[i].device : scoped->second;
    if (device != info.exporter) check(shown, devices, device, info.origin_keys[i], nullptr, "", pinned);
  }
  return pinned;
}

void Store::check(const std::string& shown, replica::Devices& devices, const DeviceId& device, const PublicKey& sign,
                  const PublicKey* box, const std::string& name, std::vector<PeerInfo>& pinned) {
  const replica::Device& d = devices.ensure(device);
  const std::string who = device_words(device, d.name.empty() ? name : d.name);
  const Trust trust = trust_of(device);
  const auto held = identity(device);
  const Identity offered{sign, box ? *box : PublicKey{}};
  auto refuse = [&](const std::string& why) {
    throw Error(Errc::untrusted, shown + ": " + why + " Nothing was imported.");
  };
  if (trust == Trust::self) {
    if (held && held->sign != sign)
      refuse("carries operations under this device's own id (" + device.to_string() +
             ") signed with another key: they are forged, or this database was copied to another machine.");
    return;
  }
  if (trust == Trust::removed)
    refuse(who + " was removed from the devices " + db_.path() + " trusts; if that was a mistake, add it again with "
           "`ferry trust " + db_.path() + " add " + device.to_string() + " KEY`.");
  if (held) {
    if (held->sign != sign)
      refuse(who + " signed with key " + fingerprint(device, sign) + ", but " + db_.path() + " knows it by key " +
             fingerprint(device, held->sign) + ": someone is impersonating it, or it was given a new key. If its owner "
             "confirms the new key (`ferry status` on it), run `ferry trust " + db_.path() + " add " + device.to_string() +
             " " + to_text(offered).substr(0, box ? 128 : 64) + "`.");
    // The encryption key comes signed by the signing key just checked: the device's own word.
    if (box && held->box != *box) {
      auto st = db_.prepare("UPDATE ferry_devices SET box_key=? WHERE no=?");
      st.bind_blob(1, box->data(), 32).bind(2, d.no);
      st.run();
    }
    return;
  }
  if (strict())
    refuse(who + " is not among the devices " + db_.path() + " trusts (policy strict). Compare its fingerprint, " +
           fingerprint(device, sign) + ", with its owner (`ferry status` on it), then run `ferry trust " + db_.path() +
           " add " + device.to_string() + " " + to_text(offered).substr(0, box ? 128 : 64) + "` and import again.");
  auto st = db_.prepare("UPDATE ferry_devices SET sign_key=?, box_key=?, trust='tofu' WHERE no=?");
  st.bind_blob(1, sign.data(), 32).bind(3, d.no);
  if (box) st.bind_blob(2, box->data(), 32);
  else st.bind_null(2);
  st.run();
  pinned.push_back(describe(d));
  if (pinned.back().name.empty()) pinned.back().name = name;
}

void Store::remember_heads(const BundleInfo& info, replica::Devices& devices, const DeviceId& self) {
  auto st = db_.prepare("INSERT OR IGNORE INTO ferry_heads(device, seq, signature) VALUES(?, ?, ?)");
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    if (info.ranges[i].device == self) continue;
    st.bind(1, devices.ensure(info.ranges[i].device).no)
        .bind(2, static_cast<std::int64_t>(info.ranges[i].last))
        .bind_blob(3, info.head_signatures[i].data(), 64);
    st.run();
  }
}

void Store::keep_signed_head(std::int64_t device_no, std::uint64_t seq, const Signature& signature) {
  auto st = db_.prepare("INSERT OR REPLACE INTO ferry_heads(device, seq, signature) VALUES(?, ?, ?)");
  st.bind(1, device_no).bind(2, static_cast<std::int64_t>(seq)).bind_blob(3, signature.data(), 64);
  st.run();
}

std::optional<std::pair<std::uint64_t, Signature>> Store::signed_head(std::int64_t device_no, std::uint64_t up_to) {
  auto st = db_.prepare("SELECT seq, signature FROM ferry_heads WHERE device=? AND seq<=? ORDER BY seq DESC LIMIT 1");
  st.bind(1, device_no).bind(2, static_cast<std::int64_t>(up_to));
  if (!st.step()) return std::nullopt;
  const auto signature = fixed_blob<64>(st, 1);
  if (!signature) throw Error(Errc::corrupt, db_.path() + ": ferry_heads holds a malformed signature");
  return std::make_pair(static_cast<std::uint64_t>(st.integer(0)), *signature);
}

void Store::add(replica::Devices& devices, const DeviceId& device, const Identity& identity, const std::string& name) {
  if (trust_of(device) == Trust::self)
    throw Error(Errc::invalid_argument, device.to_string() + " is this device itself; it always trusts its own key");
  const replica::Device& d = devices.ensure(device);
  if (const auto held = this->identity(device); held && held->sign != identity.sign) {
    // Heads signed with the old key would be refused by whoever pins the new one: not passed on any more.
    // Pending operations were checked against the old key: they wait for no one now.
    auto forget = db_.prepare("DELETE FROM ferry_heads WHERE device=?");
    forget.bind(1, d.no);
    forget.run();
    auto pending = db_.prepare("DELETE FROM ferry_pending WHERE origin=?");
    pending.bind_blob(1, device.bytes.data(), 16);
    pending.run();
  }
  auto st = db_.prepare("UPDATE ferry_devices SET sign_key=?, box_key=?, trust='added', name=iif(?='', name, ?) "
                        "WHERE no=?");
  st.bind_blob(1, identity.sign.data(), 32).bind(3, name).bind(4, name).bind(5, d.no);
  if (identity.box != PublicKey{}) st.bind_blob(2, identity.box.data(), 32);
  else st.bind_null(2);
  st.run();
}

void Store::retire(const replica::Device& device, const std::string& name) {
  auto st = db_.prepare("UPDATE ferry_devices SET trust='added', name=? WHERE no=?");
  st.bind(1, name).bind(2, device.no);
  st.run();
}

void Store::remove(const replica::Device& device) {
  if (trust_of(device.id) == Trust::self)
    throw Error(Errc::invalid_argument, device.id.to_string() + " is this device itself; it cannot stop trusting itself");
  auto st = db_.prepare("UPDATE ferry_devices SET trust='removed' WHERE no=?");
  st.bind(1, device.no);
  st.run();
}

PeerInfo Store::describe(const replica::Device& device) {
  PeerInfo p;
  p.id = device.id;
  p.name = device.name;
  p.head = device.head_seq;
  auto st = db_.prepare("SELECT sign_key, box_key, trust, forked FROM ferry_devices WHERE no=?");
  st.bind(1, device.no);
  if (!st.step()) return p;
  p.trust = parse_trust(st.text(2));
  p.is_self = p.trust == Trust::self;
  p.forked = st.integer(3) != 0;
  if (const auto sign = fixed_blob<32>(st, 0)) {
    const Identity id{*sign, fixed_blob<32>(st, 1).value_or(PublicKey{})};
    p.public_key = to_text(id).substr(0, id.box == PublicKey{} ? 64 : 128);
    p.fingerprint = fingerprint(device.id, id.sign);
  }
  return p;
}

void Store::record_fork(const ForkEvidence& e) {
  auto st = db_.prepare(
      "INSERT OR IGNORE INTO ferry_forks(device, seq, held_hash, held_body, other_hash, other_body, bundle, detected_ms) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind_blob(1, e.device.bytes.data(), 16)
      .bind(2, static_cast<std::int64_t>(e.seq))
      .bind_blob(3, e.held_hash.data(), 32)
      .bind_blob(4, e.held_body.data(), e.held_body.size())
      .bind_blob(5, e.other_hash.data(), 32)
      .bind_blob(6, e.other_body.data(), e.other_body.size())
      .bind(7, e.bundle)
      .bind(8, e.detected_ms);
  st.run();
  // The chain, and for a chain of a scope the device whose key signed both (format4.md §12.9).
  auto flag = db_.prepare("UPDATE ferry_devices SET forked=1 WHERE id=?1 OR no=(SELECT n.owner FROM ferry_chain_names "
                          "AS n JOIN ferry_devices AS c ON c.no = n.chain WHERE c.id=?1)");
  flag.bind_blob(1, e.device.bytes.data(), 16);
  flag.run();
}

std::vector<ForkEvidence> Store::forks() {
  std::vector<ForkEvidence> out;
  // A chain of a scope is named by its device and scope (ferry_chain_names), as people know it.
  auto st = db_.prepare(
      "SELECT coalesce(o.id, f.device), f.seq, f.held_hash, f.held_body, f.other_hash, f.other_body, f.bundle, "
      "f.detected_ms, coalesce(n.scope, '') FROM ferry_forks AS f LEFT JOIN ferry_devices AS c ON c.id = f.device "
      "LEFT JOIN ferry_chain_names AS n ON n.chain = c.no LEFT JOIN ferry_devices AS o ON o.no = n.owner "
      "ORDER BY f.detected_ms, f.device, f.seq");
  while (st.step()) {
    ForkEvidence e;
    const auto device = fixed_blob<16>(st, 0);
    if (device) e.device.bytes = *device;
    e.scope = st.text(8);
    e.seq = static_cast<std::uint64_t>(st.integer(1));
    e.held_hash = fixed_blob<32>(st, 2).value_or(Hash{});
    const auto held = st.blob_view(3), other = st.blob_view(5);
    e.held_body.assign(held.data(), held.size());
    e.other_hash = fixed_blob<32>(st, 4).value_or(Hash{});
    e.other_body.assign(other.data(), other.size());
    e.bundle = st.text(6);
    e.detected_ms = st.integer(7);
    out.push_back(std::move(e));
  }
  return out;
}

void Store::drop_forks(const DeviceId& device) {
  auto st = db_.prepare("DELETE FROM ferry_forks WHERE device=?");
  st.bind_blob(1, device.bytes.data(), 16);
  st.run();
}

}  // namespace ferry::trust
