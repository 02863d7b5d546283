#include "ferry/json.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "util/hex.h"
#include "util/utf8.h"

namespace ferry::render {

json to_json(const Value& v) {
  switch (v.type()) {
    case Value::Type::null: return nullptr;
    case Value::Type::integer: return v.as_integer();
    case Value::Type::real:
      if (!std::isfinite(v.as_real())) return json{{"real", v.as_real() > 0 ? "inf" : "-inf"}};
      return v.as_real();
    case Value::Type::text:  // TEXT may hold any bytes: what is not UTF-8 is given exactly, in hex.
      if (util::is_utf8(v.as_text())) return v.as_text();
      return json{{"text", util::hex(reinterpret_cast<const std::uint8_t*>(v.as_text().data()), v.as_text().size())}};
    case Value::Type::blob: {
      const std::string lit = v.to_display();  // x'....'
      return json{{"blob", lit.substr(2, lit.size() - 3)}};
    }
  }
  return nullptr;
}

json to_json(const VectorClock& clock) {
  json out = json::object();
  for (const auto& [device, seq] : clock.entries()) out[device.to_string()] = seq;
  return out;
}

json to_json(const SeqRange& r) { return json{{"device", r.device.to_string()}, {"first", r.first}, {"last", r.last}}; }

json to_json(const Operation& op) {
  json key = json::array(), columns = json::object();
  for (const auto& k : op.key) key.push_back(to_json(k));
  for (const auto& c : op.columns) columns[c.name] = to_json(c.value);
  return json{{"id", op.id.to_string()}, {"device", op.origin.to_string()}, {"seq", op.seq},
              {"lamport", op.lamport}, {"time", iso_time(op.id.unix_ms())}, {"table", op.table},
              {"key", key}, {"kind", to_string(op.kind)}, {"columns", columns}};
}

json to_json(const std::vector<HeldRow>& held) {
  json out = json::array();
  for (const auto& h : held) {
    json key = json::array();
    for (const auto& v : h.key) key.push_back(to_json(v));
    out.push_back({{"table", h.table}, {"key", key}, {"reason", h.reason}, {"since", iso_time(h.since_ms)}});
  }
  return out;
}

json to_json(const std::vector<SeqRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) out.push_back(to_json(r));
  return out;
}

