#pragma once
// Kill points at every write. `kill_before_write` runs `work` in a child
// process traced with ptrace(2) (all its threads), counts the system calls by
// which it changes a file (writes, renames, unlinks, fsyncs, truncations, file
// copies, creating opens) and kills it with SIGKILL at the entry of the n-th,
// so that call never runs: the child dies exactly as if pulled out between two
// writes. Trying n = 1, 2, ... until the work finishes covers every write point.
//
// A run of writes to one file with no other change between (the pages of one
// transaction, the blocks of one copy) is one point, before its first write:
// a kill inside it leaves a file that ends early, which SQLite's journal and
// ferry's temporary names must handle exactly as a kill before it.
//
// Where the machine refuses ptrace (a container's seccomp profile, Yama),
// `traceable()` is false and callers fall back to kill points in time.
#include <functional>

namespace test {

struct WritePointRun {
  bool killed = false;    // Killed before its n-th write point.
  bool finished = false;  // Ran to its end and exited 0 (false when it threw).
  int points = 0;         // Write points it reached (the n-th included when killed).
};

// Whether this process may trace a child of its own here.
bool traceable();

// Runs `work` in a child (which must open its own connections: none crosses
// the fork) and kills it at the entry of its `n`-th write point (1-based), if
// it gets that far.
WritePointRun kill_before_write(const std::function<void()>& work, int n);

}  // namespace test
