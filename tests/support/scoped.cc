#include "support/scoped.h"

#include <algorithm>

#include "log/codec.h"
#include "log/stored_chains.h"
#include "session/session.h"
#include "util/uuid.h"

namespace test {

Carried& ScopedWriter::write(const ferry::DeviceId& device, const std::string& scope, std::uint64_t lamport,
                             ferry::OpKind kind, std::int64_t id, std::vector<ferry::ColumnValue> columns,
                             std::map<std::pair<ferry::DeviceId, std::string>, std::uint64_t> deps) {
  using namespace ferry;
  Operation op;
  op.format = 2;
  op.origin = names_.add(device, scope);
  op.scope = scope;
  auto& head = heads_[op.origin];
  op.seq = ++head.first;
  op.prev_hash = head.second;
  op.lamport = lamport;
  op.id = util::make_operation_id(1764806400000 + static_cast<std::int64_t>(made_.size()), op.origin, op.seq);
  for (const auto& [chain, seq] : deps) op.clock.set(names_.add(chain.first, chain.second), seq);
  op.table = table_;
  op.key = {Value::integer(id)};
  op.kind = kind;
  std::sort(columns.begin(), columns.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  op.columns = std::move(columns);
  std::string body = log::encode(op, &names_);
  head.second = log::hash_of(body);
  made_.push_back({op, body, head.second});
  return made_.back();
}

std::size_t deliver(Replica& to, const std::vector<Carried>& ops, const ferry::log::ChainNames& names) {
  using namespace ferry;
  sql::Database db(to.path, sql::Database::Mode::open);
  sql::Transaction tx(db);
  session::Session s(db, to.engine.device_id());
  s.tables.suspend_triggers();
  log::StoredChains chains(s.devices);
  std::size_t applied = 0;
  for (const Carried& c : ops) {
    const log::ChainName origin = names.name(c.op.origin);
    replica::Device& chain = chains.ensure(origin.device, origin.scope);
    if (c.op.seq <= chain.head_seq) continue;  // Held already.
    for (const auto& [dep, seq] : c.op.clock.entries()) {
      const log::ChainName name = names.name(dep);
      chains.ensure(name.device, name.scope);
    }
    s.log.append(c.op, c.body);
    s.devices.move_head(chain, c.op.seq, c.hash);
    if (c.op.scope.empty())
      s.lamport = std::max(s.lamport, c.op.lamport);
    else
      s.scope_lamports.raise(c.op.scope, c.op.lamport);
    s.merger.apply(c.op, /*write_table=*/true);
    ++applied;
  }
  s.tables.restore_triggers();
  s.finish();
  tx.commit();
  return applied;
}

std::vector<Carried> log_of(const Replica& from, ferry::log::KnownChains& names) {
  using namespace ferry;
  sql::Database db(from.path, sql::Database::Mode::open);
  std::vector<Carried> out;
  auto st = db.prepare("SELECT body FROM ferry_log ORDER BY id");
  while (st.step()) {
    const std::string body(st.blob_view(0));
    Operation op = log::decode(body, from.path + ": log", log::kNewestOperationFormat, &names);
    out.push_back({std::move(op), body, log::hash_of(body)});
  }
  return out;
}

}  // namespace test
