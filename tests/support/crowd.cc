#include "support/crowd.h"

#include <algorithm>
#include <vector>

#include "bundle/format.h"
#include "bundle/writer.h"
#include "log/codec.h"
#include "trust/keys.h"
#include "util/uuid.h"

namespace test {

void write_crowd_bundle(const std::string& path, const Crowd& crowd) {
  using namespace ferry;
  struct Member {
    DeviceId id;
    trust::KeyPair keys;
    std::string body;
    Hash hash;
  };
  std::vector<Member> members;
  const std::int64_t now = 1'790'000'000'000;
  for (std::size_t i = 0; i < crowd.devices; ++i) {
    Member m{util::make_uuid_v7(now + static_cast<std::int64_t>(i)), trust::KeyPair::generate(), {}, {}};
    Operation op;
    op.origin = m.id;
    op.id = util::make_operation_id(now, m.id, 1);
    op.seq = 1;
    op.lamport = crowd.lamport;
    op.clock.set(m.id, 1);
    op.table = "items";
    op.key = {Value::integer(static_cast<std::int64_t>(i + 1))};
    op.columns = {{"id", Value::integer(static_cast<std::int64_t>(i + 1))}, {"name", Value::text("n" + std::to_string(i + 1))}};
    m.body = log::encode(op);
    m.hash = log::hash_of(m.body);
    members.push_back(std::move(m));
  }
  const Member& exporter = members.front();
  BundleInfo info;
  info.format_major = bundle::kFormatMajor;
  info.format_minor = 0;  // 4.0: no reference.
  info.bundle_id = util::make_uuid_v7(now);
  info.exporter = exporter.id;
  info.exporter_name = "crowd";
  info.created_ms = now;
  info.signer_key = exporter.keys.identity().sign;
  info.exporter_box_key = exporter.keys.identity().box;
  std::vector<const Member*> sorted;
  for (const auto& m : members) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(), [](const Member* a, const Member* b) { return a->id < b->id; });
  for (const Member* m : sorted) {
    info.clock.set(m->id, 1);
    info.ranges.push_back(SeqRange{m->id, 1, 1});
    info.prerequisites.push_back(Hash{});
    info.last_hashes.push_back(m->hash);
    info.origin_keys.push_back(m->keys.identity().sign);
    info.head_signatures.push_back(m->keys.sign(bundle::head_message(m->id, 1, m->hash)));
  }
  info.tables.push_back(TableInfo{"items", {"id", "name"}, {"id"}});
  info.operations = members.size();
  bundle::Writer writer(path, info, exporter.keys);
  for (const Member* m : sorted) writer.add(m->id, 1, m->hash, m->body);
  (void)writer.finish();
  writer.publish();
}

}  // namespace test
