#pragma once
// A bundle made by hand, as another tool could make it: `devices` fresh
// devices, each with its own key pair, each inserting one row (id = its index,
// name 'n<index>') into items(id INTEGER PRIMARY KEY, name TEXT). The first
// device exports it; every range carries its origin's valid signature, and the
// bundle its exporter's, so only ferry's other rules stand in its way.

#include <cstdint>
#include <string>

namespace test {

struct Crowd {
  std::size_t devices = 1;
  std::uint64_t lamport = 1;  // Of every operation (an honest one's is 1).
};

void write_crowd_bundle(const std::string& path, const Crowd& crowd);

}  // namespace test
