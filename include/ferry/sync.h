#pragma once
// ferry sync: the whole exchange through a folder that several devices read
// and write in turn -- a USB stick, a shared drive, a mail client's attachment
// folder (bundle_format/README.md §18). One run, in three steps:
//
//   1. import every bundle in the folder this device can use and has not
//      imported (by bundle id and content hash, not by file name): snapshots
//      first, then oldest first, so that nothing needs a second pass (what
//      waits for another bundle waits as pending, and applies when it comes);
//   2. write, for each peer this device has exchanged bundles with, one bundle
//      holding what that peer lacks and may read, named for it and the day
//      ("to-clinic-7-2026-12-06.ferry"), cut into parts over the size limit;
//      none when the peer would learn nothing new from it. A device that
//      knows no peer yet leaves its introduction instead
//      ("from-<name>-<day>.ferry": its clock, no operation), so that the
//      others learn it and write for it;
//   3. delete the bundles no device needs any more, and only those: this
//      device's own bundles for a peer that a newer one for it replaces (it
//      carries this device's newer clock, and every operation of the old one
//      the peer has not acknowledged); bundles for this device that it
//      imported; its introduction, once it writes for a peer. The newest
//      bundle for a peer stays until the peer has read it: it deletes it.
//      Nothing else is ever deleted: another device's bundle for a third is
//      left to those two.
//
// Safe on FAT32 and exFAT (no links, no permissions, names compared without
// case, files under 4 GiB) and when the medium is pulled mid-run: files
// appear whole under their names or not at all (export's temporary files,
// never named *.ferry, are removed by the next run), each import is one
// transaction, and the next run finishes or redoes what was left.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/engine.h"

// Exported from libferry.so; what src/ declares is hidden (src/CMakeLists.txt).
#pragma GCC visibility push(default)
namespace ferry {

struct SyncOptions {
  // The largest file written (export_bundles): FAT32's limit by default.
  std::uint64_t max_size = 4294967295u;
  // Optional: called before each import and each export with what it is
  // ("importing FILE", "writing FILE"); the Progress it returns reports on it.
  std::function<Progress(const std::string& step)> progress;
};

// What one run did with one file of the folder.
struct SyncFile {
  std::string file;  // Its name in the folder.
  enum class Outcome {
    imported,          // import: `import` says what it did.
    already_imported,  // import: the same bundle (id and content) was imported here before.
    same_as,           // import: another file of the folder holds the same bundle (`detail` names it).
    not_for_this_device,  // import: encrypted for another device (`detail`), or this device's own.
    refused,           // import or export: `error` and `detail` say why; the file is left as it is.
    not_tried,         // import or export: a database error stopped the run before it.
    written,           // export: `exported` says what it holds and for whom (`peer`).
    deleted,           // `detail` says why no device needs it.
  } outcome = Outcome::refused;
  std::string detail;
  std::optional<Errc> error;
  std::string peer;  // written: the device it is for (id).
  std::optional<ImportSummary> import;
  std::optional<ExportSummary> exported;
};

struct SyncReport {
  std::string folder;
  std::vector<SyncFile> imports;  // Every bundle found, in the order they were looked at.
  std::vector<SyncFile> exports;  // Every file written, and refusals of a peer's bundle.
  std::vector<std::string> up_to_date;  // Peers (by name, or id) with nothing new to send.
  std::vector<SyncFile> deletions;
  // The first refusal's error, if any; Errc::database or internal also
  // stopped the run there (later files `not_tried`, nothing deleted).
  std::optional<Errc> first_error;

  // The file of that first refusal (its `detail` says why), or null.
  const SyncFile* first_refusal() const;
  // Whether the run stopped at it (Errc::database or internal).
  bool stopped() const;
};

// Runs the three steps above on `folder` for `engine`'s database. Throws
// Error(not_found) for a folder that does not exist, Error(invalid_argument)
// for a path that is not a folder; every other failure is in the report.
SyncReport sync_folder(Engine& engine, const std::string& folder, const SyncOptions& options = {});

// The file name stem sync gives a bundle for `peer_name` (or, without a usable
// name, the device id's last 8 hex digits) written on `day` (YYYY-MM-DD):
// "to-<name>-<day>", with the characters FAT forbids and spaces made '-'.
std::string sync_file_stem(const std::string& peer_name, const DeviceId& peer, const std::string& day);

}  // namespace ferry
#pragma GCC visibility pop
