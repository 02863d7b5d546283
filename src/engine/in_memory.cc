// Engine::export_to_memory and import_from_memory: a bundle as bytes, through a
// private file (util::PrivateFolder) that is removed when the call returns.
#include <fstream>
#include <iterator>

#include "engine/engine_impl.h"
#include "util/files.h"

namespace ferry {

std::string Engine::export_to_memory(const ExportOptions& options, ExportSummary* summary) {
  const util::PrivateFolder scratch("for a bundle in memory");
  const std::string file = scratch.file("bundle.ferry");
  const ExportSummary s = export_bundle(file, options);
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw Error(Errc::database, file + ": cannot read back the bundle written");
  if (summary != nullptr) *summary = s;
  return bytes;
}

ImportSummary Engine::import_from_memory(std::string_view bundle, const Progress& progress) {
  const util::PrivateFolder scratch("for a bundle in memory");
  const std::string file = scratch.file("bundle.ferry");
  {
    std::ofstream out(file, std::ios::binary);
    out.write(bundle.data(), static_cast<std::streamsize>(bundle.size()));
    if (!out) throw Error(Errc::database, file + ": cannot write the bundle to a private file");
  }
  return import_bundle(file, progress);
}

}  // namespace ferry
