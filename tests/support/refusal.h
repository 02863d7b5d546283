#pragma once
// The check every refusal test makes: the bundle is refused with the expected
// kind of error, and the receiver keeps exactly the rows and operations it had.
#include <catch2/catch.hpp>

#include "support/support.h"

namespace test {

// Imports `bundle` into `to` (whose table `items` is compared), expecting an
// Error of kind `code`; returns it.
inline ferry::Error expect_refusal(Replica& to, const std::string& bundle, ferry::Errc code) {
  const std::string rows = to.dump("items");
  const std::size_t operations = to.engine.status().operations;
  try {
    (void)to.engine.import_bundle(bundle);
  } catch (const ferry::Error& e) {
    CHECK(e.code() == code);
    CHECK(to.dump("items") == rows);
    CHECK(to.engine.status().operations == operations);
    return e;
  }
  FAIL("the bundle was accepted");
  return ferry::Error(ferry::Errc::internal, "unreachable");
}

}  // namespace test
