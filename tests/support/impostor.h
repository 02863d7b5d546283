#pragma once
// An impostor, as the trust tests need one: a database ferry prepared, made to
// call itself another device while keeping keys of its own. Its bundles carry
// the victim's id under a key the victim never had.
#include <string>

#include "ferry/ids.h"

namespace test {

// Makes the prepared database at `path` device `victim`, keeping its own keys.
// Open it with Engine::open afterwards.
void pose_as(const std::string& path, const ferry::DeviceId& victim);

}  // namespace test
