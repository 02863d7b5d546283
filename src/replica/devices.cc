#include "replica/devices.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "ferry/error.h"
#include "replica/meta.h"
#include "util/uuid.h"

namespace ferry::replica {

namespace {

bool id_before(const std::pair<DeviceId, Device*>& e, const DeviceId& id) { return e.first < id; }

constexpr const char* kColumns = "SELECT no, id, name, head_seq, base_seq FROM ferry_devices";

}  // namespace

Device& Devices::place() const {
  if (placed_ == blocks_.size() * kBlock) blocks_.push_back(std::make_unique<Device[]>(kBlock));
  Device& d = blocks_.back()[placed_ % kBlock];
  ++placed_;
  return d;
}

Device& Devices::read_row(const sql::Statement& st) const {
  const std::string_view id = st.blob_view(1);
  if (id.size() != 16) throw Error(Errc::corrupt, db_.path() + ": ferry_devices holds a malformed device id");
  Device& d = place();
  d.no = st.integer(0);
  std::memcpy(d.id.bytes.data(), id.data(), 16);
  const std::string_view name = st.blob_view(2);  // TEXT NOT NULL: its bytes as they are.
  d.name.assign(name.data(), name.size());
  d.head_seq = static_cast<std::uint64_t>(st.integer(3));
  d.base_seq = static_cast<std::uint64_t>(st.integer(4));
  return d;
}

void Devices::file(Device& d) const {
  by_id_.insert(std::lower_bound(by_id_.begin(), by_id_.end(), d.id, id_before), {d.id, &d});
  const auto at =
      std::lower_bound(by_no_.begin(), by_no_.end(), d.no, [](const Device* e, std::int64_t n) { return e->no < n; });
  by_no_.insert(at, &d);
}

Device* Devices::read_one(sql::Statement& query) const {
  Device* d = query.step() ? &read_row(query) : nullptr;
  query.reset();
  if (d != nullptr) file(*d);
  return d;
}

void Devices::read_all() const {
  if (all_read_) return;
  // In id order, from ferry_devices_list alone (it covers these columns): a
  // hub's thousands of rows are a fifth of the pages of the table, and come sorted.
  // The devices read one by one so far keep their slots (references to them,
  // and their moves, stay); the lists are replaced only once all is read.
  std::vector<std::pair<DeviceId, Device*>> listed;
  listed.reserve(by_id_.size());
  auto known = by_id_.begin();
  auto st = db_.prepare(std::string(kColumns) + " ORDER BY id");
  while (st.step()) {
    const std::string_view raw = st.blob_view(1);
    if (raw.size() != 16) throw Error(Errc::corrupt, db_.path() + ": ferry_devices holds a malformed device id");
    DeviceId id;
    std::memcpy(id.bytes.data(), raw.data(), 16);
    if (!listed.empty() && !(listed.back().first < id))
      throw Error(Errc::corrupt, db_.path() + (listed.back().first == id
                                                   ? ": ferry_devices names device " + id.to_string() + " twice"
                                                   : std::string(": the index ferry_devices_list is damaged (out of id "
                                                                 "order); `REINDEX ferry_devices_list` rebuilds it")));
    while (known != by_id_.end() && known->first < id) ++known;
    Device& d = known != by_id_.end() && known->first == id ? *known->second : read_row(st);
    listed.emplace_back(d.id, &d);
  }
  by_id_ = std::move(listed);
  // Numbers grow with arrival, ids with the time a device was made: nearly the same order.
  by_no_.clear();
  by_no_.reserve(by_id_.size());
  for (const auto& [id, d] : by_id_) by_no_.push_back(d);
  std::sort(by_no_.begin(), by_no_.end(), [](const Device* a, const Device* b) { return a->no < b->no; });
  all_read_ = true;
}

Device& Devices::ensure(const DeviceId& id) {
  if (Device* d = find(id)) return *d;
  auto st = db_.prepare("INSERT INTO ferry_devices(id) VALUES(?)");
  st.bind_blob(1, id.bytes.data(), 16);
  st.run();
  const std::int64_t no = db_.last_insert_rowid();
  if (!by_no_.empty() && by_no_.back()->no >= no)
    throw Error(Errc::corrupt, db_.path() + ": ferry_devices numbered a new device " + std::to_string(no) +
                                   ", not above every other");
  Device& d = place();
  d.no = no;
  d.id = id;
  d.hashes_read = true;  // None yet.
  file(d);
  return d;
}

Device& Devices::ensure_scoped(const DeviceId& chain, const Device& owner, const std::string& scope) {
  if (owner.scoped() || scope.empty() || (chain.bytes[6] >> 4) != 8)
    throw Error(Errc::internal, "a chain of a scope is named by a device and a scope other than the shared one");
  if (Device* known = find(chain)) {
    const auto [was_owner, was_scope] = name_of(*known);
    if (was_owner->no != owner.no || was_scope != scope)
      throw Error(Errc::corrupt, db_.path() + ": ferry_chain_names names chain " + chain.to_string() +
                                     " otherwise than its id says");
    return *known;
  }
  Device& d = ensure(chain);
  auto st = db_.prepare("INSERT INTO ferry_chain_names(chain, owner, scope) VALUES(?, ?, ?)");
  st.bind(1, d.no).bind(2, owner.no).bind(3, std::string_view(scope));
  st.run();
  d.owner_no_ = owner.no;
  d.scope_ = scope;
  d.name_read = true;
  return d;
}

std::pair<const Device*, std::string_view> Devices::name_of(const Device& chain) const {
  if (!chain.scoped()) return {&chain, std::string_view()};
  if (!chain.name_read) read_name(chain);
  return {&by_no(chain.owner_no_), chain.scope_};
}

void Devices::read_name(const Device& chain) const {
  if (!names_) names_.emplace(db_.prepare("SELECT owner, scope FROM ferry_chain_names WHERE chain=?"));
  names_->bind(1, chain.no);
  const bool found = names_->step();
  if (found) {
    chain.owner_no_ = names_->integer(0);
    const std::string_view scope = names_->blob_view(1);
    chain.scope_.assign(scope.data(), scope.size());
  }
  names_->reset();
  const Device* owner = found ? find_no(chain.owner_no_) : nullptr;
  if (owner == nullptr || owner->scoped() || chain.scope_.empty())
    throw Error(Errc::corrupt, db_.path() + ": ferry_chain_names does not say whose chain " + chain.id.to_string() +
                                   " is");
  chain.name_read = true;
}

Device* Devices::find(const DeviceId& id) {
  // The devices in by_no_ are not const; only the lookup is shared with the const find.
  return const_cast<Device*>(static_cast<const Devices*>(this)->find(id));
}

const Device* Devices::find(const DeviceId& id) const {
  if (last_ != nullptr && last_->id == id) return last_;
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(), id, id_before);
  if (it != by_id_.end() && it->first == id) return last_ = it->second;
  if (all_read_) return nullptr;
  if (++seeks_ > kSeeks) return read_all(), find(id);
  if (!by_id_query_) by_id_query_.emplace(db_.prepare(std::string(kColumns) + " WHERE id=?"));
  by_id_query_->bind_blob(1, id.bytes.data(), 16);
  const Device* d = read_one(*by_id_query_);
  return d != nullptr ? last_ = d : nullptr;
}

