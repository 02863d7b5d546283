#pragma once
// Allocation failure on demand, for a whole test program (RELIABILITY ST-06):
// the program's operator new, SQLite's allocator and OpenSSL's all count the
// allocations they make and fail the k-th one -- once, or that one and every
// one after it until disarmed. install() must run before SQLite or OpenSSL
// allocates anything (oom_test.cc runs it from a constructor, before main()).

#include <cstdint>

namespace test::oom {

void install();

// Fails the k-th allocation from now (k >= 1); with `persistent`, every later one too.
void arm(std::int64_t k, bool persistent);
// Stops failing. Returns whether the armed failure happened.
bool disarm();

// Allocations made while counting (armed or not) since the last reset.
std::int64_t counted();
void reset_count();

}  // namespace test::oom
