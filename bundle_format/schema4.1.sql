CREATE TABLE ferry_addressee(
  device BLOB NOT NULL,
  reference BLOB
) STRICT;
