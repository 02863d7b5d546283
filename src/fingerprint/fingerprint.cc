#include "fingerprint/fingerprint.h"

#include <algorithm>

#include "fingerprint/merkle.h"
#include "hash/sha256.h"
#include "log/codec.h"
#include "log/store.h"

namespace ferry::fingerprint {
namespace {

// Leaves: the hash of every operation in the log, by (device id bytes, seq).
MerkleTree operations(sql::Database& db, const engine::Devices& devices, std::vector<ChainHead>& heads) {
  std::vector<const engine::Device*> by_id;
  for (const auto& [no, d] : devices.all()) by_id.push_back(&d);
  std::sort(by_id.begin(), by_id.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  MerkleTree tree;
  auto st = db.prepare("SELECT body FROM ferry_log WHERE id BETWEEN ? AND ? ORDER BY id");
  for (const engine::Device* d : by_id) {
    if (d->head_seq > 0) heads.push_back(ChainHead{d->id, d->head_seq, d->head_hash});
    st.bind(1, log::log_id(d->no, 0)).bind(2, log::log_id(d->no + 1, 0) - 1);
    while (st.step()) tree.add(log::hash_of(st.blob_view(0)));
    st.reset();
  }
  return tree;
}

// SHA-256 over every tracked table, by name: [name, columns by name], then each
// row's values in that column order, rows in primary-key order (MessagePack, §3).
Hash state(sql::Database& db, const capture::Registry& tables) {
  auto list = tables.tracked();
  std::sort(list.begin(), list.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  hash::Sha256 digest;
  for (const capture::TrackedTable* t : list) {
    std::vector<Value> header{Value::text(t->name)};
    std::string columns, order;
    for (int p : t->sorted_positions) {
      const std::string& c = t->columns[static_cast<std::size_t>(p)];
      header.push_back(Value::text(c));
      columns += (columns.empty() ? "" : ", ") + sql::quote_identifier(c);
    }
    for (int p : t->key_positions)
      order += (order.empty() ? "" : ", ") + sql::quote_identifier(t->columns[static_cast<std::size_t>(p)]);
    digest.update(log::encode_values(header));
    auto rows = db.prepare("SELECT " + columns + " FROM " + sql::quote_identifier(t->name) + " ORDER BY " + order);
    std::vector<Value> row(header.size() - 1);
    while (rows.step()) {
      for (std::size_t i = 0; i < row.size(); ++i) row[i] = rows.value(static_cast<int>(i));
      digest.update(log::encode_values(row));
    }
  }
  return digest.finish();
}

}  // namespace

Fingerprint compute(sql::Database& db, const engine::Devices& devices, const capture::Registry& tables) {
  Fingerprint f;
  const MerkleTree tree = operations(db, devices, f.heads);
  f.operations = tree.root();
  f.operation_count = tree.size();
  f.state = state(db, tables);
  return f;
}

}  // namespace ferry::fingerprint
