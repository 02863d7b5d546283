#pragma once
// Devices: every device this database knows (itself, origins of received
// operations, peers), each with a small local number used inside ferry_rows,
// and the head of its chain held here (the vector clock is the heads).
//
// A hub knows every device of its fleet, but a bundle names few of them: the
// devices are read from ferry_devices as they are asked for, each once (by
// id or by number, a seek each), and the whole list only for what needs
// every device (all(), clock(), a lookup by name). The list is read from an
// index holding only that (local format 7, ferry_devices_list: id, head and
// base seq, name); a chain's head and base hashes, which only the chains a
// bundle carries need, are read from its row the first time they are asked for.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ferry/operation.h"
#include "sql/database.h"

namespace ferry::replica {

class Devices;

struct Device {
  std::int64_t no = 0;
  DeviceId id;
  std::string name;
  std::uint64_t head_seq = 0;
  // Where this database's copy of the chain starts: 0 unless it was bootstrapped
  // from a snapshot, which vouched for operations 1..base_seq ending in the
  // base hash. The hashes: Devices::head_hash() and base_hash().
  std::uint64_t base_seq = 0;
  bool head_dirty = false;  // Changed in memory, not yet saved.
  bool unfollowed = false;  // Moved here since this device's newest operation (in memory).
  // True for a chain of a scope other than the shared one (format4.md §12.9),
  // whose owner and scope Devices::name_of() gives.
  bool scoped() const { return (id.bytes[6] >> 4) == 8; }

 private:
  friend class Devices;
  // Valid once hashes_read (read on first use, or set by a move).
  mutable Hash head_hash_{};
  mutable Hash base_hash_{};
  mutable bool hashes_read = false;
  // Valid once name_read (read on first use, or set by ensure_scoped).
  mutable std::int64_t owner_no_ = 0;
  mutable std::string scope_;
  mutable bool name_read = false;
};

class Devices {
 public:
  // Reads nothing yet.
  explicit Devices(sql::Database& db) : db_(db) {}
  Devices(const Devices&) = delete;  // It points into its own storage.
  Devices& operator=(const Devices&) = delete;

  // The device with this id, registering it when unknown.
  Device& ensure(const DeviceId& id);
  // The chain `chain` of device `owner` in `scope` (not the shared one),
  // registering it when unknown. REQUIRES: `chain` is log::chain_id(owner's
  // id, scope), which log/chain.h checks. Throws Error(corrupt) when the
  // chain is known under another name.
  Device& ensure_scoped(const DeviceId& chain, const Device& owner, const std::string& scope);
  // Whose `chain` is, and its scope: a device's shared chain is its own, in
  // "". Read from ferry_chain_names the first time it is asked for.
  std::pair<const Device*, std::string_view> name_of(const Device& chain) const;
  Device* find(const DeviceId& id);
  const Device* find(const DeviceId& id) const;
  // As find, for ids asked in ascending order, as a clock's entries come:
  // `cursor` (0 at first) keeps the place, so a walk over a clock is one pass.
  // An id asked out of order is still found, by a search.
  const Device* find_ascending(const DeviceId& id, std::size_t& cursor) const;
  const Device& by_no(std::int64_t no) const;
  // The device numbered `no`, or nullptr.
  const Device* find_no(std::int64_t no) const;
  // Finds a device by canonical id text, a unique start or end of its id (8+ hex digits) or its exact name.
  // Throws Error(not_found) or Error(invalid_argument) if ambiguous.
  const Device& lookup(const std::string& id_or_name) const;
  // The hash of the operation `device`'s chain held here ends at (zeros when
  // none), and of the one a snapshot's base ends at (zeros when none): read
  // from ferry_devices the first time either is asked for.
  const Hash& head_hash(const Device& device) const;
  const Hash& base_hash(const Device& device) const;

