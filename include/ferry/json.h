#pragma once
// The JSON form of ferry's reports, shared by every front end that speaks JSON
// (the ferry tool's --json, the C API, the SQLite extension), so a key means
// the same everywhere. The keys are documented in the README ("JSON keys").
// The one public header that needs a library beyond the standard one:
// nlohmann-json's header (Debian: nlohmann-json3-dev); ferry/ferry.h does not
// include it.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ferry/engine.h"
#include "ferry/sync.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry::render {

using json = nlohmann::json;

// A value: null, number, string, {"real": "inf"} for non-finite REALs,
// {"blob": "<hex>"} for BLOBs. -0.0 stays -0.0.
json to_json(const Value& v);
json to_json(const VectorClock& clock);
json to_json(const Operation& op);
json to_json(const SeqRange& r);
json to_json(const std::vector<SeqRange>& ranges);
json to_json(const std::vector<HeldRow>& held);
std::string iso_time(std::int64_t unix_ms);  // "2026-11-25T12:00:00.123Z", "" for 0, before 1970 or after 9999.
// Reads that form back ("2026-11-25T12:00:00Z", milliseconds optional, UTC only).
std::optional<std::int64_t> parse_iso_time(const std::string& text);

json peer(const PeerInfo& p);
json status(const StatusReport& s);
json reidentified(const Reidentified& r);
json trust_added(const TrustAdded& r);
json grant(const GrantInfo& g);
json fleet(const FleetInfo& f);
// Non-key columns by name, as merged (RowVersion::values, Engine::row_at).
json values(const std::vector<ColumnValue>& values);
// Every version of a row (Engine::history), oldest first.
json history(const std::vector<RowVersion>& versions);
json as_of(const AsOfSummary& s);
json conflicts(const std::vector<ConflictInfo>& list);
json export_summary(const ExportSummary& s);
// One import's summary (the tool adds the file name and totals).
json import_summary(const ImportSummary& s);
json verify(const VerifyReport& r, const std::string& kind);
// ferry sync's report (ferry/sync.h): every file looked at, written or deleted.
json sync_report(const SyncReport& r);
json fingerprint(const Fingerprint& f);

}  // namespace ferry::render
#pragma GCC visibility pop
