#pragma once
// When `trust add` replaces the signing key under which a device's operations
// were admitted here, and the person says those operations were not the
// device's (an impostor's bundle came first under trust on first use, or a
// wrong key was added), this database forgets them, in the caller's
// transaction (bundle_format/README.md §14, "A key replaced"):
//   1. the device's operations leave the log and the snapshot base, with the
//      fork evidence they were half of (trust::Store::add drops its pending
//      ones and head signatures with the old key);
//   2. every row they wrote is rebuilt from the operations left
//      (merge::Merger::rebuild). Operations of other devices that followed
//      them stay: they were signed by their origins, and their clocks still
//      name the forgotten numbers;
//   3. what peers announced, and what was exported to them, of the device is
//      forgotten, so its own operations travel here and from here again;
//   4. the greatest of the device's numbers that operations left here name in
//      their clocks is recorded (ferry_meta "forgotten DEVICE"): the device's
//      own operations up to it may now arrive after operations that follow
//      them, and each session tells its merger so; and operations made here
//      follow what those operations follow, so clocks stay transitively
//      closed (session/session.h reads the record). The Lamport time goes back to the greatest of the
//      operations left.

#include "ferry/reports.h"
#include "session/session.h"

namespace ferry::identity {

// Steps 1-4 for `device`. Fills TrustAdded's forgotten, forgotten_up_to, rows,
// followers and followed_up_to. REQUIRES: inside a write transaction, in a
// session whose captured changes are sealed and that makes no operation after
// it (its writer's clock still names the chain); the caller pins the new key.
TrustAdded forget_chain(session::Session& s, const DeviceId& device);

}  // namespace ferry::identity
