// Wall clocks that are wrong (RELIABILITY.md TI-01): off by a day, by fifty
// years back or a hundred ahead, at either end of the int64 range, or jumping
// back between one change and the next. No merge rule reads wall time
// (bundle_format/README.md §8), so devices with such clocks end with the same
// rows and the same conflicts as devices with true ones, whether they trade
// bundles or sync a shared folder. Each scenario is played twice from the
// same databases (same identities and keys) with the same random choices:
// once with true clocks, once with each device's clock skewed (the seam
// util::set_clock_skew); both plays must converge and end alike. A time no
// date holds is shown as unknown ("").
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>

#include "ferry/json.h"
#include "ferry/sync.h"
#include "support/support.h"
#include "trust/keys.h"
#include "util/uuid.h"

using namespace ferry;

namespace {

const char* kSchema = "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT)";
constexpr std::int64_t kDay = 24LL * 3600 * 1000, kYear = 365 * kDay;
const std::int64_t kSkews[] = {-50 * kYear, -kDay, 0, kDay, 100 * kYear, std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max()};

// This process's clock skewed while it lives, and true again after.
class Skewed {
 public:
  explicit Skewed(std::int64_t ms) { util::set_clock_skew(ms); }
  ~Skewed() { util::set_clock_skew(0); }
  Skewed(const Skewed&) = delete;
  Skewed& operator=(const Skewed&) = delete;
};

// What a device ends with: its rows, and its conflicts without their local
// numbers and detection times (what a clock may change). On the way, what it
// shows a person of those times renders (at the ends of time too).
struct Outcome {
  std::string rows, conflicts;
  std::size_t far_off = 0;  // Operations whose id's time is a day or more from the true time.
};

Outcome outcome(Engine& e, const std::string& path) {
  (void)render::status(e.status()).dump();
  (void)render::conflicts(e.conflicts()).dump();
  for (const PeerInfo& p : e.peers()) (void)render::peer(p).dump();
  std::vector<std::string> conflicts;
  for (const ConflictInfo& c : e.conflicts()) {
    std::ostringstream line;
    line << c.kind << ' ' << c.table << ' ' << c.column << ' ' << c.winner.origin.to_string() << '/' << c.winner.seq
         << ' ' << c.loser.origin.to_string() << '/' << c.loser.seq << ' '
         << (c.winner_value ? c.winner_value->to_display() : "-") << ' '
         << (c.loser_value ? c.loser_value->to_display() : "-");
    for (const Value& k : c.key) line << ' ' << k.to_display();
    conflicts.push_back(line.str());
  }
  std::sort(conflicts.begin(), conflicts.end());
  Outcome out{test::dump(path, "items"), "", 0};
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  for (const Operation& op : e.log()) out.far_off += std::abs(op.id.unix_ms() - now) >= kDay;
  for (const std::string& c : conflicts) out.conflicts += c + "\n";
  return out;
}

// Plays scenario `seed` on copies (in `world`) of the three `pristine`
// databases; with `skewed`, each device's clock is off by one of kSkews, and
// jumps to another now and then. Returns each device's outcome.
std::vector<Outcome> play(const std::vector<std::string>& pristine, const std::string& world, std::uint64_t seed,
                              bool skewed) {
  std::filesystem::create_directories(world + "/folder");
  std::vector<std::string> paths;
  std::vector<Engine> devices;
  for (std::size_t d = 0; d < pristine.size(); ++d) {
    paths.push_back(world + "/d" + std::to_string(d) + ".db");
    std::filesystem::copy_file(pristine[d], paths.back());
    std::filesystem::copy_file(trust::key_path(pristine[d]), trust::key_path(paths.back()));
    devices.push_back(Engine::open(paths.back()));
  }
  std::mt19937_64 rng(seed);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  std::vector<std::int64_t> skew(devices.size());
  for (auto& s : skew) s = kSkews[pick(std::size(kSkews))];
  auto as = [&](std::size_t d) { return Skewed(skewed ? skew[d] : 0); };
  int mail = 0;
  auto send = [&](std::size_t from, std::size_t to) {
    const std::string file = world + "/mail-" + std::to_string(mail++) + ".ferry";
    ExportOptions everything;
    everything.all = true;
    {
      auto clock = as(from);
      (void)devices[from].export_bundle(file, everything);
    }
    auto clock = as(to);
    (void)devices[to].import_bundle(file);
  };
  for (int step = 0; step < 24; ++step) {
    const std::size_t d = pick(devices.size()), other = (d + 1 + pick(devices.size() - 1)) % devices.size();
    const std::size_t action = pick(10);
    const int id = 1 + static_cast<int>(pick(5));
    if (pick(6) == 0) skew[d] = kSkews[pick(std::size(kSkews))];  // Its clock jumps, back or ahead.
    auto clock = as(d);
    const std::string value = "'d" + std::to_string(d) + "-" + std::to_string(step) + "'";
    if (action < 2) test::exec(paths[d], "INSERT OR REPLACE INTO items VALUES(" + std::to_string(id) + ", " + value + ")");
    else if (action < 4) test::exec(paths[d], "UPDATE items SET name = " + value + " WHERE id = " + std::to_string(id));
    else if (action < 5) test::exec(paths[d], "DELETE FROM items WHERE id = " + std::to_string(id));
    else if (action < 8) send(d, other);
    else (void)sync_folder(devices[d], world + "/folder");
  }
  for (int round = 0; round < 2; ++round)  // Everyone hears from everyone.
    for (std::size_t from = 0; from < devices.size(); ++from)
      for (std::size_t to = 0; to < devices.size(); ++to)
        if (from != to) send(from, to);
  std::vector<Outcome> out;
  for (std::size_t d = 0; d < devices.size(); ++d) out.push_back(outcome(devices[d], paths[d]));
  return out;
}

}  // namespace

