// sync_folder (ferry/sync.h): look at every bundle of the folder, then its
// three steps -- import, write, delete -- through the Engine's public calls.
#include "ferry/sync.h"

#include <time.h>

#include <algorithm>
#include <map>
#include <limits>
#include <tuple>

#include "carrier/folder.h"
#include "util/files.h"

namespace ferry {
namespace {

// A file of the folder, as inspect_bundle read it.
struct Found {
  std::string name;
  std::optional<BundleInfo> info;      // A plain bundle whose metadata reads.
  std::optional<DeviceId> sealed_for;  // An encrypted one: for whom.
  std::optional<Error> damage;         // Neither.
  bool imported = false;               // By this run.
};

std::string today() {
  const time_t now = ::time(nullptr);
  struct tm local;
  ::localtime_r(&now, &local);
  char day[16];
  ::strftime(day, sizeof day, "%Y-%m-%d", &local);
  return day;
}

std::string id_text(const DeviceId& id) { return id.to_string(); }
// A device id's last 8 hex digits, its random part, as people see it elsewhere.
std::string id_end(const DeviceId& id) {
  const std::string s = id.to_string();
  return s.substr(s.size() - 8);
}

// Whether the union of `spans` covers first..last.
bool covers(std::vector<std::pair<std::uint64_t, std::uint64_t>> spans, std::uint64_t first, std::uint64_t last) {
  std::sort(spans.begin(), spans.end());
  std::uint64_t next = first;  // The first operation not yet covered.
  for (const auto& [a, b] : spans) {
    if (a > next) break;
    next = std::max(next, b + 1);
    if (next > last) return true;
  }
  return next > last;
}

// Whether `peer`, as announced here, holds every operation of `ranges`, or
// they are in `newer` (bundles for it written after).
bool no_longer_needed(const std::vector<SeqRange>& ranges, const std::optional<VectorClock>& announced,
                      const std::vector<SeqRange>& newer) {
  for (const SeqRange& r : ranges) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    if (announced && announced->get(r.device) > 0) spans.emplace_back(1, announced->get(r.device));
    for (const SeqRange& n : newer)
      if (n.device == r.device) spans.emplace_back(n.first, n.last);
    if (!covers(std::move(spans), r.first, r.last)) return false;
  }
  return true;
}

class Run {
 public:
  Run(Engine& e, const std::string& folder, const SyncOptions& o)
      : e_(e), folder_(folder), o_(o), self_(e.device_id()) {
    report_.folder = folder_.path();
  }

  SyncReport go() {
    util::temp_template(folder_.path(), ".ferry-export-");  // Removes what a run pulled out mid-export left.
    for (const std::string& name : folder_.bundles()) found_.push_back(look(name));
    if (import_all() && write_all()) delete_unneeded();
    return std::move(report_);
  }

 private:
  Found look(const std::string& name) {
    Found f;
    f.name = name;
    try {
      BundleInfo info = inspect_bundle(folder_.file(name));
      if (info.encrypted_for) f.sealed_for = info.encrypted_for;
      else f.info = std::move(info);
    } catch (const Error& e) {
      f.damage = e;
    }
    return f;
  }

  // Records a failure; false when it stops the run (a database error).
  bool failed(SyncFile file, const Error& e, std::vector<SyncFile>& into) {
    file.outcome = SyncFile::Outcome::refused;
    file.error = e.code();
    file.detail = e.what();
    into.push_back(std::move(file));
    if (!report_.first_error) report_.first_error = e.code();
    return e.code() != Errc::database && e.code() != Errc::internal;
  }

  Progress progress(const std::string& step) { return o_.progress ? o_.progress(step) : Progress{}; }

