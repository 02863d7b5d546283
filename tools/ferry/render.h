#pragma once
// How the CLI shows ferry's values to people and to scripts (--json), and how
// it reads values and clocks typed on the command line.

#include <nlohmann/json.hpp>
#include <string>

#include "ferry/engine.h"

namespace ferry::cli {

using nlohmann::json;

// JSON form of a value: null, number, string, {"real": "inf"} for non-finite REALs,
// {"blob": "<hex>"} for BLOBs. -0.0 stays -0.0.
json to_json(const Value& v);
json to_json(const VectorClock& clock);
json to_json(const Operation& op);
json to_json(const SeqRange& r);
std::string iso_time(std::int64_t unix_ms);  // "2026-11-25T12:00:00.123Z", "" for 0.

// Reads a value typed on the command line: NULL, 42, -1.5, 'quoted text', x'00ff';
// anything else is TEXT as typed.
Value parse_value(const std::string& text);
// Reads a clock: "DEVICE:SEQ,DEVICE:SEQ" (device ids in full).
VectorClock parse_clock(const std::string& text);

void print(const json& j);  // To standard output, indented.
json peer_json(const PeerInfo& p);
// "trusted (added), key 3f2a 91c0 ...", "not trusted (removed)", "FORKED ...": for people.
std::string trust_words(const PeerInfo& p);

std::string short_id(const DeviceId& id);  // Last 8 hex digits (the random part), for people.
std::string device_label(const DeviceId& id, const std::string& name);  // "office (0192ab34)".

}  // namespace ferry::cli
