#pragma once
// The floor under ferry's seal + export: what writing the same bytes costs with
// nothing of ferry around them. Ferry's guarantees fix two writes per export:
// the operations must be in the log, durably, before the bundle appears (a
// crash must not let the same numbers be sealed twice), and the bundle itself
// must reach the disk. Measured with the operations ferry actually made, so the
// benchmark can say how far ferry is from the least its design must spend, as
// well as how far it is from the session extension, which keeps nothing.
#include <string>

namespace bench {

struct Floor {
  double log_seconds = 0;     // The log's exact rows, copied into a fresh WAL database, synchronous=FULL, one commit.
  double bundle_seconds = 0;  // The bundle file's bytes, written to a new file and fsynced.
};

// `ferry_db` is a database ferry has just exported from, `bundle` the bundle it
// wrote; scratch files go in `dir`. Exits the process with a message on failure.
Floor measure_floor(const std::string& ferry_db, const std::string& bundle, const std::string& dir);

}  // namespace bench