TEST_CASE("devices whose clocks are wrong by years, at the ends of time, or jump back end as with true clocks",
          "[merge][clock]") {
  const int scenarios = test::env_count("FERRY_SKEW_SCENARIOS", 30);
  const std::uint64_t base = std::random_device{}();
  int with_conflicts = 0;
  std::size_t far_off = 0;
  for (int i = 0; i < scenarios; ++i) {
    const std::uint64_t seed = base + static_cast<std::uint64_t>(i);
    INFO("scenario " << seed);
    test::TempDir dir(/*prefer_memory=*/true);
    std::vector<std::string> pristine;
    for (const char* name : {"a", "b", "c"}) {  // Identities made with a true clock.
      test::Replica r(dir, name, kSchema);
      pristine.push_back(r.path);
    }
    const std::vector<Outcome> truth = play(pristine, dir.file("true"), seed, false);
    const std::vector<Outcome> skewed = play(pristine, dir.file("skewed"), seed, true);
    for (std::size_t d = 0; d < truth.size(); ++d) {
      INFO("device " << d);
      REQUIRE(truth[d].rows == truth[0].rows);  // Converged,
      CHECK(skewed[d].rows == truth[d].rows);   // and alike,
      CHECK(skewed[d].conflicts == truth[d].conflicts);  // conflicts included.
      with_conflicts += !truth[d].conflicts.empty();
      CHECK(truth[d].far_off == 0);
      far_off += skewed[d].far_off;
    }
  }
  WARN(scenarios << " scenarios from seed " << base << ", " << with_conflicts << " devices with conflicts, "
                 << far_off << " operations stamped a day or more off, ended alike with true and skewed clocks");
  CHECK(with_conflicts > 0);
  CHECK(far_off > 0);  // The skew did reach what the devices recorded.
}

TEST_CASE("a time a wrong clock recorded is shown as unknown when no date holds it, never as a made-up one",
          "[clock]") {
  CHECK(render::iso_time(std::numeric_limits<std::int64_t>::max()).empty());
  CHECK(render::iso_time(std::numeric_limits<std::int64_t>::min()).empty());
  CHECK(render::iso_time(-kDay).empty());
  CHECK(render::iso_time(253402300799999) == "9999-12-31T23:59:59.999Z");
  CHECK(render::iso_time(253402300800000).empty());
  const std::int64_t hundred_years_on = 1764979200000 + 100 * kYear;
  CHECK(render::parse_iso_time(render::iso_time(hundred_years_on)) == hundred_years_on);
}
