#include "replica/lamports.h"

#include "ferry/error.h"

namespace ferry::replica {

ScopeLamports::Held& ScopeLamports::held(const std::string& scope) {
  if (scope.empty()) throw Error(Errc::internal, "the shared scope's Lamport time is the session's");
  auto found = held_.find(scope);
  if (found != held_.end()) return found->second;
  if (!read_) read_.emplace(db_.prepare("SELECT lamport FROM ferry_lamports WHERE scope=?"));
  read_->bind(1, std::string_view(scope));
  Held h;
  if (read_->step()) {
    const std::int64_t stored = read_->integer(0);
    if (stored < 0) throw Error(Errc::corrupt, db_.path() + ": ferry_lamports holds a negative time");
    h.lamport = static_cast<std::uint64_t>(stored);
  }
  read_->reset();
  return held_.emplace(scope, h).first->second;
}

std::uint64_t ScopeLamports::get(const std::string& scope) { return held(scope).lamport; }

void ScopeLamports::raise(const std::string& scope, std::uint64_t lamport) {
  Held& h = held(scope);
  if (lamport > h.lamport) h.lamport = lamport, h.dirty = true;
}

void ScopeLamports::save() {
  std::optional<sql::Statement> write;
  for (auto& [scope, h] : held_) {
    if (!h.dirty) continue;
    if (!write) write.emplace(db_.prepare("INSERT INTO ferry_lamports(scope, lamport) VALUES(?, ?) "
                                          "ON CONFLICT(scope) DO UPDATE SET lamport=excluded.lamport"));
    write->bind(1, std::string_view(scope)).bind(2, static_cast<std::int64_t>(h.lamport));
    write->run();
    h.dirty = false;
  }
}

}  // namespace ferry::replica