  // Step 1.
  bool import_all() {
    const DeviceId& self = self_;
    std::vector<Found*> todo;
    std::map<OperationId, std::string> ids;  // Bundle id -> the file that holds it, in name order.
    for (Found& f : found_) {
      SyncFile r;
      r.file = f.name;
      if (f.damage) {
        failed(r, Error(f.damage->code(), std::string(f.damage->what()) + " -- left in the folder: if it is "
                                          "another device's, ask it for a new copy and then delete this one"), report_.imports);
        continue;
      }
      if (f.sealed_for && *f.sealed_for != self) {
        r.outcome = SyncFile::Outcome::not_for_this_device;
        r.detail = "encrypted for device " + id_text(*f.sealed_for);
      } else if (f.info && mine(*f.info)) {
        // One in this device's name that it did not write comes from a copy of this database (a
        // restored backup): imported, so that the import finds out (identity/identity.h).
        r.outcome = SyncFile::Outcome::not_for_this_device;
        r.detail = "written by this device";
      } else if (f.info && ids.count(f.info->bundle_id)) {
        r.outcome = SyncFile::Outcome::same_as;
        r.detail = ids[f.info->bundle_id];
      } else if (f.info && e_.imported(f.info->bundle_id, f.info->content_hash)) {
        r.outcome = SyncFile::Outcome::already_imported;
      } else {
        if (f.info) ids.emplace(f.info->bundle_id, f.name);
        todo.push_back(&f);
        continue;
      }
      report_.imports.push_back(std::move(r));
    }
    // Snapshots first (they start a device), then oldest first; an encrypted one, unread yet, last.
    auto key = [](const Found* f) {
      return f->info ? std::make_tuple(!f->info->snapshot, f->info->created_ms, f->name)
                     : std::make_tuple(true, std::numeric_limits<std::int64_t>::max(), f->name);
    };
    std::stable_sort(todo.begin(), todo.end(), [&](const Found* a, const Found* b) { return key(a) < key(b); });
    for (std::size_t i = 0; i < todo.size(); ++i) {
      SyncFile r;
      r.file = todo[i]->name;
      try {
        r.import = e_.import_bundle(folder_.file(r.file), progress("importing " + r.file));
        r.outcome = SyncFile::Outcome::imported;
        todo[i]->imported = true;
        report_.imports.push_back(std::move(r));
      } catch (const Error& e) {
        if (!failed(r, e, report_.imports)) {
          for (std::size_t j = i + 1; j < todo.size(); ++j) not_tried(todo[j]->name, report_.imports);
          return false;
        }
      }
    }
    return true;
  }

  void not_tried(const std::string& name, std::vector<SyncFile>& into) {
    SyncFile r;
    r.file = name;
    r.outcome = SyncFile::Outcome::not_tried;
    into.push_back(std::move(r));
  }

  // Written by this database (not by a copy of it: a restored backup, which the import finds out).
  bool mine(const BundleInfo& info) const { return info.exporter == self_ && e_.wrote(info.bundle_id); }

  // This device's bundles in the folder for `peer`.
  std::vector<const Found*> ours_for(const DeviceId& peer) const {
    std::vector<const Found*> out;
    for (const Found& f : found_)
      if (f.info && mine(*f.info) && f.info->addressee == peer) out.push_back(&f);
    return out;
  }

  // Step 2.
  bool write_all() {
    const std::vector<PeerInfo> peers = e_.peers();
    std::map<std::string, int> names;  // How many peers share each name: those get their id too.
    for (const PeerInfo& p : peers) ++names[carrier::fat_safe(p.name)];
    const std::string day = today();
    for (const PeerInfo& p : peers) {
      if (p.is_self || p.trust == Trust::removed || (p.announced_ms == 0 && p.exported_ms == 0)) continue;
      ++correspondents_;
      ExportOptions options;
      options.peer = p.id.to_string();
      options.only_news = true;
      options.whole_clock = true;  // The peer may write to this device again before it reads this.
      options.max_size = o_.max_size;
      const Found* newest = nullptr;
      for (const Found* f : ours_for(p.id))
        if (newest == nullptr || f->info->created_ms > newest->info->created_ms) newest = f;
      if (newest) options.on_its_way = newest->info->bundle_id;
      const std::string name = names[carrier::fat_safe(p.name)] > 1 ? p.name + "-" + id_end(p.id) : p.name;
      const std::string stem = folder_.free_stem(sync_file_stem(name, p.id, day));
      options.progress = progress("writing " + stem + ".ferry");
      try {
        const std::vector<ExportSummary> parts = e_.export_bundles(folder_.file(stem + ".ferry"), options);
        if (!parts.front().written) {
          report_.up_to_date.push_back(p.name.empty() ? p.id.to_string() : p.name);
          continue;
        }
        for (const ExportSummary& s : parts) {
          SyncFile w;
          w.file = s.path.substr(folder_.path().size() + 1);
          w.outcome = SyncFile::Outcome::written;
          w.peer = p.id.to_string();
          w.exported = s;
          written_[p.id].insert(written_[p.id].end(), s.ranges.begin(), s.ranges.end());
          report_.exports.push_back(std::move(w));
        }
      } catch (const Error& e) {
        SyncFile w;
        w.file = stem + ".ferry";
        w.peer = p.id.to_string();
        if (!failed(w, e, report_.exports)) return false;
      }
    }
    return introduce();
  }

