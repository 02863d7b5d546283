#include "history/history.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>

#include "capture/tables.h"
#include "ferry/json.h"
#include "history/replay.h"
#include "log/codec.h"
#include "log/store.h"
#include "merge/causality.h"
#include "merge/rules.h"
#include "replica/devices.h"
#include "util/files.h"

namespace ferry::history {
namespace {

// Every operation held, of one table, with its canonical body: those a snapshot
// brought, then the log's.
void for_each_operation(sql::Database& db, const std::string& table,
                        const std::function<void(Operation&&, std::string_view)>& each) {
  log::for_each_held(db, [&](std::string_view body) {
    Operation op = log::decode(body, db.path() + ": log", log::kNewestOperationFormat);
    if (op.table == table) each(std::move(op), body);
  });
}

const capture::TrackedTable& find_table(const capture::Registry& tables, const std::string& name, const std::string& db) {
  const capture::TrackedTable* t = tables.find(name);
  if (t == nullptr)
    throw Error(Errc::not_found, db + ": ferry never tracked a table called '" + name +
                                     "', so it holds no history of it (`ferry status " + db + "` lists the tables)");
  return *t;
}

void check_key(const capture::TrackedTable& t, const std::vector<Value>& key) {
  if (key.size() == t.key_positions.size()) return;
  std::string names;
  for (const auto& n : t.key_names()) names += (names.empty() ? "" : ", ") + n;
  throw Error(Errc::invalid_argument, "the primary key of " + t.name + " is (" + names + "): give " +
                                          std::to_string(t.key_positions.size()) + " value(s), not " +
                                          std::to_string(key.size()));
}

bool by_lamport(const OperationRef& a, const OperationRef& b) { return merge::causal_less(*a, *b); }

// What happened-before reads (merge/causality.h): the log and its causal index.
struct Past {
  explicit Past(sql::Database& db) : devices(db), log(db, devices), causality(log) {}
  replica::Devices devices;
  log::Store log;
  merge::Causality causality;
};

// Writes into a new database at `path` the rows of `t` that exist after the
// operations `sorted` yields, which come grouped by row and in (Lamport time,
// origin) order within a row. One row is held in memory at a time.
AsOfSummary write_copy(sql::Database& source, const capture::TrackedTable& t, sql::Statement& sorted,
                       const std::string& path) {
  Past past(source);
  auto definition = source.prepare("SELECT sql FROM sqlite_schema WHERE type='table' AND name=?");
  definition.bind(1, t.name);
  if (!definition.step() || definition.is_null(0))
    throw Error(Errc::not_found, source.path() + ": table '" + t.name + "' no longer exists, so its definition is unknown");
  AsOfSummary summary;
  sql::Database out(path, sql::Database::Mode::create);
  sql::Transaction tx(out);
  out.exec(definition.text(0));
  std::map<std::string, sql::Statement> inserts;  // By column list.
  auto write = [&](const std::vector<Value>& key, const RowReplay& replay) {
    if (!replay.exists()) return;
    std::vector<std::string> columns = t.key_names();
    std::vector<Value> values = key;
    for (auto& cv : replay.values())
      if (t.position(cv.name) >= 0) columns.push_back(cv.name), values.push_back(cv.value);
    std::string names, params;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      names += (i ? "," : "") + sql::quote_identifier(columns[i]);
      params += i ? ",?" : "?";
    }
    auto it = inserts.find(names);
    if (it == inserts.end())
      it = inserts.emplace(names, out.prepare("INSERT INTO " + sql::quote_identifier(t.name) + "(" + names +
                                              ") VALUES(" + params + ")")).first;
    for (std::size_t i = 0; i < values.size(); ++i) it->second.bind(static_cast<int>(i + 1), values[i]);
    try {
      it->second.run();
      ++summary.rows;
    } catch (const sql::ConstraintFailed&) {
      it->second.reset();
      ++summary.skipped;
    }
  };
  std::string row_pk;
  std::vector<Value> row_key;
  std::optional<RowReplay> replay;
  while (sorted.step()) {
    auto op = std::make_shared<const Operation>(
        log::decode(sorted.blob_view(1), source.path() + ": log", log::kNewestOperationFormat));
    if (!replay || sorted.blob_view(0) != row_pk) {
      if (replay) write(row_key, *replay);
      row_pk = std::string(sorted.blob_view(0));
      row_key = op->key;
      replay.emplace(t, past.causality);
    }
    (void)replay->add(op);
    ++summary.operations;
  }
  if (replay) write(row_key, *replay);
  inserts.clear();
  tx.commit();
  return summary;
}

}  // namespace
}  // namespace ferry::history

