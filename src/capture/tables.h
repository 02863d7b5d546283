#pragma once
// Tracked tables: what PRAGMA table_xinfo says about an application table,
// the registry in ferry_tables, and the capture triggers generated for each.
//
// Capture design: plain-SQL AFTER triggers copy the changed row natively into
// ferry_capture (one row per change, columns c0.. for new values, k0.. for the
// old key, m0.. for the changed-column bitmask of an UPDATE). No function is
// called, so any writer -- any driver, the sqlite3 shell, another process -- is
// captured without loading anything. The sealer turns those rows into
// operations later (capture/sealer.h).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ferry/reports.h"
#include "sql/database.h"

namespace ferry::capture {

constexpr int kMaskBits = 62;  // Columns per changed-mask column (fits a positive int64).

// The kinds of change ferry_capture records in its `kind` column, as the
// triggers write them and the seal reads them (capture/sealer.h).
enum class CaptureKind : int { insert = 0, update = 1, remove = 2 };
// The kind as SQL writes it: "0", "1" or "2".
inline std::string sql_of(CaptureKind kind) { return std::to_string(static_cast<int>(kind)); }

struct TrackedTable {
  std::int64_t no = 0;
  std::string name;
  std::vector<std::string> columns;   // Table order, as the triggers capture them.
  std::vector<int> key_positions;     // Indexes into columns, in primary-key order.
  std::vector<int> sorted_positions;  // Indexes into columns, by column name (canonical order).
  bool tracked = true;
  // The scope expression (capture/scope.h); empty for a table of the shared scope.
  std::string scope;

  std::vector<std::string> key_names() const;
  int position(const std::string& column) const;  // -1 if absent.
  // True for a column of the primary key. Key columns are not cells of the merge
  // (bundle_format/README.md, "Merge rules"): their values are the key itself.
  bool is_key(const std::string& column) const;
  TableInfo info() const;
};

// Reads the live definition of `table` from SQLite. Throws Error(not_found) if
// it does not exist, Error(refused) if it cannot be tracked (no PRIMARY KEY,
// a view, a virtual table, a ferry_ or sqlite_ table but, when `ferry_own`,
// the fleet's ferry_grants, which ferry itself tracks: fleet/fleet.h).
TrackedTable introspect(sql::Database& db, const std::string& table, bool ferry_own = false);

class Registry {
 public:
  explicit Registry(sql::Database& db);
  const TrackedTable* find(const std::string& name) const;
  const TrackedTable& by_no(std::int64_t no) const;
  std::vector<const TrackedTable*> tracked() const;

  // Records `table` as tracked (new or re-tracked), widens ferry_capture and
  // (re)creates its triggers. Returns true if the table was not tracked before.
  bool track(TrackedTable table);
  // Captures every row `table` holds now as an insert, in primary-key order:
  // what a table tracked for the first time brings to the log at its next seal.
  void capture_existing_rows(const TrackedTable& table);
  void untrack(const std::string& name);

  // Drops every capture trigger, so that rows ferry itself writes (an import)
  // are not captured again; restore() recreates them. Both run inside the
  // caller's transaction, so other connections never see the triggers missing.
  // In between, ferry_meta holds the key 'applying': the application's own
  // triggers can test it to stay out of ferry's writes (README, "Your own triggers").
  void suspend_triggers();
  void restore_triggers();
  // Replaces the capture triggers of every tracked table with the ones this version writes.
  void rebuild_triggers();

 private:
  void create_triggers(const TrackedTable& t);
  void drop_triggers(const std::string& name);
  void widen_capture(const TrackedTable& t);

  sql::Database& db_;
  std::map<std::string, TrackedTable> by_name_;
};

std::string capture_column(char kind, std::size_t index);  // "c3", "k0", "m1".

// ferry tells rows apart by their key's bytes, SQLite by comparing values.
// The two agree except for a NULL in the key (a rowid table lets several in,
// each a row of its own) and a REAL with an integer value in a key column that
// keeps numbers as given (BLOB affinity: 1 and 1.0, 0.0 and -0.0 are one row
// to SQLite and two to ferry). INTEGER, NUMERIC and REAL affinity convert such
// values on the way in, and TEXT keys compare by bytes (collations are refused).
class KeyIdentity {
 public:
  // REQUIRES: `db` and `table` outlive this object.
  KeyIdentity(sql::Database& db, const TrackedTable& table) : db_(&db), table_(&table) {}
  // Why SQLite might see the row with `key` as another than ferry does; empty if
  // it cannot. The column types are read only for a key holding a REAL.
  std::string ambiguity(const std::vector<Value>& key);

 private:
  sql::Database* db_;
  const TrackedTable* table_;
  std::vector<bool> keeps_type_;  // Per key column: can hold 1 and 1.0 both. Read when first needed.
};

// The version of the triggers create_triggers writes (ferry_meta.capture_triggers);
// session::Session::seal replaces older ones. 2: changes compared byte for byte
// (COLLATE BINARY), by type only where the column's affinity needs it. 3: REAL
// zeros of such columns flagged for the seal to compare bit for bit (-0.0).
constexpr int kTriggerVersion = 3;

}  // namespace ferry::capture
