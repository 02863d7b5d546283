#include "merge/conflicts.h"

#include <cstring>

namespace ferry::merge {
namespace {

DeviceId id_at(const sql::Statement& st, int col) {
  DeviceId id;
  const std::string_view b = st.blob_view(col);
  if (b.size() == 16) std::memcpy(id.bytes.data(), b.data(), 16);
  return id;
}

OperationKey key_at(const sql::Statement& st, int col) {
  return OperationKey{id_at(st, col), static_cast<std::uint64_t>(st.integer(col + 1))};
}

}  // namespace

ConflictStore::ConflictStore(sql::Database& db)
    : db_(db),
      open_in_cell_(db.prepare("SELECT id, winner_origin, winner_seq, loser_origin, loser_seq FROM ferry_conflicts "
                               "WHERE tbl=? AND pk=? AND col=? AND closed_ms IS NULL AND kind=?", true)),
      insert_(db.prepare("INSERT INTO ferry_conflicts(tbl, pk, col, winner_origin, winner_seq, loser_origin, "
                         "loser_seq, detected_ms, kind) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)", true)),
      close_(db.prepare("UPDATE ferry_conflicts SET closed_ms=?, closed_by_origin=?, closed_by_seq=? WHERE id=?", true)),
      count_open_(db.prepare("SELECT count(*) FROM ferry_conflicts WHERE tbl=? AND pk=? AND closed_ms IS NULL AND "
                             "kind='value'", true)) {}

std::vector<ConflictRecord> ConflictStore::open_in_cell(const std::string& table, const std::string& pk,
                                                         const std::string& column, const char* kind) {
  open_in_cell_.bind(1, table).bind_blob(2, pk.data(), pk.size()).bind(3, column).bind(4, std::string_view(kind));
  std::vector<ConflictRecord> out;
  while (open_in_cell_.step()) {
    ConflictRecord r;
    r.id = open_in_cell_.integer(0);
    r.winner = key_at(open_in_cell_, 1);
    r.loser = key_at(open_in_cell_, 3);
    out.push_back(std::move(r));
  }
  open_in_cell_.reset();
  return out;
}

void ConflictStore::open(const std::string& table, const std::string& pk, const std::string& column,
                         const OperationKey& winner, const OperationKey& loser, std::int64_t now_ms, const char* kind) {
  insert_.bind(1, table).bind_blob(2, pk.data(), pk.size()).bind(3, column)
      .bind_blob(4, winner.origin.bytes.data(), 16).bind(5, static_cast<std::int64_t>(winner.seq))
      .bind_blob(6, loser.origin.bytes.data(), 16).bind(7, static_cast<std::int64_t>(loser.seq))
      .bind(8, now_ms).bind(9, std::string_view(kind));
  insert_.run();
}

void ConflictStore::close(std::int64_t id, const OperationKey& by, std::int64_t now_ms) {
  close_.bind(1, now_ms).bind_blob(2, by.origin.bytes.data(), 16).bind(3, static_cast<std::int64_t>(by.seq)).bind(4, id);
  close_.run();
}

bool ConflictStore::any_open(const std::string& table, const std::string& pk) {
  count_open_.bind(1, table).bind_blob(2, pk.data(), pk.size());
  count_open_.step();
  const bool any = count_open_.integer(0) > 0;
  count_open_.reset();
  return any;
}

void ConflictStore::record_constraint(const Operation& op, const std::string& pk, const std::string& constraint,
                                      std::int64_t now_ms) {
  auto record = db_.prepare(
      "INSERT INTO ferry_conflicts(tbl, pk, col, winner_origin, winner_seq, loser_origin, loser_seq, detected_ms, "
      "kind, detail) VALUES(?, ?, '', ?, ?, ?, ?, ?, 'constraint', ?)");
  record.bind(1, op.table).bind_blob(2, pk.data(), pk.size())
      .bind_blob(3, op.origin.bytes.data(), 16).bind(4, static_cast<std::int64_t>(op.seq))
      .bind_blob(5, op.origin.bytes.data(), 16).bind(6, static_cast<std::int64_t>(op.seq))
      .bind(7, now_ms).bind(8, constraint);
  record.run();
}

void ConflictStore::forget_row(const std::string& table, const std::string& pk) {
  auto forget = db_.prepare("DELETE FROM ferry_conflicts WHERE tbl=? AND pk=?");
  forget.bind(1, table).bind_blob(2, pk.data(), pk.size());
  forget.run();
}

std::vector<ConflictRecord> open_conflicts(sql::Database& db, std::optional<std::int64_t> only) {
  auto st = db.prepare(
      "SELECT id, tbl, pk, col, winner_origin, winner_seq, loser_origin, loser_seq, detected_ms, kind, detail "
      "FROM ferry_conflicts WHERE closed_ms IS NULL AND (?1 IS NULL OR id=?1) ORDER BY id");
  if (only) st.bind(1, *only);
  std::vector<ConflictRecord> out;
  while (st.step()) {
    ConflictRecord r;
    r.id = st.integer(0);
    r.table = st.text(1);
    r.pk = std::string(st.blob_view(2));
    r.column = st.text(3);
    r.winner = key_at(st, 4);
    r.loser = key_at(st, 6);
    r.detected_ms = st.integer(8);
    r.kind = st.text(9);
    r.detail = st.text(10);
    out.push_back(std::move(r));
  }
  return out;
}

void acknowledge(sql::Database& db, std::int64_t id, std::int64_t now_ms) {
  auto close = db.prepare("UPDATE ferry_conflicts SET closed_ms=? WHERE id=?");
  close.bind(1, now_ms).bind(2, id);
  close.run();
}

std::int64_t last_conflict_id(sql::Database& db) {
  auto st = db.prepare("SELECT ifnull(max(id), 0) FROM ferry_conflicts");
  st.step();
  return st.integer(0);
}

std::size_t count_open(sql::Database& db, std::int64_t after_id) {
  auto st = db.prepare("SELECT count(*) FROM ferry_conflicts WHERE id > ? AND closed_ms IS NULL");
  st.bind(1, after_id);
  st.step();
  return static_cast<std::size_t>(st.integer(0));
}

void rename_origin(sql::Database& db, const DeviceId& old_id, const DeviceId& new_id, std::uint64_t keep) {
  for (const char* who : {"winner", "loser", "closed_by"}) {
    const std::string origin = std::string(who) + "_origin", seq = std::string(who) + "_seq";
    auto st = db.prepare("UPDATE ferry_conflicts SET " + origin + "=?1, " + seq + "=" + seq + "-?3 WHERE " + origin +
                         "=?2 AND " + seq + ">?3");
    st.bind_blob(1, new_id.bytes.data(), 16).bind_blob(2, old_id.bytes.data(), 16).bind(3, static_cast<std::int64_t>(keep));
    st.run();
  }
}

}  // namespace ferry::merge
