#include "history/replay.h"

#include <algorithm>

#include "merge/rules.h"

namespace ferry::history {

RowReplay::Cell& RowReplay::cell(const std::string& scope, const std::string& name) {
  for (auto& c : cells_)
    if (c.name == name && c.scope == scope) return c;
  cells_.push_back(Cell{scope, name, {}});
  return cells_.back();
}

const std::string* RowReplay::shown() const {
  const Cell* best = nullptr;
  const Operation* best_winner = nullptr;
  for (const auto& c : cells_) {
    if (!c.name.empty()) continue;
    const Operation* w = winner(c.frontier);
    if (w == nullptr || w->kind != OpKind::insert) continue;
    if (best == nullptr || merge::winner_order(w->lamport, w->origin, best_winner->lamport, best_winner->origin))
      best = &c, best_winner = w;
  }
  return best == nullptr ? nullptr : &best->scope;
}

const Operation* RowReplay::winner(const std::vector<OperationRef>& frontier) {
  const OperationRef* best = merge::winner_of(
      frontier, [](const OperationRef& op) { return op->lamport; },
      [](const OperationRef& op) -> const DeviceId& { return op->origin; });
  return best == nullptr ? nullptr : best->get();
}

std::vector<OperationRef> RowReplay::add(const OperationRef& op) {
  std::vector<OperationRef> rivals;
  merge::for_each_cell(*op, *table_, [&](const std::string& name) {
    auto& frontier = cell(op->scope, name).frontier;
    const auto mine = merge::written(*op, name);
    std::vector<OperationRef> met;  // Neither before nor after op: what it meets if it enters.
    for (const auto& f : frontier)
      if (!causality_->happened_before(*f, *op) && merge::written(*f, name) != mine) met.push_back(f);
    // A set need not arrive in causal order: an operation added earlier may follow op.
    const bool entered = merge::enter_frontier(
        frontier, op, [&](const OperationRef& f) { return causality_->happened_before(*f, *op); },
        [&](const OperationRef& f) { return causality_->happened_before(*op, *f); }, /*check_late=*/true);
    if (!entered) return;
    for (const auto& f : met)
      if (std::find(rivals.begin(), rivals.end(), f) == rivals.end()) rivals.push_back(f);
  });
  return rivals;
}

bool RowReplay::exists() const { return shown() != nullptr; }

std::vector<ColumnValue> RowReplay::values() const {
  std::vector<ColumnValue> out;
  const std::string* scope = shown();
  if (scope == nullptr) return out;
  for (const auto& c : cells_) {
    if (c.name.empty() || c.frontier.empty() || c.scope != *scope) continue;
    const Operation* w = winner(c.frontier);
    if (auto v = merge::written(*w, c.name)) out.push_back(ColumnValue{c.name, std::move(*v)});
  }
  std::sort(out.begin(), out.end(), [](const ColumnValue& a, const ColumnValue& b) { return a.name < b.name; });
  return out;
}

}  // namespace ferry::history