const Device* Devices::find_ascending(const DeviceId& id, std::size_t& cursor) const {
  read_all();
  if (cursor < by_id_.size() && id < by_id_[cursor].first) return find(id);  // Out of order.
  while (cursor < by_id_.size() && by_id_[cursor].first < id) ++cursor;
  return cursor < by_id_.size() && by_id_[cursor].first == id ? by_id_[cursor].second : nullptr;
}

const Device* Devices::find_no(std::int64_t no) const {
  // Numbers are rowids, dense unless devices were deleted: once all are read, most are where their number says.
  if (!by_no_.empty() && no >= by_no_.front()->no) {
    const auto at = static_cast<std::uint64_t>(no - by_no_.front()->no);
    if (at < by_no_.size() && by_no_[at]->no == no) return by_no_[at];
  }
  auto it = std::lower_bound(by_no_.begin(), by_no_.end(), no, [](const Device* d, std::int64_t n) { return d->no < n; });
  if (it != by_no_.end() && (*it)->no == no) return *it;
  if (all_read_) return nullptr;
  if (++seeks_ > kSeeks) return read_all(), find_no(no);
  if (!by_no_query_) by_no_query_.emplace(db_.prepare(std::string(kColumns) + " WHERE no=?"));
  by_no_query_->bind(1, no);
  return read_one(*by_no_query_);
}