  // A device that knows no peer yet, and has nothing of its own in the
  // folder, leaves its introduction: a bundle of its clock alone, no
  // operation, for whoever reads the folder. Whoever imports it knows the
  // device from then on, and writes for it.
  bool introduce() {
    if (correspondents_ > 0 || std::any_of(found_.begin(), found_.end(), [&](const Found& f) { return f.info && mine(*f.info); }))
      return true;
    const std::string name = carrier::fat_safe(e_.device_name());
    const std::string stem = folder_.free_stem("from-" + (name.empty() ? id_end(e_.device_id()) : name) + "-" + today());
    ExportOptions options;
    options.since = e_.clock();
    SyncFile w;
    w.file = stem + ".ferry";
    try {
      w.exported = e_.export_bundle(folder_.file(w.file), options);
      w.outcome = SyncFile::Outcome::written;
      report_.exports.push_back(std::move(w));
    } catch (const Error& e) {
      return failed(w, e, report_.exports);
    }
    return true;
  }

  // This device's introduction (introduce()), once it writes for a peer.
  bool introduction(const BundleInfo& info) const {
    return mine(info) && !info.addressee && info.operations == 0 && !info.snapshot;
  }

  // Step 3.
  void delete_unneeded() {
    const DeviceId& self = self_;
    std::map<DeviceId, std::optional<VectorClock>> announced;
    for (const PeerInfo& p : e_.peers()) announced[p.id] = p.announced;
    for (const Found& f : found_) {
      std::string why;
      if (f.sealed_for && *f.sealed_for == self && f.imported) {
        why = "it was for this device, which imported it";
      } else if (f.info && introduction(*f.info)) {
        if (!std::any_of(found_.begin(), found_.end(), [&](const Found& o) {
              return o.info && mine(*o.info) && o.info->addressee;
            }) && written_.empty())
          continue;
        why = "this device's introduction: its bundles for peers name it now";
      } else if (!f.info || !f.info->addressee) {
        continue;  // Damaged, for another device and unread, or for whoever starts from it: never deleted.
      } else if (mine(*f.info)) {
        const DeviceId& peer = *f.info->addressee;
        const auto now = written_.find(peer);
        std::vector<SeqRange> newer = now != written_.end() ? now->second : std::vector<SeqRange>{};
        bool superseded = now != written_.end();
        for (const Found* o : ours_for(peer))
          if (o->info->created_ms > f.info->created_ms) {
            newer.insert(newer.end(), o->info->ranges.begin(), o->info->ranges.end());
            superseded = true;
          }
        // The newest for the peer stays until the peer has read it (and deletes it): it
        // carries this device's clock, which the peer needs even when it holds every operation.
        if (!superseded || !no_longer_needed(f.info->ranges, announced[peer], newer)) continue;
        why = "a newer bundle for the same device carries this device's clock, and what the device lacks of this "
              "one (it has acknowledged the rest)";
      } else if (*f.info->addressee == self) {
        if (!f.imported && !e_.imported(f.info->bundle_id, f.info->content_hash)) continue;
        why = "it was for this device, which imported it";
      } else {
        // Another device's bundle for a third: that one deletes it once imported, or its writer once
        // acknowledged. The third may hold every operation in it and still need the writer's clock in it.
        continue;
      }
      SyncFile d;
      d.file = f.name;
      try {
        if (!folder_.remove(f.name)) continue;  // Another device removed it first.
      } catch (const Error& e) {
        failed(d, e, report_.deletions);
        continue;
      }
      d.outcome = SyncFile::Outcome::deleted;
      d.detail = why;
      report_.deletions.push_back(std::move(d));
    }
  }

  Engine& e_;
  carrier::Folder folder_;
  const SyncOptions& o_;
  SyncReport report_;
  std::vector<Found> found_;
  const DeviceId self_;
  std::map<DeviceId, std::vector<SeqRange>> written_;  // By peer: the ranges of the bundles this run wrote for it.
  std::size_t correspondents_ = 0;  // Peers written for, or found up to date.
};

}  // namespace

SyncReport sync_folder(Engine& engine, const std::string& folder, const SyncOptions& options) {
  return Run(engine, folder, options).go();
}

const SyncFile* SyncReport::first_refusal() const {
  for (const std::vector<SyncFile>* files : {&imports, &exports, &deletions})  // The order of the steps.
    for (const SyncFile& f : *files)
      if (f.error) return &f;
  return nullptr;
}

bool SyncReport::stopped() const { return first_error == Errc::database || first_error == Errc::internal; }

std::string sync_file_stem(const std::string& peer_name, const DeviceId& peer, const std::string& day) {
  std::string name = carrier::fat_safe(peer_name);
  if (name.empty()) name = id_end(peer);
  return "to-" + name + "-" + day;
}

}  // namespace ferry
