#pragma once
// What a hostile exporter does after editing its own bundle with plain SQL:
// compute the content hash again and sign it with its own key, so that the
// bundle is intact as signed and only ferry's other checks stand in the way.

#include <string>

#include "trust/keys.h"

namespace test {

// REQUIRES: `bundle` is a delta bundle of format 3, or of format 4 holding operations of format 1.
void reseal(const std::string& bundle, const ferry::trust::KeyPair& exporter);

}  // namespace test
