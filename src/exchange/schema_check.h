#pragma once
// Import: refuses, before it is applied, an operation that needs a table or
// column this database lacks, naming what to create. Remembers what it has
// checked, so the cost per operation is a lookup.

#include <map>
#include <set>
#include <string>

#include "bundle/reader.h"
#include "capture/tables.h"
#include "ferry/operation.h"

namespace ferry::exchange {

class SchemaCheck {
 public:
  SchemaCheck(const bundle::Reader& reader, const capture::Registry& tables, const std::string& db_path)
      : reader_(reader), tables_(tables), db_path_(db_path) {}

  // Throws Error(refused) naming the table or column `op` needs and this database lacks.
  void check(const Operation& op);

 private:
  std::set<std::string> table(const std::string& name) const;

  const bundle::Reader& reader_;
  const capture::Registry& tables_;
  const std::string& db_path_;
  std::map<std::string, std::set<std::string>> checked_;  // Table -> its columns here.
};

}  // namespace ferry::exchange