namespace ferry {

bool PastPoint::includes(const Operation& op) const {
  if (clock) return op.seq <= clock->get(op.origin);
  if (unix_ms) return op.id.unix_ms() <= *unix_ms;
  return true;
}

PastPoint PastPoint::parse(const std::string& text) {
  PastPoint p;
  if (auto ms = render::parse_iso_time(text)) {
    p.unix_ms = ms;
    return p;
  }
  if (!text.empty() && text.find(':') != std::string::npos && text.find('T') == std::string::npos) {
    p.clock = VectorClock::parse(text);
    return p;
  }
  throw Error(Errc::invalid_argument, "'" + text.substr(0, 80) + "' is neither a time (2026-12-01T10:00:00Z, UTC) nor "
                                      "a clock (DEVICE-ID:SEQ,..., as `ferry status --json` prints it)");
}

}  // namespace ferry

namespace ferry::history {

std::vector<RowVersion> row_history(sql::Database& db, const std::string& table, const std::vector<Value>& key) {
  capture::Registry tables(db);
  const capture::TrackedTable& t = find_table(tables, table, db.path());
  check_key(t, key);
  std::vector<OperationRef> ops;
  for_each_operation(db, table, [&](Operation&& op, std::string_view) {
    if (op.key == key) ops.push_back(std::make_shared<const Operation>(std::move(op)));
  });
  std::sort(ops.begin(), ops.end(), by_lamport);  // A causal order: Lamport times grow along every chain of causes.
  std::vector<RowVersion> out;
  std::map<const Operation*, std::size_t> version_of;
  Past past(db);
  RowReplay replay(t, past.causality);
  for (const auto& op : ops) {
    const auto rivals = replay.add(op);
    RowVersion v{*op, replay.exists(), {}, {}};
    if (v.exists) v.values = replay.values();
    for (const auto& rival : rivals) {  // Added earlier, so its version is there to name this one too.
      v.concurrent.push_back(*rival);
      out[version_of.at(rival.get())].concurrent.push_back(*op);
    }
    version_of[op.get()] = out.size();
    out.push_back(std::move(v));
  }
  return out;
}

std::optional<std::vector<ColumnValue>> row_at(sql::Database& db, const std::string& table,
                                               const std::vector<Value>& key, const PastPoint& at) {
  capture::Registry tables(db);
  const capture::TrackedTable& t = find_table(tables, table, db.path());
  check_key(t, key);
  Past past(db);
  RowReplay replay(t, past.causality);
  for_each_operation(db, table, [&](Operation&& op, std::string_view) {
    if (op.key == key && at.includes(op)) replay.add(std::make_shared<const Operation>(std::move(op)));
  });
  if (!replay.exists()) return std::nullopt;
  return replay.values();
}

AsOfSummary table_as_of(sql::Database& db, const std::string& table, const PastPoint& at, const std::string& path) {
  capture::Registry tables(db);
  const capture::TrackedTable& t = find_table(tables, table, db.path());
  // The table's operations up to `at`, sorted by row in a private temporary
  // database (deleted when closed), so that rows are rebuilt one at a time.
  sql::Database scratch("", sql::Database::Mode::create);
  scratch.exec("CREATE TABLE ops(pk BLOB, lamport INTEGER, origin BLOB, seq INTEGER, body BLOB, "
               "PRIMARY KEY(pk, lamport, origin, seq)) WITHOUT ROWID");
  {
    sql::Transaction fill(scratch);
    auto add = scratch.prepare("INSERT INTO ops VALUES(?, ?, ?, ?, ?)");
    for_each_operation(db, table, [&](Operation&& op, std::string_view body) {
      if (!at.includes(op)) return;
      const std::string pk = log::encode_values(op.key);
      add.bind_blob(1, pk.data(), pk.size()).bind(2, static_cast<std::int64_t>(op.lamport))
          .bind_blob(3, op.origin.bytes.data(), 16).bind(4, static_cast<std::int64_t>(op.seq))
          .bind_blob(5, body.data(), body.size());
      add.run();
    });
    fill.commit();
  }
  auto sorted = scratch.prepare(std::string("SELECT pk, body FROM ops ORDER BY pk, ") + merge::kCausalOrderSql + ", seq");
  const std::string temp = path + ".ferry-tmp";
  ::unlink(temp.c_str());
  AsOfSummary summary;
  try {
    summary = write_copy(db, t, sorted, temp);
    util::publish(temp, path, "copy of " + table);
  } catch (...) {
    ::unlink(temp.c_str());
    ::unlink((temp + "-journal").c_str());
    throw;
  }
  return summary;
}

}  // namespace ferry::history
