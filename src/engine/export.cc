// Engine::export_bundle: the operations a peer lacks, each range vouched for by
// its origin's signature, the whole signed by this device, optionally encrypted.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <optional>

#include "bundle/format.h"
#include "capture/held.h"
#include "bundle/reader.h"
#include "bundle/writer.h"
#include "engine/engine_impl.h"
#include "identity/identity.h"
#include "identity/reissue.h"
#include "session/session.h"
#include "exchange/snapshot.h"
#include "log/codec.h"
#include "trust/envelope.h"
#include "trust/store.h"
#include "util/files.h"
#include "util/uuid.h"

namespace ferry {
namespace {

using replica::store_clock;
using replica::stored_clock;

// Every table this device has tracked, as bundles describe them.
std::vector<TableInfo> known_tables(const capture::Registry& tables, sql::Database& db) {
  std::vector<TableInfo> out;
  auto st = db.prepare("SELECT name FROM ferry_tables ORDER BY name");
  while (st.step())
    if (const auto* t = tables.find(st.text(0))) out.push_back(t->info());
  return out;
}

// Where each range ends and who vouches for it: this device signs its own head
// now; another device's operations go out only up to a head that device signed
// (kept from the bundle that brought them), so a receiver can check every one.
void sign_ranges(session::Session& s, trust::Store& store, const trust::KeyPair& keys, BundleInfo& info) {
  const trust::Identity self = keys.identity();
  for (std::size_t i = 0; i < info.ranges.size(); ++i) {
    const SeqRange& r = info.ranges[i];
    if (r.device == s.self) {
      info.origin_keys.push_back(self.sign);
      info.head_signatures.push_back(keys.sign(bundle::head_message(r.device, r.last, info.last_hashes[i])));
      continue;
    }
    const auto identity = store.identity(r.device);
    const auto head = store.signed_head(s.devices.find(r.device)->no, r.last);
    // Only a snapshot can get here without one: its ranges are the heads themselves.
    if (!identity || !head || head->first != r.last)
      throw Error(Errc::refused, "cannot vouch for operation " + std::to_string(r.last) + " of device " +
                                     r.device.to_string() + ": that device's signature of it has not arrived here "
                                     "(later operations of it wait for others). Import the missing bundles "
                                     "(`ferry status` lists them), then export the snapshot again.");
    info.origin_keys.push_back(identity->sign);
    info.head_signatures.push_back(head->second);
  }
}

// The receipt: the peer's own newest operation held here (up to a head it
// signed), sent back to it when nothing else of its chain goes. A peer that
// holds another operation under that number, or none, is a restored or copied
// database and finds out on import (engine/identity.h); any other peer counts
// it as a duplicate.
// Returns whether it added one.
bool add_receipt(session::Session& s, trust::Store& store, const replica::Device& peer, BundleInfo& info) {
  const auto head = store.signed_head(peer.no, peer.head_seq);
  if (!head || head->first <= peer.base_seq) return false;  // Nothing signed, or not held here (a snapshot's base).
  const std::uint64_t seq = head->first;
  const auto hash = s.log.hash(peer.id, seq);
  const auto prev = seq == 1 ? Hash{} : seq - 1 == peer.base_seq ? peer.base_hash : s.log.hash(peer.id, seq - 1);
  if (!hash || !prev) return false;
  info.ranges.push_back(SeqRange{peer.id, seq, seq});
  info.prerequisites.push_back(*prev);
  info.last_hashes.push_back(*hash);
  info.operations += 1;
  return true;
}

// Delta ranges: for every device, what the peer lacks (`has`), up to the last
// signed head; for the peer itself at least a receipt. In device order, as the
// bundle stores them. Returns whether a receipt went in.
bool add_delta_ranges(session::Session& s, trust::Store& store, const VectorClock& has, const replica::Device* peer,
                      BundleInfo& info) {
  bool receipt = false;
  for (const auto& [device, head] : info.clock.entries()) {
    const std::uint64_t from = has.get(device);
    if (head <= from) {
      if (peer != nullptr && device == peer->id) receipt = add_receipt(s, store, *peer, info);
      continue;
    }
    const replica::Device& d = *s.devices.find(device);
    if (from < d.base_seq)
      throw Error(Errc::refused, "this database started from a snapshot and holds device " + device.to_string() +
                                     "'s operations only after " + std::to_string(d.base_seq) +
                                     "; the peer lacks earlier ones: send it a snapshot (ferry export --snapshot)");
    std::uint64_t last = head;
    if (device != s.self) {
      // Normally the head itself; lower only while later operations wait for another device's.
      const auto signed_head = store.signed_head(d.no, head);
      if (!signed_head || signed_head->first <= from) continue;
      last = signed_head->first;
    }
    info.ranges.push_back(SeqRange{device, from + 1, last});
    info.prerequisites.push_back(from == 0 ? Hash{} : from == d.base_seq ? d.base_hash : *s.log.hash(device, from));
    info.last_hashes.push_back(last == head ? d.head_hash : *s.log.hash(device, last));
    info.operations += last - from;
  }
  return receipt;
}

// The device a bundle is encrypted for, and its encryption key.
std::pair<DeviceId, PublicKey> recipient(session::Session& s, trust::Store& store, const std::string& who) {
  const replica::Device& d = s.devices.lookup(who);
  if (d.id == s.self) throw Error(Errc::invalid_argument, "cannot encrypt a bundle for this device itself");
  const auto identity = store.identity(d.id);
  if (!identity || identity->box == PublicKey{})
    throw Error(Errc::not_found, "the encryption key of device " + d.id.to_string() +
                                     " is not known here: import a bundle it exported first, or add its full key "
                                     "(`ferry trust DB add " + d.id.to_string() + " KEY`, KEY from `ferry status` on it)");
  if (store.trust_of(d.id) == Trust::removed)
    throw Error(Errc::refused, "device " + d.id.to_string() + " was removed from the trusted devices; not encrypting for it");
  return {d.id, identity->box};
}

}  // namespace

ExportSummary Engine::export_bundle(const std::string& path, const ExportOptions& options) {
  sql::Database& db = impl_->db;
  check_output(path, "bundle");
  identity::require_own_identity(db);
  sql::Transaction tx(db);
  session::Session s(db, impl_->self);
  s.seal();
  s.finish();
  std::vector<HeldRow> held = capture::Held::list(db, s.tables);  // Not in the bundle: said in the summary.

  const replica::Device* peer = nullptr;
  VectorClock has;  // What the peer is known to have.
  if (!options.peer.empty()) {
    if (auto id = Uuid::parse(options.peer); id && s.devices.find(*id) == nullptr) {
      peer = &s.devices.ensure(*id);  // A device never heard from: it gets everything.
    } else {
      peer = &s.devices.lookup(options.peer);
    }
    if (peer->id == impl_->self) throw Error(Errc::invalid_argument, "cannot export to this device itself");
    if (!options.all) has = stored_clock(db, "announced_clock", peer->no);
  } else if (!options.all && !options.since && !options.snapshot) {
    throw Error(Errc::invalid_argument, "say who the bundle is for (--peer) or export everything (--all)");
  }
  if (options.since) has = *options.since;

  trust::Store store(db);
  const trust::KeyPair& keys = impl_->key_pair();
  std::optional<std::pair<DeviceId, PublicKey>> encrypt;
  if (!options.encrypt_for.empty()) encrypt = recipient(s, store, options.encrypt_for);

  BundleInfo info;
  info.format_major = bundle::kFormatMajor;
  info.format_minor = bundle::kFormatMinor;
  info.bundle_id = util::make_uuid_v7(util::now_ms());
  info.exporter = impl_->self;
  info.exporter_name = impl_->name;
  info.created_ms = util::now_ms();
  info.clock = s.devices.clock();
  info.signer_key = keys.identity().sign;
  info.exporter_box_key = keys.identity().box;
  exchange::OperationKeys snapshot;
  bool receipt = false;
  if (options.snapshot) {
    snapshot = exchange::add_snapshot(s, info);
  } else {
    receipt = add_delta_ranges(s, store, has, options.all ? nullptr : peer, info);
  }
  sign_ranges(s, store, keys, info);
  info.tables = known_tables(s.tables, db);

  // An encrypted bundle is written plain into a private folder first.
  std::optional<util::PrivateFolder> folder;
  if (encrypt) folder.emplace("for the bundle to encrypt");
  const std::string plain = encrypt ? folder->file("bundle") : path;
  bundle::Writer writer(plain, info, keys);
  std::size_t written = 0;
  auto wrote_one = [&] {
    if (options.progress && (++written % 4096 == 0 || written == info.operations)) options.progress(written, info.operations);
  };
  for (const auto& [origin, seq] : snapshot) {
    const auto body = s.log.body(origin, seq);
    if (!body)
      throw Error(Errc::corrupt, db.path() + ": the merge state refers to operation " + std::to_string(seq) +
                                     " of device " + origin.to_string() + ", which the log does not hold (`ferry verify` "
                                     "says more). No bundle was written.");
    writer.add(origin, seq, log::hash_of(*body), *body);
    wrote_one();
  }
  auto ops = db.prepare("SELECT id, body FROM ferry_log WHERE id BETWEEN ? AND ? ORDER BY id");
  for (std::size_t i = 0; i < (info.snapshot ? 0 : info.ranges.size()); ++i) {
    const SeqRange& r = info.ranges[i];
    const std::int64_t no = s.devices.find(r.device)->no;
    ops.bind(1, log::log_id(no, r.first)).bind(2, log::log_id(no, r.last));
    std::uint64_t expect = r.first;
    Hash prev = info.prerequisites[i];
    while (ops.step()) {
      const auto body = ops.blob_view(1);
      const auto seq = static_cast<std::uint64_t>(ops.integer(0) - log::log_id(no, 0));
      // A damaged log is caught here, by name, rather than by whoever imports the bundle.
      if (seq != expect || !log::links_to(body, prev))
        throw Error(Errc::corrupt, db.path() + ": operation " + std::to_string(expect) + " of device " +
                                       r.device.to_string() + " in this database's log is missing or does not continue "
                                       "its chain (the log was changed behind ferry's back; `ferry verify` says more). "
                                       "No bundle was written.");
      prev = log::hash_of(body);
      writer.add(r.device, seq, prev, body);
      ++expect;
      wrote_one();
    }
    ops.reset();
    if (expect != r.last + 1)
      throw Error(Errc::corrupt, db.path() + ": operation " + std::to_string(expect) + " of device " +
                                     r.device.to_string() + " is missing from this database's log (`ferry verify` says "
                                     "more). No bundle was written.");
  }
  info = writer.finish();
  // Committed with the seal: what may have left cannot be made again (reidentify). A
  // snapshot's range is a chain head its receiver then holds the chain up to.
  std::uint64_t own = 0;
  for (const SeqRange& r : info.ranges)
    if (r.device == impl_->self) own = std::max(own, r.last);
  identity::note_sent(db, own);
  // Read back what reached the disk -- every byte of every operation against the
  // content hash; the operations came from this verified log -- while the seal commits.
  auto read_back = std::async(std::launch::async, [&writer] {
    util::sync_path(writer.written(), "bundle");  // Here, so that publishing has little left to wait for.
    bundle::Reader check(writer.written());
    check.check_content();
  });
  // The bundle appears only once every operation it carries is kept here. Were it
  // published first, a crash before this commit would roll the seal back, and sealing
  // the same changes again would make different operations under the same numbers:
  // a fork, to everyone who imported the bundle.
  tx.commit();
  try {
    read_back.get();
  } catch (const Error& e) {
    throw Error(Errc::database, path + ": the bundle failed its read-back from the disk, so it was not written (" +
                                    e.what() + ")");
  }
  writer.publish();
  if (encrypt) {
    trust::seal_envelope(plain, path, encrypt->first, encrypt->second);
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) info.bytes = static_cast<std::uint64_t>(st.st_size);
  }
  if (peer != nullptr) {
    try {
      sql::Transaction note(db);
      store_clock(db, "exported_clock", "exported_ms", peer->no, info.clock);
      note.commit();
    } catch (const Error& e) {
      throw Error(e.code(), path + ": the bundle is complete and verified, but recording the export to " +
                                peer->id.to_string() + " failed, so `ferry status` will not show it: " + e.what());
    }
  }

  ExportSummary summary;
  summary.path = path;
  summary.bundle_id = info.bundle_id;
  summary.operations = info.operations - (receipt ? 1 : 0);
  for (const SeqRange& r : info.ranges)
    if (!receipt || r.device != peer->id) summary.ranges.push_back(r);
  summary.receipt = receipt;
  summary.carried = info.operations;
  summary.bytes = info.bytes;
  if (encrypt) summary.encrypted_for = encrypt->first;
  summary.held = std::move(held);
  return summary;
}

}  // namespace ferry
