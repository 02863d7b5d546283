#pragma once
// Verifying a bundle while applying it: Reader::scan() runs on a second thread
// -- reading, hashing, decoding and checking every operation -- and hands the
// verified operations, in order and in batches, to `visit` on the calling
// thread. On a machine with two cores the checks cost an import almost no time.
//
// The guarantees are scan()'s: operations arrive in (origin, seq) order, each
// verified; the first failure on either side is thrown here, after the other
// side has stopped; the content hash is checked after the last operation has
// been visited, so a caller applying as it goes must do so inside a
// transaction -- exactly as with scan().

#include "bundle/reader.h"

namespace ferry::bundle {

// REQUIRES: nothing else uses `reader` until this returns.
void scan_in_background(Reader& reader, const Reader::Visitor& visit);

}  // namespace ferry::bundle
