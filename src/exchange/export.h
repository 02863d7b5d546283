#pragma once
// Export, steps 2 to 5, after the plan (exchange/export_plan.h):
//   2. write: every planned operation, read from the verified log and checked
//      against its chain, into the bundle file (plain, in a private folder
//      when it is to be encrypted or copied in), not yet visible under its name;
//   3. read back: every byte against the content hash, on a thread, while
//      the caller commits the seal -- the bundle appears only once every
//      operation it carries is kept here;
//   4. publish: the file under its name, encrypted if planned, or copied in
//      whole on a carrier's file system (util::on_carrier_filesystem);
//   5. note: what the peer was sent, for `ferry status`.

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bundle/writer.h"
#include "exchange/export_plan.h"
#include "util/files.h"

namespace ferry::exchange {

class BundleExport {
 public:
  // Step 2. REQUIRES: inside the export's transaction.
  BundleExport(session::Session& s, ExportPlan plan, const trust::KeyPair& keys, const std::string& path,
               const Progress& progress);
  // The greatest operation of this device's own chain the bundle carries (0: none).
  std::uint64_t own_head_carried() const;
  // The same for each of this device's chains of a scope the bundle carries: (chain, greatest).
  std::vector<std::pair<DeviceId, std::uint64_t>> own_scoped_heads_carried() const;
  const ExportPlan& plan() const { return plan_; }
  // The file's size (plain: before any encryption).
  std::uint64_t bytes() const { return plan_.info.bytes; }
  // Publishes under another name, before start_read_back(). REQUIRES: in the same folder.
  void retarget(const std::string& path);
  // Step 3: starts the read-back. Call before committing the seal.
  void start_read_back();
  // Step 4. Call after committing; throws if the read-back failed, and then nothing is published.
  void publish();
  // Step 5, in a transaction of its own: what the peer was sent, and the bundle as written (ferry_written).
  void note_exported(sql::Database& db, const replica::Devices& devices);
  ExportSummary summary(std::vector<HeldRow> held) const;

 private:
  ExportPlan plan_;
  std::string path_;
  std::optional<util::PrivateFolder> folder_;  // For the plain bundle to encrypt.
  std::string plain_;                          // Where the writer publishes: path_, or in folder_.
  std::unique_ptr<bundle::Writer> writer_;
  std::future<void> read_back_;
};

// Whether this database wrote the bundle of this id (BundleExport::note_exported).
bool wrote(sql::Database& db, const OperationId& bundle_id);

}  // namespace ferry::exchange
