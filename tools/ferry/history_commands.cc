// Every version of a row, and a table as it was (README, "History").
#include <iostream>
#include <map>

#include "commands.h"
#include "ferry/engine.h"
#include "render.h"

namespace ferry::cli {
namespace {

std::vector<Value> key_of(const HistoryArgs& a) {
  std::vector<Value> key;
  for (const auto& k : a.key) key.push_back(Value::parse(k));
  return key;
}

std::string values_text(const std::vector<ColumnValue>& values) {
  std::string out;
  for (const auto& c : values) out += (out.empty() ? "" : "  ") + printable(c.name) + "=" + printable(c.value.to_display(), 60);
  return out;
}

}  // namespace

int cmd_history(const HistoryArgs& a) {
  auto e = open_engine(a.db);
  const auto key = key_of(a);
  if (!a.at.empty()) {
    const auto row = e.row_at(a.table, key, PastPoint::parse(a.at));
    if (a.json) {
      print({{"table", a.table}, {"at", a.at}, {"exists", row.has_value()}, {"values", row ? render::values(*row) : json(nullptr)}});
      return kOk;
    }
    std::cout << a.table << " [" << key_text(key) << "] at " << a.at << ": "
              << (row ? values_text(*row) : "did not exist (not yet created, or deleted)") << "\n";
    return kOk;
  }
  const auto versions = e.history(a.table, key);
  if (a.json) {
    print(render::history(versions));
    return kOk;
  }
  if (versions.empty())
    std::cout << "no operation ever wrote " << a.table << " [" << key_text(key) << "] (as far as this database knows)\n";
  auto names = device_names(e);
  for (const auto& v : versions) {
    const Operation& op = v.operation;
    std::cout << iso_time(op.id.unix_ms()) << "  " << device_label(op.origin, names[op.origin]) << " #" << op.seq << "  "
              << to_string(op.kind) << "\n    " << (v.exists ? values_text(v.values) : "(row deleted)") << "\n";
    for (const auto& c : v.concurrent)
      std::cout << "    concurrent with " << device_label(c.origin, names[c.origin]) << " #" << c.seq << " ("
                << to_string(c.kind) << "): a conflict\n";
  }
  return kOk;
}

int cmd_as_of(const HistoryArgs& a) {
  auto e = open_engine(a.db);
  const AsOfSummary s = e.table_as_of(a.table, PastPoint::parse(a.at), a.output);
  if (a.json) {
    json out = render::as_of(s);
    out["file"] = a.output;
    out["table"] = a.table;
    out["at"] = a.at;
    print(out);
    return kOk;
  }
  std::cout << "wrote " << a.output << ": " << plural(s.rows, "row", "rows") << " of " << a.table << " as of " << a.at
            << " (from " << plural(s.operations, "operation", "operations") << ")\n";
  if (s.skipped)
    std::cout << plural(s.skipped, "row was", "rows were")
              << " left out: they break a constraint of the table other than the primary key, as imports skip them\n";
  return kOk;
}

// The operations log, newest first.
int cmd_log(const LogArgs& a) {
  auto e = open_engine(a.db);
  LogFilter f;
  if (!a.table.empty()) f.table = a.table;
  if (!a.key.empty()) {
    std::vector<Value> key;
    for (const auto& k : a.key) key.push_back(Value::parse(k));
    f.key = key;
  }
  if (!a.device.empty()) {
    for (const auto& p : e.peers())
      if (p.id.to_string() == a.device || p.name == a.device || short_id(p.id) == a.device) f.device = p.id;
    if (!f.device) throw Error(Errc::not_found, "no known device called '" + a.device + "'; `ferry peers " + a.db + "` lists them");
  }
  f.limit = a.limit;
  const auto ops = e.log(f);
  if (a.json) {
    json out = json::array();
    for (const auto& op : ops) out.push_back(to_json(op));
    print(out);
    return kOk;
  }
  std::map<DeviceId, std::string> chains;  // A chain of a scope shown as its device and scope.
  for (const auto& c : e.scoped_chains()) chains[c.chain] = short_id(c.device) + " in scope '" + printable(c.scope) + "'";
  for (const auto& op : ops) {
    const std::string origin = op.scope.empty() ? short_id(op.origin) : chains[op.origin];
    std::cout << iso_time(op.id.unix_ms()) << "  " << origin << " #" << op.seq << "  " << to_string(op.kind)
              << " " << printable(op.table) << " [" << key_text(op.key) << "]";
    for (const auto& c : op.columns) std::cout << " " << printable(c.name) << "=" << printable(c.value.to_display(), 60);
    std::cout << "\n";
  }
  return kOk;
}

}  // namespace ferry::cli
