#include "fingerprint/fingerprint.h"

#include <algorithm>
#include <functional>

#include "fingerprint/merkle.h"
#include "hash/sha256.h"
#include "log/codec.h"
#include "log/store.h"

namespace ferry::fingerprint {
namespace {

bool in_scope(const replica::Devices& devices, const replica::Device& chain, const std::optional<std::string>& scope) {
  return !scope || !chain.scoped() || devices.name_of(chain).second == *scope;
}

// Calls `each` with the body of every operation in the log, by (device id bytes, seq):
// the order of the tree's leaves.
// With a scope, only the chains of the shared scope and of that one.
void for_each_operation(sql::Database& db, const replica::Devices& devices,
                        const std::function<void(const replica::Device&, std::string_view)>& each,
                        const std::optional<std::string>& scope = std::nullopt) {
  std::vector<const replica::Device*> by_id;
  for (const replica::Device& d : devices.all())
    if (in_scope(devices, d, scope)) by_id.push_back(&d);
  std::sort(by_id.begin(), by_id.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  constexpr std::uint64_t kLastSeq = (std::uint64_t{1} << log::kSeqBits) - 1;
  log::ChainReader chains(db);
  for (const replica::Device* d : by_id)
    chains.read(d->no, 0, kLastSeq, [&](std::uint64_t, std::string_view body) { each(*d, body); });
}

// SHA-256 over every tracked table, by name: [name, columns by name], then each
// row's values in that column order, rows in primary-key order (MessagePack, §3).
// Each table's part is also digested on its own.
// With a scope, a scoped table's rows are those whose scope expression gives
// it, as the seal reads it (capture/scope.h): an integer in decimal, a text as it is.
Hash state(sql::Database& db, const capture::Registry& tables, std::vector<TableDigest>& parts,
           const std::optional<std::string>& scope) {
  auto list = tables.tracked();
  std::sort(list.begin(), list.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  hash::Sha256 digest;
  for (const capture::TrackedTable* t : list) {
    hash::Sha256 part;
    auto add = [&](const std::string& bytes) {
      digest.update(bytes);
      part.update(bytes);
    };
    std::vector<Value> header{Value::text(t->name)};
    std::string columns, order;
    for (int p : t->sorted_positions) {
      const std::string& c = t->columns[static_cast<std::size_t>(p)];
      header.push_back(Value::text(c));
      columns += (columns.empty() ? "" : ", ") + sql::quote_identifier(c);
    }
    for (int p : t->key_positions)
      order += (order.empty() ? "" : ", ") + sql::quote_identifier(t->columns[static_cast<std::size_t>(p)]);
    add(log::encode_values(header));
    std::string from = sql::quote_identifier(t->name);
    if (scope && !t->scope.empty())
      from = "(SELECT *, (" + t->scope + ") AS ferry_scope_value_ FROM " + from + ") WHERE CASE "
             "typeof(ferry_scope_value_) WHEN 'integer' THEN CAST(ferry_scope_value_ AS TEXT) WHEN 'text' THEN "
             "ferry_scope_value_ END = ?1 COLLATE BINARY";
    auto rows = db.prepare("SELECT " + columns + " FROM " + from + " ORDER BY " + order);
    if (scope && !t->scope.empty()) rows.bind(1, *scope);
    std::vector<Value> row(header.size() - 1);
    std::uint64_t count = 0;
    while (rows.step()) {
      for (std::size_t i = 0; i < row.size(); ++i) row[i] = rows.value(static_cast<int>(i));
      add(log::encode_values(row));
      ++count;
    }
    parts.push_back(TableDigest{t->name, count, part.finish()});
  }
  return digest.finish();
}

}  // namespace

Fingerprint compute(sql::Database& db, const replica::Devices& devices, const capture::Registry& tables,
                    const std::optional<std::string>& scope) {
  Fingerprint f;
  f.scope = scope;
  MerkleTree tree;
  for_each_operation(
      db, devices, [&](const replica::Device&, std::string_view body) { tree.add(log::hash_of(body)); }, scope);
  for (const replica::Device& d : devices.all())
    if (d.head_seq > 0 && in_scope(devices, d, scope))
      f.heads.push_back(ChainHead{d.id, d.head_seq, devices.head_hash(d), d.base_seq});
  std::sort(f.heads.begin(), f.heads.end(), [](const ChainHead& a, const ChainHead& b) { return a.device < b.device; });
  f.operations = tree.root();
  f.operation_count = tree.size();
  f.state = state(db, tables, f.tables, scope);
  return f;
}

InclusionProof prove(sql::Database& db, const replica::Devices& devices, const OperationId& id) {
  std::vector<Hash> leaves;
  std::optional<std::uint64_t> index;
  for_each_operation(db, devices, [&](const replica::Device&, std::string_view body) {
    if (!index && log::has_id(body, id)) index = leaves.size();
    leaves.push_back(log::hash_of(body));
  });
  if (!index)
    throw Error(Errc::not_found, db.path() + ": holds no operation " + id.to_string() +
                                     " in its log (`ferry log` lists the operations and their ids)");
  InclusionProof p;
  p.operation_hash = leaves[*index];
  p.index = *index;
  p.size = leaves.size();
  p.path = audit_path(leaves, *index);
  return p;
}

}  // namespace ferry::fingerprint
