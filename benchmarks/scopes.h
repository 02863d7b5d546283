#pragma once
// ferry_bench --scopes: what a peer granted one scope of many costs, against
// a peer granted all of them (bundle_format/format4.md §12.4).
//
// A hub administers a fleet whose table `visits` is scoped by clinic, and
// writes N rows spread evenly over S clinics. Timed, the fastest of --reps:
// the hub's export for a peer that reads every scope and for one that reads
// clinic 7 alone (sealed first, so the export alone counts), and each peer's
// import of its bundle into a new database. Reported: bytes, export and
// import time of the one-scope peer as a share of the every-scope peer's
// (the target: about 1/S), beside raw SQLite inserting the same rows.

namespace bench {

// Returns 0, or 1 after printing why it could not measure.
int run_scopes(int rows, int scopes, int reps, bool json);

}  // namespace bench
