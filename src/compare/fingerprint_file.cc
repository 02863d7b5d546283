// Fingerprint files: `ferry fingerprint --out FILE` writes one, `ferry diff`
// and the network view read them (bundle_format/README.md, "Fingerprints").

#include "compare/fingerprint_file.h"
#include "ferry/compare.h"
#include "ferry/error.h"
#include "ferry/json.h"
#include "util/files.h"
#include "util/hex.h"

namespace ferry {
namespace {

using render::json;

constexpr std::uintmax_t kMaxFileBytes = 64u << 20;  // A million devices' heads fit; more is not a fingerprint.

// The field at `pointer` ("/operations/root"), or an error naming the file and it.
const json& field(const json& doc, const std::string& pointer, json::value_t type, const std::string& path) {
  const json::json_pointer p(pointer);
  if (!doc.contains(p) || doc.at(p).type() != type)
    throw Error(Errc::corrupt, path + ": not a ferry fingerprint file: '" + pointer + "' is missing or of the wrong type");
  return doc.at(p);
}

Hash hash_field(const json& doc, const std::string& pointer, const std::string& path) {
  auto h = util::hash_from_hex(field(doc, pointer, json::value_t::string, path).get<std::string>());
  if (!h) throw Error(Errc::corrupt, path + ": not a ferry fingerprint file: '" + pointer + "' is not 64 hex digits");
  return *h;
}

DeviceId device_field(const json& doc, const std::string& pointer, const std::string& path) {
  auto id = Uuid::parse(field(doc, pointer, json::value_t::string, path).get<std::string>());
  if (!id) throw Error(Errc::corrupt, path + ": not a ferry fingerprint file: '" + pointer + "' is not a device id");
  return *id;
}

}  // namespace

void write_fingerprint(const Fingerprint& fingerprint, const std::string& path) {
  util::write_file_atomically(
      path, render::fingerprint(fingerprint).dump(2, ' ', false, json::error_handler_t::replace) + "\n", "fingerprint file");
}

Fingerprint read_fingerprint(const std::string& path) {
  // One byte more than allowed: enough to see a file is too large.
  return fingerprint::parse_file(util::read_head(path, kMaxFileBytes + 1), path);
}

namespace fingerprint {

Fingerprint parse_file(std::string_view text, const std::string& path) {
  if (text.size() > kMaxFileBytes) throw Error(Errc::corrupt, path + ": too large to be a fingerprint file");
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    throw Error(Errc::corrupt, path + ": not a ferry fingerprint file (not a JSON object; write one with "
                                      "`ferry fingerprint DB --out FILE`)");
  if (field(doc, "/format", json::value_t::string, path).get<std::string>() != "ferry-fingerprint-1")
    throw Error(Errc::refused, path + ": a fingerprint file of format '" + doc["format"].get<std::string>() +
                                   "', which this ferry does not read (upgrade ferry)");
  Fingerprint f;
  f.device = device_field(doc, "/device/id", path);
  f.device_name = field(doc, "/device/name", json::value_t::string, path).get<std::string>();
  const std::string taken = field(doc, "/taken", json::value_t::string, path).get<std::string>();
  const auto taken_ms = render::parse_iso_time(taken);
  if (!taken.empty() && !taken_ms)
    throw Error(Errc::corrupt, path + ": not a ferry fingerprint file: '/taken' is not a UTC time (2026-12-01T10:00:00Z)");
  f.taken_ms = taken_ms.value_or(0);
  f.operations = hash_field(doc, "/operations/root", path);
  f.operation_count = field(doc, "/operations/count", json::value_t::number_unsigned, path).get<std::uint64_t>();
  f.state = hash_field(doc, "/state", path);
  if (doc.contains("scope")) f.scope = field(doc, "/scope", json::value_t::string, path).get<std::string>();
  const json& tables = field(doc, "/tables", json::value_t::array, path);
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const std::string at = "/tables/" + std::to_string(i);
    f.tables.push_back(TableDigest{field(doc, at + "/name", json::value_t::string, path).get<std::string>(),
                                   field(doc, at + "/rows", json::value_t::number_unsigned, path).get<std::uint64_t>(),
                                   hash_field(doc, at + "/digest", path)});
    if (f.tables.size() > 1 && !(f.tables[f.tables.size() - 2].name < f.tables.back().name))
      throw Error(Errc::corrupt, path + ": not a ferry fingerprint file: '" + at +
                                     "' is out of name order or names a table twice");
  }
  const json& heads = field(doc, "/heads", json::value_t::array, path);
  for (std::size_t i = 0; i < heads.size(); ++i) {
    const std::string at = "/heads/" + std::to_string(i);
    ChainHead h{device_field(doc, at + "/device", path),
                field(doc, at + "/seq", json::value_t::number_unsigned, path).get<std::uint64_t>(),
                hash_field(doc, at + "/hash", path),
                field(doc, at + "/base", json::value_t::number_unsigned, path).get<std::uint64_t>()};
    if (h.seq == 0 || h.base > h.seq)
      throw Error(Errc::corrupt, path + ": not a ferry fingerprint file: '" + at + "' has sequence " +
                                     std::to_string(h.seq) + " and base " + std::to_string(h.base));
    if (!f.heads.empty() && !(f.heads.back().device < h.device))
      throw Error(Errc::corrupt, path + ": not a ferry fingerprint file: '" + at +
                                     "' is out of device order or names a device twice");
    f.heads.push_back(h);
  }
  return f;
}

}  // namespace fingerprint

}  // namespace ferry