  // Every head held: one walk in device order.
  VectorClock clock() const;
  // Writes changed heads back to ferry_devices.
  void save();
  // The one place a chain head moves: `device`'s chain held here now ends at
  // operation `seq` with `hash` (0 and zeros: nothing held). Saved by save().
  void move_head(Device& device, std::uint64_t seq, const Hash& hash);
  // Records that this database holds `device`'s chain from seq+1 on (a snapshot's head).
  void set_base(Device& device, std::uint64_t seq, const Hash& hash);
  // Names a device that had no name here (from a bundle it exported).
  void rename(Device& device, const std::string& name);
  // This database holds nothing of `device`'s chain any more, and no fork of it (identity/forget.h).
  void drop_chain(Device& device);
  // How far this device's own `chain` of a scope went before the scope was
  // removed here (replica::purged_head, exchange/purge.h); 0 unless it was.
  std::uint64_t purged_head(const Device& chain) const;
  // Every device, in ascending number (reads every row not read yet).
  class List {
   public:
    struct Iterator {
      std::vector<Device*>::const_iterator at;
      const Device& operator*() const { return **at; }
      Iterator& operator++() { return ++at, *this; }
      bool operator!=(const Iterator& other) const { return at != other.at; }
    };
    explicit List(const std::vector<Device*>& devices) : devices_(devices) {}
    Iterator begin() const { return {devices_.begin()}; }
    Iterator end() const { return {devices_.end()}; }
    std::size_t size() const { return devices_.size(); }
    const Device& operator[](std::size_t i) const { return *devices_[i]; }

   private:
    const std::vector<Device*>& devices_;
  };
  List all() const {
    read_all();
    return List(by_no_);
  }
  // How many devices have been read so far (what a bundle cost: tests).
  std::size_t read_count() const { return placed_; }
  // The devices whose heads moved since this device's newest operation was
  // made: ferry_moved (written by save()) and the moves since. A superset is
  // harmless; a device missing would give the next operation too small a
  // clock, so every head move lands here (move_head is the one place).
  std::vector<const Device*> moved_since_own() const;
  // This device made an operation, which follows every head held: nothing has
  // moved since. Cheap when nothing had.
  void own_operation_made();
  // How many times a head has moved through this object: unchanged means
  // every chain still ends where it did.
  std::uint64_t moves() const { return moves_; }

 private:
  // Where a new device goes: a slot that never moves, so references handed
  // out stay valid. Slots come in blocks, in the order read.
  Device& place() const;
  // The device of the row `st` is on (no, id, name, head_seq, base_seq), in a new slot.
  Device& read_row(const sql::Statement& st) const;
  // Files a device read by itself into by_id_ and by_no_.
  void file(Device& d) const;
  // The device of the one row `query` (bound) finds, read and filed; nullptr when none.
  Device* read_one(sql::Statement& query) const;
  void read_all() const;
  void read_hashes(const Device& device) const;
  void read_name(const Device& chain) const;

  sql::Database& db_;
  // What has been read of ferry_devices so far: a cache that reading fills,
  // so the const lookups fill it too.
  static constexpr std::size_t kBlock = 256;
  mutable std::vector<std::unique_ptr<Device[]>> blocks_;
  mutable std::size_t placed_ = 0;
  mutable bool all_read_ = false;
  // A bundle naming many devices (the first after meeting a fleet names every
  // one) would cost a seek each: past this many, the whole list is read.
  static constexpr std::size_t kSeeks = 256;
  mutable std::size_t seeks_ = 0;
  // Numbers are rowids: a new device's is above every other, so appending
  // keeps the order.
  mutable std::vector<Device*> by_no_;
  mutable std::vector<std::pair<DeviceId, Device*>> by_id_;  // Sorted by id.
  mutable std::optional<sql::Statement> by_id_query_, by_no_query_, hashes_, names_;  // Prepared on first use.
  std::vector<Device*> dirty_;                       // Heads moved, not yet saved.
  std::vector<Device*> unfollowed_;                  // Moved since this device's newest operation.
  std::size_t unfollowed_saved_ = 0;                 // How many of them ferry_moved holds.
  bool moved_rows_ = true;                           // ferry_moved may hold rows.
  // The device found last: an import asks for the same one several times per operation.
  mutable const Device* last_ = nullptr;
  std::uint64_t moves_ = 0;
};

}  // namespace ferry::replica
