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
CREATE TABLE ferry_chains(
  number INTEGER PRIMARY KEY,
  device BLOB NOT NULL,
  scope TEXT NOT NULL
) STRICT;
CREATE TABLE ferry_ranges(
  chain INTEGER PRIMARY KEY,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  prev_hash BLOB NOT NULL,
  last_hash BLOB NOT NULL,
  origin_key BLOB NOT NULL,
  head_signature BLOB NOT NULL
) STRICT;
CREATE TABLE ferry_tables(
  number INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  columns BLOB NOT NULL,
  key BLOB NOT NULL
) STRICT;
CREATE TABLE ferry_segments(
  chain INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  count INTEGER NOT NULL,
  raw_size INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(chain, first_seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE ferry_deps(
  chain INTEGER NOT NULL,
  dep INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  dep_seq INTEGER NOT NULL,
  PRIMARY KEY(chain, dep, seq)
) STRICT, WITHOUT ROWID;