const Device& Devices::by_no(std::int64_t no) const {
  const Device* d = find_no(no);
  if (d == nullptr)
    throw Error(Errc::corrupt, db_.path() + ": ferry_rows names unknown device number " + std::to_string(no));
  return *d;
}

const Device& Devices::lookup(const std::string& text) const {
  if (auto id = Uuid::parse(text))
    if (const Device* d = find(*id)) return *d;
  read_all();
  std::vector<const Device*> found;
  std::string hex;
  bool all_hex = true;
  for (char c : text) {
    if (c == '-') continue;
    all_hex = all_hex && std::isxdigit(static_cast<unsigned char>(c));
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  // Only 8 to 32 hex digits can be part of an id: a name alone is one compare per device.
  const bool may_be_part = all_hex && hex.size() >= 8 && hex.size() <= 32;
  for (const Device& d : all()) {
    bool part = false;
    if (may_be_part) {
      std::string id_hex = d.id.to_string();
      id_hex.erase(std::remove(id_hex.begin(), id_hex.end(), '-'), id_hex.end());
      // Ids are UUIDv7: the first digits are a time, the last ones random; either end may be given.
      part = id_hex.compare(0, hex.size(), hex) == 0 || id_hex.compare(id_hex.size() - hex.size(), hex.size(), hex) == 0;
    }
    if (d.name == text || part) found.push_back(&d);
  }
  if (found.size() > 1) {  // Two devices may share a name: one given a new identity by `ferry reidentify`, say.
    std::string which;
    for (const Device* d : found) which += (which.empty() ? "" : ", ") + d->id.to_string() + " (holds up to " +
                                           std::to_string(d->head_seq) + " of its operations)";
    throw Error(Errc::invalid_argument, "'" + text + "' matches more than one device: " + which + "; give the full id");
  }
  if (found.empty())
    throw Error(Errc::not_found, "no known device is called '" + text +
                                     "'; `ferry peers` lists the devices this database knows. For a device never heard "
                                     "from, give its full id (from `ferry status` on it) or use --all");
  return *found[0];
}

void Devices::read_hashes(const Device& device) const {
  if (device.hashes_read) return;
  if (!hashes_)
    hashes_.emplace(db_.prepare("SELECT head_seq, base_seq, head_hash, base_hash FROM ferry_devices WHERE no=?"));
  hashes_->reset();
  hashes_->bind(1, device.no);
  // Outside a transaction another connection may have moved the chain since
  // the list was read: a hash is believed only of the head that was read.
  if (!hashes_->step() || static_cast<std::uint64_t>(hashes_->integer(0)) != device.head_seq ||
      static_cast<std::uint64_t>(hashes_->integer(1)) != device.base_seq)
    throw Error(Errc::database, db_.path() + ": device " + device.id.to_string() +
                                    " changed on another connection while ferry read it; run the command again");
  // Anything but 32 bytes reads as none, as it always has: `ferry verify`
  // then names the head that does not match its chain.
  for (auto [column, into] : {std::pair{2, &device.head_hash_}, std::pair{3, &device.base_hash_}}) {
    const std::string_view h = hashes_->blob_view(column);
    if (h.size() == 32) std::memcpy(into->data(), h.data(), 32);
  }
  hashes_->reset();
  device.hashes_read = true;
}

const Hash& Devices::head_hash(const Device& device) const {
  read_hashes(device);
  return device.head_hash_;
}

const Hash& Devices::base_hash(const Device& device) const {
  read_hashes(device);
  return device.base_hash_;
}

void Devices::set_base(Device& device, std::uint64_t seq, const Hash& hash) {
  read_hashes(device);  // The head's, as the row holds them before this changes it.
  auto st = db_.prepare("UPDATE ferry_devices SET base_seq=?, base_hash=? WHERE no=?");
  st.bind(1, static_cast<std::int64_t>(seq)).bind_blob(2, hash.data(), 32).bind(3, device.no);
  st.run();
  device.base_seq = seq;
  device.base_hash_ = hash;
  move_head(device, seq, hash);
}

void Devices::move_head(Device& device, std::uint64_t seq, const Hash& hash) {
  read_hashes(device);  // The base's, which a move keeps.
  device.head_seq = seq;
  device.head_hash_ = hash;
  if (!device.head_dirty) dirty_.push_back(&device);
  device.head_dirty = true;
  if (!device.unfollowed) unfollowed_.push_back(&device);
  device.unfollowed = true;
  ++moves_;
}

void Devices::rename(Device& device, const std::string& name) {
  auto st = db_.prepare("UPDATE ferry_devices SET name=? WHERE no=?");
  st.bind(1, name).bind(2, device.no);
  st.run();
  device.name = name;
}

std::uint64_t Devices::purged_head(const Device& chain) const { return replica::purged_head(db_, chain.id); }

void Devices::drop_chain(Device& device) {
  read_hashes(device);
  auto st = db_.prepare("UPDATE ferry_devices SET forked=0, base_seq=0, base_hash=NULL WHERE no=?");
  st.bind(1, device.no);
  st.run();
  device.base_seq = 0;
  device.base_hash_ = Hash{};
  move_head(device, 0, Hash{});
}

VectorClock Devices::clock() const {
  read_all();
  std::vector<VectorClock::Entry> heads;
  heads.reserve(by_id_.size());
  for (const auto& [id, d] : by_id_)
    if (d->head_seq > 0) heads.emplace_back(id, d->head_seq);
  return VectorClock(std::move(heads));  // Already sorted: the sort only checks.
}

void Devices::save() {
  auto st = db_.prepare("UPDATE ferry_devices SET head_seq=?, head_hash=? WHERE no=?");
  for (Device* d : dirty_) {
    st.bind(1, static_cast<std::int64_t>(d->head_seq)).bind_blob(2, d->head_hash_.data(), 32).bind(3, d->no);
    st.run();
    d->head_dirty = false;
  }
  dirty_.clear();
  if (unfollowed_saved_ < unfollowed_.size()) {
    auto moved = db_.prepare("INSERT OR IGNORE INTO ferry_moved(device) VALUES(?)");
    for (; unfollowed_saved_ < unfollowed_.size(); ++unfollowed_saved_) {
      moved.bind(1, unfollowed_[unfollowed_saved_]->no);
      moved.run();
    }
    moved_rows_ = true;
  }
}

std::vector<const Device*> Devices::moved_since_own() const {
  std::vector<const Device*> out(unfollowed_.begin(), unfollowed_.end());
  if (!moved_rows_) return out;
  auto st = db_.prepare("SELECT device FROM ferry_moved");
  while (st.step()) {
    const Device* d = find_no(st.integer(0));
    if (d != nullptr && !d->unfollowed) out.push_back(d);
  }
  return out;
}

void Devices::own_operation_made() {
  if (moved_rows_) db_.exec("DELETE FROM ferry_moved");
  moved_rows_ = false;
  for (Device* d : unfollowed_) d->unfollowed = false;
  unfollowed_.clear();
  unfollowed_saved_ = 0;
}

}  // namespace ferry::replica
