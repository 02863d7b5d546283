#pragma once
// ferry_bench --fleet: what one operation costs as the fleet grows.
//
// For each D: D − 1 devices write rows and send them to a hub, as many rows
// in every fleet (one per device of the largest: at D = 2 the one device
// writes them all), so that sizes differ in the fleet alone; the hub
// sends everything to one of them (the receiver), which acknowledges; so the
// hub has seen D devices that wrote. Then the hub writes N rows, and one step
// is timed: seal + export for the receiver; then the receiver's import. That
// first batch follows all D devices; the receiver acknowledges it, and the
// next batches (--reps of them, the fastest counts) follow only the hub's own.
// Every fleet is built before any batch is timed, and the next batches are
// timed round-robin across the sizes, so that a machine whose speed drifts
// over minutes moves every D's figures alike.
// Reported per operation: bundle bytes, seal+export µs, import µs, the
// receiver's growth on disk, each with its ratio to D = 2 (the target: within
// 1.3× at every D); and the hub's ferry_* tables beyond the log, per device
// (with --announce, after every device announced its clock to the hub).
#include <string>
#include <vector>

namespace bench {

// Runs the fleet measurement for each D in `fleet_sizes` (each ≥ 2) with `rows`
// hub writes (the next batch `reps` times), printing a table (or one JSON object per D with `json`). With
// `everyone_announces`, every device imports the fleet and announces its clock
// to the hub before the hub writes, as after a full round of syncing, so that
// the hub's metadata holds every peer's clock.
// Returns 0, or 1 after printing why a size could not be measured.
int run_fleet(const std::vector<int>& fleet_sizes, int rows, int reps, bool json, bool everyone_announces);

}  // namespace bench
