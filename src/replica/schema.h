#pragma once
// ferry's own tables inside the application database (all prefixed ferry_),
// created by init. Their layout is described in bundle_format/README.md,
// "The operations log inside an application database".

#include <cstdint>
#include <string>

#include "sql/database.h"

namespace ferry::replica {

// 2: ferry_log keyed by (device number, seq) with no hash column; merge state of
//    integer keys in ferry_rows_<n>. Databases of version 1 (a pre-release) are refused.
// 3: device keys and the trust store. 4: the causal index (ferry_deps, log/causal_index.h).
// 5: ferry_moved, the devices whose heads moved since this device's newest
//    operation, so that the next one finds what it follows without a seek per device.
// 6: ferry_devices_heads, an index covering what replica::Devices loads, so
//    that a hub reads its thousands of devices from half the pages, in id order.
// 7: ferry_devices_list in its place, without the hashes (read per device
//    when needed): a fifth of the table's pages, half of the index before;
//    devices read as a bundle names them, and base clocks naming devices by id.
// 8: ferry_grant_log, the fleet's grants as they were made (fleet/fleet.h),
//    so that an older ferry, which would not check them, refuses the database.
// 9: scopes: ferry_chain_names, ferry_lamports, ferry_tables.scope.
// 10: ferry_imported and ferry_written, the bundles imported and written, for ferry sync.
constexpr int kLocalSchemaVersion = 10;
// The oldest version this one upgrades in place (log/upgrade.h); older ones are refused.
constexpr int kOldestUpgradableVersion = 3;

// Creates every ferry_ table, index and guard trigger; harmless when they exist.
void create_schema(sql::Database& db);
// True when init has prepared this database.
bool has_schema(sql::Database& db);
// The database's local format: kLocalSchemaVersion, or one from
// kOldestUpgradableVersion on that log/upgrade.h brings up to date. Refuses
// (Error(refused)) a database whose ferry tables this version cannot read.
int check_format(sql::Database& db);
// Sets WAL and synchronous=FULL on ferry's connection (the durability ferry
// promises), and sizes its page cache.
void configure_connection(sql::Database& db);
// Sizes the page cache to the database, between 8 and 32 MiB. What a cache
// saves is re-reading pages that already exist; the pages an engine call creates
// (log, merge state, a fresh replica's rows) are written once. Beyond the
// database's size, a cache only costs memory, and fresh memory is not free: a
// page fault per 4 KiB, about 12 us each on the virtual machines measured.
void size_page_cache(sql::Database& db);

}  // namespace ferry::replica
