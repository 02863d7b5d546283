#include "history/replay.h"

#include <algorithm>

#include "merge/merger.h"

namespace ferry::history {

std::vector<std::string> RowReplay::cells(const Operation& op, const capture::TrackedTable& table) {
  std::vector<std::string> out;
  if (op.kind != OpKind::update) out.push_back("");
  if (op.kind == OpKind::remove) {
    for (const auto& c : table.columns)
      if (!table.is_key(c)) out.push_back(c);
  } else {
    for (const auto& c : op.columns)
      if (!table.is_key(c.name)) out.push_back(c.name);
  }
  return out;
}

std::optional<Value> RowReplay::written(const Operation& op, const std::string& cell) {
  if (op.kind == OpKind::remove) return std::nullopt;
  if (cell.empty()) return Value::integer(1);
  for (const auto& c : op.columns)
    if (c.name == cell) return c.value;
  return Value();  // As the merger: an insert whose schema lacked the column wrote NULL.
}

RowReplay::Cell& RowReplay::cell(const std::string& name) {
  for (auto& c : cells_)
    if (c.name == name) return c;
  cells_.push_back(Cell{name, {}});
  return cells_.back();
}

const Operation* RowReplay::winner(const std::vector<OperationRef>& frontier) {
  const Operation* best = nullptr;
  for (const auto& op : frontier)
    if (best == nullptr || merge::winner_order(op->lamport, op->origin, best->lamport, best->origin)) best = op.get();
  return best;
}

std::vector<OperationRef> RowReplay::add(const OperationRef& op) {
  std::vector<OperationRef> rivals;
  for (const std::string& name : cells(*op, *table_)) {
    auto& frontier = cell(name).frontier;
    // Already followed by an operation added earlier (a set need not arrive in causal order).
    if (std::any_of(frontier.begin(), frontier.end(), [&](const OperationRef& f) { return happened_before(*op, *f); }))
      continue;
    frontier.erase(std::remove_if(frontier.begin(), frontier.end(),
                                  [&](const OperationRef& f) { return happened_before(*f, *op); }),
                   frontier.end());
    const auto mine = written(*op, name);
    for (const auto& f : frontier)
      if (written(*f, name) != mine && std::find(rivals.begin(), rivals.end(), f) == rivals.end()) rivals.push_back(f);
    frontier.push_back(op);
  }
  return rivals;
}

bool RowReplay::exists() const {
  for (const auto& c : cells_)
    if (c.name.empty()) {
      const Operation* w = winner(c.frontier);
      return w != nullptr && w->kind == OpKind::insert;
    }
  return false;
}

std::vector<ColumnValue> RowReplay::values() const {
  std::vector<ColumnValue> out;
  for (const auto& c : cells_) {
    if (c.name.empty() || c.frontier.empty()) continue;
    const Operation* w = winner(c.frontier);
    if (auto v = written(*w, c.name)) out.push_back(ColumnValue{c.name, std::move(*v)});
  }
  std::sort(out.begin(), out.end(), [](const ColumnValue& a, const ColumnValue& b) { return a.name < b.name; });
  return out;
}

}  // namespace ferry::history
