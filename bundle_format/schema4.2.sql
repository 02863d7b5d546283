CREATE TABLE ferry_table_scopes(
  number INTEGER PRIMARY KEY,
  scope TEXT NOT NULL
) STRICT;
