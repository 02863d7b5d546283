// The application's own triggers: they fire for every write, ferry's imports
// included, and a trigger that writes a tracked table can stay out of ferry's
// writes by testing ferry_meta's 'applying' key (README, "Your own triggers").
#include <catch2/catch.hpp>

#include "support/support.h"

using namespace ferry;
using test::exchange;
using test::Replica;

namespace {

const char* kSchema = "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT, edits INTEGER NOT NULL DEFAULT 0);";

// Counts edits in a tracked table: a write of its own, which every device would otherwise
// repeat for every edit it imports, outside the log.
const char* kCountEdits =
    "CREATE TRIGGER count_edits AFTER UPDATE OF body ON notes "
    "WHEN NOT EXISTS (SELECT 1 FROM ferry_meta WHERE key='applying') "
    "BEGIN UPDATE notes SET edits = edits + 1 WHERE id = NEW.id; END";

// Keeps an untracked, derived table (a search index, say) in step, imports included.
const char* kIndexWords =
    "CREATE TABLE words(note INTEGER PRIMARY KEY, body TEXT); "
    "CREATE TRIGGER index_words AFTER INSERT ON notes BEGIN INSERT INTO words VALUES(NEW.id, NEW.body); END";

}  // namespace

TEST_CASE("a trigger that tests 'applying' writes a tracked table for local edits only, so devices converge",
          "[import][triggers]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql(kCountEdits);
  b.sql(kCountEdits);
  a.sql("INSERT INTO notes(id, body) VALUES(1, 'draft')");
  exchange(a, b, dir);
  a.sql("UPDATE notes SET body='second' WHERE id=1");
  b.sql("INSERT INTO notes(id, body) VALUES(2, 'b''s')");
  b.sql("UPDATE notes SET body='b''s, edited' WHERE id=2");
  exchange(a, b, dir);
  exchange(b, a, dir);
  CHECK(a.dump("notes") == b.dump("notes"));
  CHECK(test::count(a.path, "SELECT edits FROM notes WHERE id=1") == 1);
  CHECK(test::count(b.path, "SELECT edits FROM notes WHERE id=2") == 1);
  CHECK(a.engine.conflicts().empty());
  // The key lives only inside ferry's own transactions: no other connection ever sees it.
  CHECK(test::count(b.path, "SELECT count(*) FROM ferry_meta WHERE key='applying'") == 0);
}

TEST_CASE("an application trigger on a tracked table also fires for the rows an import writes", "[import][triggers]") {
  test::TempDir dir;
  Replica a(dir, "a", kSchema), b(dir, "b", kSchema);
  a.sql(kIndexWords);
  b.sql(kIndexWords);
  a.sql("INSERT INTO notes(id, body) VALUES(1, 'ship log')");
  exchange(a, b, dir);
  CHECK(test::dump(b.path, "words") == test::dump(a.path, "words"));
  CHECK(test::count(b.path, "SELECT count(*) FROM words") == 1);
}
