#include "capture/sealer.h"

#include "capture/held.h"
#include "capture/scoped_rows.h"

#include <algorithm>

#include "ferry/error.h"
#include "log/chain.h"
#include "log/codec.h"
#include "util/uuid.h"

namespace ferry::capture {

LocalWriter::LocalWriter(replica::Devices& devices, log::Store& log, Applier& merger, fleet::Fleet& fleet,
                         const DeviceId& self, std::uint64_t& lamport, replica::ScopeLamports& scope_lamports)
    : devices_(devices), log_(log), merger_(merger), fleet_(fleet), self_(self), lamport_(lamport),
      scope_lamports_(scope_lamports), chains_(devices) {}

VectorClock LocalWriter::deps(const replica::Device& me) {
  if (current_ && devices_.moves() == moves_) return {};
  std::vector<VectorClock::Entry> grew;
  auto consider = [&](const DeviceId& device, std::uint64_t now) {
    // A chain of a scope is never a dep of the shared scope's (format4.md §12.1).
    if (device == self_ || now == 0 || log::is_scoped_chain(device)) return;
    const std::uint64_t before = me.head_seq == 0 ? 0 : log_.clock_entry(self_, me.head_seq, device);
    if (now > before) grew.emplace_back(device, now);
  };
  if (me.head_seq == 0) {  // The chain's first operation follows every head.
    for (const replica::Device& d : devices_.all()) consider(d.id, std::max(d.head_seq, claims_.get(d.id)));
  } else {  // Its previous operation followed every head that has not moved since.
    for (const replica::Device* d : devices_.moved_since_own()) consider(d->id, std::max(d->head_seq, claims_.get(d->id)));
    for (const auto& [device, seq] : claims_.entries()) {
      const replica::Device* d = devices_.find(device);
      consider(device, std::max(d == nullptr ? 0 : d->head_seq, seq));
    }
  }
  return VectorClock(std::move(grew));  // A device both moved and claimed comes twice, the same each time.
}

VectorClock LocalWriter::scoped_deps(const replica::Device& chain, const std::string& scope) {
  const auto last = scoped_moves_.find(chain.no);
  if (last != scoped_moves_.end() && last->second == devices_.moves()) return {};
  std::vector<VectorClock::Entry> grew;
  for (const replica::Device& d : devices_.all()) {
    const std::uint64_t now = std::max(d.head_seq, claims_.get(d.id));
    if (d.no == chain.no || now == 0 || (d.scoped() && devices_.name_of(d).second != scope)) continue;
    const std::uint64_t before = chain.head_seq == 0 ? 0 : log_.clock_entry(chain.id, chain.head_seq, d.id);
    if (now > before) grew.emplace_back(d.id, now);
  }
  return VectorClock(std::move(grew));
}

VectorClock LocalWriter::whole(std::uint64_t seq) {
  if (!current_ || devices_.moves() != moves_) {
    whole_ = devices_.clock();
    whole_.merge(claims_);
  }
  whole_.set(self_, seq);
  return whole_;
}

namespace {

// Bytes of the largest TEXT or BLOB the operation carries, in its key or its columns.
std::size_t largest_value(const Operation& op) {
  std::size_t largest = 0;
  auto see = [&](const Value& v) {
    if (v.type() == Value::Type::text) largest = std::max(largest, v.as_text().size());
    if (v.type() == Value::Type::blob) largest = std::max(largest, v.as_blob().size());
  };
  for (const auto& v : op.key) see(v);
  for (const auto& c : op.columns) see(c.value);
  return largest;
}

}  // namespace

Operation LocalWriter::append(const std::string& table, std::vector<Value> key, OpKind kind,
                              std::vector<ColumnValue> columns, bool write_table, const std::string& scope) {
  auto made = try_append(table, std::move(key), kind, std::move(columns), write_table, scope);
  if (const auto* not_made = std::get_if<NotMade>(&made))
    throw Error(Errc::refused, "a change to table '" + printable(table) + "' cannot be sent: " + not_made->why);
  return std::get<Operation>(std::move(made));
}

std::variant<Operation, LocalWriter::NotMade> LocalWriter::try_append(const std::string& table,
                                                                     std::vector<Value> key, OpKind kind,
                                                                     std::vector<ColumnValue> columns,
                                                                     bool write_table, const std::string& scope) {
  if (std::string why = fleet_.may_not_seal(self_, table, scope); !why.empty())
    return NotMade{std::move(why), std::move(key), std::move(columns)};
  if (!scope.empty() && format_ == 1)
    return NotMade{"a peer still runs ferry 3.x (`ferry compat DB 3`), which reads no scope", std::move(key),
                   std::move(columns)};
  replica::Device& chain = scope.empty() ? devices_.ensure(self_) : chains_.ensure(self_, scope);
  if (!scope.empty()) {  // The scope was removed here once (exchange/purge.h): its chain must come back first.
    auto purged = purged_.find(chain.no);
    if (purged == purged_.end()) purged = purged_.emplace(chain.no, devices_.purged_head(chain)).first;
    if (chain.head_seq < purged->second)
      return NotMade{"this device's own operations in scope '" + printable(scope) + "' (up to " +
                         std::to_string(purged->second) + ") were removed when it lost the grant to read it; it writes "
                         "there again once an import brings them back: on a peer that holds them, `ferry export "
                         "PEER_DB --peer " + self_.to_string() + " --all`, then import that bundle here",
                     std::move(key), std::move(columns)};
  }
  Operation op;
  op.format = format_;
  op.origin = chain.id;
  op.scope = scope;
  op.seq = chain.head_seq + 1;
  op.id = util::make_operation_id(std::min<std::int64_t>(util::now_ms(), log::kMaxTimeMs), op.origin, op.seq);
  op.lamport = (scope.empty() ? lamport_ : std::max(lamport_, scope_lamports_.get(scope))) + 1;
  op.clock = format_ == 1 ? whole(op.seq) : scope.empty() ? deps(chain) : scoped_deps(chain, scope);
  op.table = table;
  op.key = std::move(key);
  op.kind = kind;
  op.columns = std::move(columns);
  op.prev_hash = devices_.head_hash(chain);
  const std::string body = log::encode(op, &chains_);
  if (body.size() > log::kMaxBodyBytes || largest_value(op) > log::kMaxValueBytes)
    return NotMade{Held::too_large(op.key, op.columns, body.size()), std::move(op.key), std::move(op.columns)};
  if (std::string why = fleet_.unreadable_grant(op); !why.empty())
    return NotMade{"not a grant ferry can read: " + why, std::move(op.key), std::move(op.columns)};
  const Hash hash = log::hash_of(body);
  log_.append(op, body);
  devices_.move_head(chain, op.seq, hash);
  if (scope.empty()) {
    lamport_ = op.lamport;
    devices_.own_operation_made();  // The moves since the shared chain's last operation: its next one's deps.
    current_ = true;
    moves_ = devices_.moves();
  } else {
    scope_lamports_.raise(scope, op.lamport);
    scoped_moves_[chain.no] = devices_.moves();
  }
  fleet_.note(op);
  merger_.apply(op, write_table);
  ++appended_;
  return op;
}

namespace {

// Where each capture column of one table sits in `SELECT * FROM ferry_capture`,
// resolved once per table rather than once per value.
struct CaptureLayout {
  std::vector<int> c, k, m;  // Result-column index of c<i>, k<i>, m<i>.
  KeyIdentity identity;      // Which keys SQLite and ferry might tell apart differently.
};

CaptureLayout layout_of(sql::Database& db, const TrackedTable& t, const std::map<std::string, int>& index) {
  const std::string& path = db.path();
  auto column = [&](char kind, std::size_t i) {
    auto it = index.find(capture_column(kind, i));
    if (it == index.end()) throw Error(Errc::corrupt, path + ": ferry_capture lacks column " + capture_column(kind, i));
    return it->second;
  };
  CaptureLayout l{{}, {}, {}, KeyIdentity(db, t)};
  for (std::size_t i = 0; i < t.columns.size(); ++i) l.c.push_back(column('c', i));
  for (std::size_t i = 0; i < t.key_positions.size(); ++i) l.k.push_back(column('k', i));
  for (std::size_t i = 0; i < (t.columns.size() + kMaskBits - 1) / kMaskBits; ++i) l.m.push_back(column('m', i));
  return l;
}

}  // namespace

std::size_t seal(sql::Database& db, const Registry& tables, LocalWriter& writer) {
  auto st = db.prepare("SELECT * FROM ferry_capture ORDER BY id");
  std::map<std::string, int> index;
  for (int i = 0; i < st.column_count(); ++i) index[st.column_name(i)] = i;
  std::map<std::int64_t, CaptureLayout> layouts;
  Held held(db);
  ScopedRows scoped(db, writer);
  const std::size_t before = writer.appended();
  while (st.step()) {
    const TrackedTable& t = tables.by_no(st.integer(1));
    auto found = layouts.find(t.no);
    if (found == layouts.end()) found = layouts.emplace(t.no, layout_of(db, t, index)).first;
    CaptureLayout& l = found->second;
    const auto kind = static_cast<CaptureKind>(st.integer(2));
    auto read_key = [&](char from) {
      std::vector<Value> key;
      key.reserve(t.key_positions.size());
      for (std::size_t i = 0; i < t.key_positions.size(); ++i)
        key.push_back(st.value(from == 'k' ? l.k[i] : l.c[static_cast<std::size_t>(t.key_positions[i])]));
      return key;
    };
    auto all_columns = [&]() {
      std::vector<ColumnValue> cols;
      cols.reserve(t.sorted_positions.size());
      for (int p : t.sorted_positions) cols.push_back({t.columns[static_cast<std::size_t>(p)], st.value(l.c[static_cast<std::size_t>(p)])});
      return cols;
    };
    // A change to a held row is not sealed on its own: Held::retry seals the row as it then is.
    auto seal_whole = [&](std::vector<Value> key, OpKind op_kind, std::vector<ColumnValue> cols) {
      if (held.contains(t.no, key)) return;
      if (std::string why = l.identity.ambiguity(key); !why.empty()) return held.hold(t, key, why);
      auto made = writer.try_append(t.name, std::move(key), op_kind, std::move(cols));
      if (const auto* not_made = std::get_if<LocalWriter::NotMade>(&made)) held.hold(t, not_made->key, not_made->why);
    };
    // The columns an update changed, sorted by name.
    auto changed_columns = [&](const std::vector<Value>& key) {
      std::vector<ColumnValue> cols;
      for (int p : t.sorted_positions) {
        const auto pos = static_cast<std::size_t>(p);
        const auto mask = st.integer(l.m[pos / kMaskBits]);
        if (!((mask >> (pos % kMaskBits)) & 1)) continue;
        Value v = st.value(l.c[pos]);
        // A REAL zero is flagged whether or not it changed (SQL sees -0.0 == 0.0): kept
        // only where its bits differ from the value merged so far.
        if (v.type() == Value::Type::real && v.as_real() == 0.0 && writer.merged(t, key, t.columns[pos]) == v) continue;
        cols.push_back({t.columns[pos], std::move(v)});
      }
      return cols;
    };
    if (!t.scope.empty()) {  // Each change in its row's scope (capture/scoped_rows.h).
      auto sealable = [&](const std::vector<Value>& key) {
        if (held.contains(t.no, key)) return false;
        if (std::string why = l.identity.ambiguity(key); !why.empty()) return held.hold(t, key, why), false;
        return true;
      };
      auto put = [&](std::vector<Value> key, std::vector<ColumnValue> changed, bool inserted) {
        if (!sealable(key)) return;
        std::vector<Value> row;
        for (std::size_t i = 0; i < t.columns.size(); ++i) row.push_back(st.value(l.c[i]));
        if (auto refused = scoped.put(t, std::move(key), row, std::move(changed), inserted))
          held.hold(t, refused->key, refused->why);
      };
      auto remove = [&](std::vector<Value> key) {
        if (!sealable(key)) return;
        if (auto refused = scoped.remove(t, std::move(key))) held.hold(t, refused->key, refused->why);
      };
      if (kind == CaptureKind::insert) {
        put(read_key('c'), {}, true);
      } else if (kind == CaptureKind::remove) {
        remove(read_key('k'));
      } else if (kind == CaptureKind::update) {
        std::vector<Value> old_key = read_key('k'), new_key = read_key('c');
        if (old_key != new_key) {
          remove(std::move(old_key));
          put(std::move(new_key), {}, true);
        } else {
          std::vector<ColumnValue> changed = changed_columns(new_key);
          put(std::move(new_key), std::move(changed), false);
        }
      } else {
        throw Error(Errc::corrupt,
                    db.path() + ": ferry_capture holds a change of unknown kind " + std::to_string(st.integer(2)));
      }
      continue;
    }
    if (kind == CaptureKind::insert) {
      seal_whole(read_key('c'), OpKind::insert, all_columns());
    } else if (kind == CaptureKind::remove) {
      seal_whole(read_key('k'), OpKind::remove, {});
    } else if (kind == CaptureKind::update) {
      std::vector<Value> old_key = read_key('k'), new_key = read_key('c');
      if (old_key != new_key) {
        // The row moved: its old key is gone and the whole row exists under the new key
        // (the trigger copies every column when a key column changes).
        seal_whole(std::move(old_key), OpKind::remove, {});
        seal_whole(std::move(new_key), OpKind::insert, all_columns());
        continue;
      }
      std::vector<ColumnValue> cols = changed_columns(new_key);
      if (!cols.empty()) seal_whole(std::move(new_key), OpKind::update, std::move(cols));
    } else {
      throw Error(Errc::corrupt,
                  db.path() + ": ferry_capture holds a change of unknown kind " + std::to_string(st.integer(2)));
    }
  }
  held.retry(tables, writer);
  db.exec("DELETE FROM ferry_capture");
  return writer.appended() - before;
}

}  // namespace ferry::capture
