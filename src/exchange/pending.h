#pragma once
// Pending operations (ferry_pending): received, verified, but not applied yet
// because an operation they follow has not arrived. Only the first pending
// operation of each device can be next, so what is read of the pending set is
// one operation per device (a lookup by (origin, seq)), never the whole set:
// memory and time do not grow with how many operations wait.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/reports.h"
#include "replica/devices.h"
#include "sql/database.h"

namespace ferry::exchange {

// One pending operation, as stored.
struct PendingOperation {
  Operation op;
  std::string body;
  Hash hash{};
};

// Reads ferry_pending by key, with statements prepared once.
class PendingReader {
 public:
  explicit PendingReader(sql::Database& db);
  // The devices that have pending operations, in id order: one index seek each.
  std::vector<DeviceId> devices();
  // The pending operation of `device` with the smallest seq, if any; its stored
  // hash is checked against its body (Error(corrupt) otherwise).
  std::optional<PendingOperation> first(const DeviceId& device);

 private:
  sql::Database& db_;
  sql::Statement next_device_;
  sql::Statement first_;
};

// Visits the pending operations of `device` numbered after + 1, after + 2...
// up to `last`, in order, stopping at the first gap: (seq, hash as stored,
// body -- empty unless `bodies`). What a relay passes on of a chain that waits
// here (exchange/export_plan.h).
using PendingVisitor = std::function<void(std::uint64_t seq, std::string_view hash, std::string_view body)>;
void for_each_pending_run(sql::Database& db, const DeviceId& device, std::uint64_t after, std::uint64_t last,
                          bool bodies, const PendingVisitor& visit);

struct PendingState {
  std::size_t operations = 0;
  // What the pending operations wait for now: for each device whose first
  // pending operation is not next, the gap before it; for one that is next but
  // not ready, what its clock needs of devices with nothing pending. Once those
  // arrive, later operations may say they need more.
  std::vector<SeqRange> missing;
};

PendingState pending_state(sql::Database& db, const replica::Devices& devices);

// How many operations are pending, without reading them: ferry_meta
// 'pending_count', kept by two triggers on ferry_pending whoever inserts or
// deletes. A database from before the count was kept is counted once.
std::size_t count_pending(sql::Database& db);
// Starts keeping the count, if it is not kept yet. REQUIRES: inside a write transaction.
void keep_pending_count(sql::Database& db);

}  // namespace ferry::exchange