std::string iso_time(std::int64_t unix_ms) {
  // Unknown: none recorded, or a time no four-digit year holds (a clock at the ends of time).
  constexpr std::int64_t kLast = 253402300799999;  // 9999-12-31T23:59:59.999Z
  if (unix_ms <= 0 || unix_ms > kLast) return "";
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::optional<std::int64_t> parse_iso_time(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  char sep = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec, &used) != 7 ||
      (sep != 'T' && sep != ' '))
    return std::nullopt;
  std::int64_t ms = 0;
  std::size_t at = static_cast<std::size_t>(used);
  if (at < text.size() && text[at] == '.') {
    int digits = 0;
    for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at, ++digits)
      if (digits < 3) ms = ms * 10 + (text[at] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;  // UTC only, said so.
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

json peer(const PeerInfo& p) {
  return json{{"id", p.id.to_string()}, {"name", p.name}, {"self", p.is_self}, {"head", p.head},
              {"trust", to_string(p.trust)}, {"public_key", p.public_key}, {"fingerprint", p.fingerprint},
              {"forked", p.forked},
              {"announced", p.announced ? to_json(*p.announced) : json(nullptr)},
              {"announced_at", iso_time(p.announced_ms)},
              {"exported", p.exported ? to_json(*p.exported) : json(nullptr)},
              {"exported_at", iso_time(p.exported_ms)}, {"grant", p.grant ? grant(*p.grant) : json(nullptr)}};
}

namespace {

json scopes(const std::vector<ScopeHeld>& held) {
  json out = json::array();
  for (const auto& h : held)
    out.push_back({{"scope", h.scope}, {"chains", h.chains}, {"operations", h.operations}, {"waiting", h.waiting},
                   {"reads", h.reads}});
  return out;
}

}  // namespace

json status(const StatusReport& s) {
  json peers = json::array();
  for (const auto& p : s.peers) peers.push_back(peer(p));
  json forks = json::array();
  for (const auto& f : s.forks)
    forks.push_back({{"device", f.device.to_string()}, {"scope", f.scope}, {"seq", f.seq}, {"held_hash", to_hex(f.held_hash)},
                     {"other_hash", to_hex(f.other_hash)}, {"bundle", f.bundle}, {"detected", iso_time(f.detected_ms)}});
  return json{{"device", {{"id", s.device.to_string()}, {"name", s.device_name}, {"public_key", s.public_key},
                          {"fingerprint", s.fingerprint}}},
              {"trust_policy", s.strict ? "strict" : "tofu"}, {"ferry3_compatible", s.ferry3_compatible},
              {"clock", to_json(s.clock)}, {"tables", s.tables}, {"operations", s.operations},
              {"pending", s.pending_operations}, {"missing", to_json(s.missing)},
              {"conflicts_open", s.conflicts_open}, {"forks", forks},
              {"identity_reused", s.identity_reused.empty() ? json(nullptr) : json(s.identity_reused)}, {"peers", peers},
              {"held", to_json(s.held)}, {"fleet", fleet(s.fleet)}, {"scopes", scopes(s.scopes)}};
}

json grant(const GrantInfo& g) {
  return json{{"device", g.device.to_string()}, {"name", g.name}, {"read", g.read}, {"write", g.write},
              {"relay", g.relay}, {"admin_seq", g.admin_seq}};
}

json fleet(const FleetInfo& f) {
  json grants = json::array();
  for (const auto& g : f.grants) grants.push_back(grant(g));
  return json{{"administrator", f.administrator ? json(f.administrator->to_string()) : json(nullptr)},
              {"administrator_key", f.administrator_key}, {"started", f.started}, {"grants", grants}};
}

json reidentified(const Reidentified& r) {
  return json{{"previous", {{"id", r.previous.to_string()}, {"head", r.previous_head}}},
              {"device", {{"id", r.device.to_string()}, {"public_key", r.public_key}, {"fingerprint", r.fingerprint}}},
              {"reissued", r.reissued},
              {"evidence", r.evidence.empty() ? json(nullptr) : json(r.evidence)}};
}

json trust_added(const TrustAdded& r) {
  return json{{"replaced", r.replaced},
              {"previous_fingerprint", r.replaced ? json(r.previous_fingerprint) : json(nullptr)},
              {"forgotten", r.forgotten}, {"forgotten_up_to", r.forgotten_up_to}, {"rows", r.rows},
              {"followers", r.followers}, {"followed_up_to", r.followed_up_to}};
}

json values(const std::vector<ColumnValue>& values) {
  json out = json::object();
  for (const auto& c : values) out[c.name] = to_json(c.value);
  return out;
}

json history(const std::vector<RowVersion>& versions) {
  json out = json::array();
  for (const auto& v : versions) {
    json concurrent = json::array();
    for (const auto& op : v.concurrent)
      concurrent.push_back({{"device", op.origin.to_string()}, {"seq", op.seq}, {"id", op.id.to_string()}});
    out.push_back({{"operation", to_json(v.operation)}, {"exists", v.exists},
                   {"values", v.exists ? values(v.values) : json(nullptr)}, {"concurrent", concurrent}});
  }
  return out;
}

json as_of(const AsOfSummary& s) {
  return json{{"rows", s.rows}, {"operations", s.operations}, {"skipped", s.skipped}};
}

json conflicts(const std::vector<ConflictInfo>& list) {
  auto side = [](const Operation& op, const std::optional<Value>& v) {
    return json{{"device", op.origin.to_string()}, {"seq", op.seq}, {"lamport", op.lamport},
                {"value", v ? to_json(*v) : json(nullptr)}, {"deleted", !v.has_value()}};
  };
  json out = json::array();
  for (const auto& c : list) {
    json key = json::array();
    for (const auto& k : c.key) key.push_back(to_json(k));
    out.push_back({{"id", c.id}, {"kind", c.kind}, {"detail", c.detail}, {"table", c.table}, {"key", key},
                   {"column", c.column}, {"winner", side(c.winner, c.winner_value)},
                   {"loser", side(c.loser, c.loser_value)}, {"detected", iso_time(c.detected_ms)}});
  }
  return out;
}

json export_summary(const ExportSummary& s) {
  return json{{"file", s.path}, {"bundle_id", s.bundle_id.to_string()}, {"operations", s.operations},
              {"ranges", to_json(s.ranges)}, {"receipt", s.receipt}, {"carried", s.carried}, {"bytes", s.bytes},
              {"encrypted_for", s.encrypted_for ? json(s.encrypted_for->to_string()) : json(nullptr)},
              {"held", to_json(s.held)}};
}

json import_summary(const ImportSummary& s) {
  json trusted = json::array();
  for (const auto& p : s.newly_trusted) trusted.push_back(peer(p));
  json removed = json::array();
  for (const auto& r : s.removed_scopes)
    removed.push_back({{"scope", r.scope}, {"operations", r.operations}, {"rows", r.rows}, {"left_out", r.left_out}, {"unsent", r.unsent}});
  return json{{"applied", s.applied}, {"duplicates", s.duplicates}, {"pending", s.pending},
              {"conflicts", s.conflicts}, {"missing", to_json(s.missing)},
              {"foreign_key_violations", s.foreign_key_violations}, {"newly_trusted", trusted},
              {"discarded", s.discarded}, {"removed_scopes", removed}};
}

namespace {

const char* outcome_name(SyncFile::Outcome o) {
  switch (o) {
    case SyncFile::Outcome::imported: return "imported";
    case SyncFile::Outcome::already_imported: return "already imported";
    case SyncFile::Outcome::same_as: return "same bundle as another file";
    case SyncFile::Outcome::not_for_this_device: return "not for this device";
    case SyncFile::Outcome::refused: return "refused";
    case SyncFile::Outcome::not_tried: return "not tried";
    case SyncFile::Outcome::written: return "written";
    case SyncFile::Outcome::deleted: return "deleted";
  }
  return "refused";
}

json sync_files(const std::vector<SyncFile>& files) {
  json out = json::array();
  for (const SyncFile& f : files) {
    json j{{"file", f.file}, {"outcome", outcome_name(f.outcome)}, {"detail", f.detail}};
    if (f.error) j["error"] = to_string(*f.error);
    if (!f.peer.empty()) j["peer"] = f.peer;
    if (f.import) j["import"] = import_summary(*f.import);
    if (f.exported) j["export"] = export_summary(*f.exported);
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

json sync_report(const SyncReport& r) {
  return json{{"folder", r.folder}, {"imports", sync_files(r.imports)}, {"exports", sync_files(r.exports)},
              {"up_to_date", r.up_to_date}, {"deletions", sync_files(r.deletions)},
              {"error", r.first_error ? json(to_string(*r.first_error)) : json(nullptr)}};
}

json verify(const VerifyReport& r, const std::string& kind) {
  return json{{"ok", r.ok}, {"kind", kind}, {"operations", r.operations}, {"devices", r.devices},
              {"first_failure", r.first_failure}};
}

json fingerprint(const Fingerprint& f) {
  json heads = json::array();
  for (const auto& h : f.heads)
    heads.push_back({{"device", h.device.to_string()}, {"seq", h.seq}, {"hash", to_hex(h.hash)}, {"base", h.base}});
  json tables = json::array();
  for (const auto& t : f.tables) tables.push_back({{"name", t.name}, {"rows", t.rows}, {"digest", to_hex(t.digest)}});
  json out{{"format", "ferry-fingerprint-1"},
           {"device", {{"id", f.device.to_string()}, {"name", f.device_name}}},
           {"taken", iso_time(f.taken_ms)},
           {"operations", {{"root", to_hex(f.operations)}, {"count", f.operation_count}}},
           {"state", to_hex(f.state)}, {"tables", tables}, {"heads", heads}};
  if (f.scope) out["scope"] = *f.scope;  // Of one scope only (bundle_format/README.md §16).
  return out;
}

}  // namespace ferry::render
