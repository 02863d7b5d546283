#include "render.h"

#include <iostream>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace ferry::cli {

json to_json(const Value& v) {
  switch (v.type()) {
    case Value::Type::null: return nullptr;
    case Value::Type::integer: return v.as_integer();
    case Value::Type::real:
      if (!std::isfinite(v.as_real())) return json{{"real", v.as_real() > 0 ? "inf" : "-inf"}};
      return v.as_real();
    case Value::Type::text: return v.as_text();
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

std::string iso_time(std::int64_t unix_ms) {
  if (unix_ms <= 0) return "";
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

Value parse_value(const std::string& text) {
  if (text == "NULL" || text == "null") return Value();
  if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
      out += text[i];
      if (text[i] == '\'' && i + 2 < text.size() && text[i + 1] == '\'') ++i;
    }
    return Value::text(out);
  }
  if (text.size() >= 3 && (text[0] == 'x' || text[0] == 'X') && text[1] == '\'' && text.back() == '\'' && text.size() % 2 == 1) {
    Bytes b;
    for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
      const std::string pair = text.substr(i, 2);
      if (pair.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return Value::text(text);
      b.push_back(static_cast<std::uint8_t>(std::stoi(pair, nullptr, 16)));
    }
    return Value::blob(b);
  }
  if (!text.empty() && text.find_first_not_of("+-0123456789") == std::string::npos) {
    try {
      std::size_t used = 0;
      const long long v = std::stoll(text, &used);
      if (used == text.size()) return Value::integer(v);
    } catch (const std::exception&) {
    }
  }
  if (!text.empty() && text.find_first_not_of("+-0123456789.eE") == std::string::npos) {
    try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == text.size()) return Value::real(v);
    } catch (const std::exception&) {
    }
  }
  return Value::text(text);
}

VectorClock parse_clock(const std::string& text) {
  VectorClock clock;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    const auto colon = item.rfind(':');
    auto id = colon == std::string::npos ? std::nullopt : Uuid::parse(item.substr(0, colon));
    if (!id) throw Error(Errc::invalid_argument, "'" + item + "' is not DEVICE-ID:SEQ (a clock is DEVICE-ID:SEQ,DEVICE-ID:SEQ...)");
    try {
      clock.set(*id, std::stoull(item.substr(colon + 1)));
    } catch (const std::exception&) {
      throw Error(Errc::invalid_argument, "'" + item + "' does not end in a sequence number");
    }
    start = end + 1;
  }
  return clock;
}

std::string short_id(const DeviceId& id) { return id.to_string().substr(28); }  // The random tail: v7 ids start with time.

std::string device_label(const DeviceId& id, const std::string& name) {
  return name.empty() ? short_id(id) : name + " (" + short_id(id) + ")";
}

void print(const json& j) { std::cout << j.dump(2) << "\n"; }

json peer_json(const PeerInfo& p) {
  return json{{"id", p.id.to_string()}, {"name", p.name}, {"self", p.is_self}, {"head", p.head},
              {"trust", to_string(p.trust)}, {"public_key", p.public_key}, {"fingerprint", p.fingerprint},
              {"forked", p.forked},
              {"announced", p.announced ? to_json(*p.announced) : json(nullptr)},
              {"announced_at", iso_time(p.announced_ms)},
              {"exported", p.exported ? to_json(*p.exported) : json(nullptr)},
              {"exported_at", iso_time(p.exported_ms)}};
}

std::string trust_words(const PeerInfo& p) {
  std::string out;
  switch (p.trust) {
    case Trust::self: out = "this device's key"; break;
    case Trust::added: out = "trusted (added)"; break;
    case Trust::tofu: out = "trusted (on first use)"; break;
    case Trust::removed: out = "NOT trusted (removed)"; break;
    case Trust::none: out = "key never seen"; break;
  }
  if (!p.fingerprint.empty() && p.trust != Trust::self) out += ", key " + p.fingerprint;
  if (p.forked) out += ", FORKED HISTORY (see status)";
  return out;
}

}  // namespace ferry::cli
