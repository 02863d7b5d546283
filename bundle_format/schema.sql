CREATE TABLE ferry_bundle(
  format_major INTEGER NOT NULL,
  format_minor INTEGER NOT NULL,
  bundle_id BLOB NOT NULL,
  exporter BLOB NOT NULL,
  exporter_name TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  clock BLOB NOT NULL,
  operations INTEGER NOT NULL,
  content_hash BLOB NOT NULL,
  signer_key BLOB NOT NULL,
  box_key BLOB NOT NULL,
  signature BLOB NOT NULL
) STRICT;
CREATE TABLE ferry_ranges(
  origin BLOB NOT NULL PRIMARY KEY,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  prev_hash BLOB NOT NULL,
  last_hash BLOB NOT NULL,
  origin_key BLOB NOT NULL,
  head_signature BLOB NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE ferry_tables(
  name TEXT NOT NULL PRIMARY KEY,
  columns BLOB NOT NULL,
  key BLOB NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE ferry_ops(
  origin BLOB NOT NULL,
  seq INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY(origin, seq)
) STRICT, WITHOUT ROWID;
