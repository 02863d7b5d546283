#pragma once
// What a ferry bundle's bytes are made of: the average encoded size of each
// field of an operation (bundle_format/README.md, "The operation"), so the
// benchmark can say what dominates the bytes per operation.
#include <string>

namespace bench {

// Fields of the canonical operation array, in order, then "rest": the array
// header and any difference from re-encoding each field on its own.
constexpr int kFields = 12;
extern const char* const kFieldNames[kFields];

// Adds up, over every operation in the bundle at `path` (format 3.0 or 4.0),
// the encoded size of each field before compression into `bytes` (kFields
// entries; a 4.0 stored form's [nil, bin] wrapper, 3-5 bytes, is not counted;
// a format 2 stored form's Lamport and time steps count as lamport and id, its
// deps as clock). Returns the number of operations.
double measure_bundle_fields(const std::string& path, double* bytes);

}  // namespace bench
