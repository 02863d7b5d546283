/* Two devices sync through a bundle in memory, with ferry found by pkg-config. */
#include <ferry/ferry.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  char a_path[4096], b_path[4096];
  ferry_db *a = NULL, *b = NULL;
  ferry_export_options all;
  ferry_import_summary s;
  void* data = NULL;
  size_t size = 0;
  (void)argc;
  snprintf(a_path, sizeof a_path, "%s/a.db", argv[1]);
  snprintf(b_path, sizeof b_path, "%s/b.db", argv[1]);
  memset(&all, 0, sizeof all);
  all.all = 1;
  if (ferry_open(a_path, &a) != FERRY_OK || ferry_open(b_path, &b) != FERRY_OK ||
      ferry_export_to_memory(a, &all, &data, &size, NULL) != FERRY_OK ||
      ferry_import_from_memory(b, data, size, NULL, NULL, &s) != FERRY_OK) {
    fprintf(stderr, "C consumer: %s%s\n", ferry_errmsg(a), ferry_errmsg(b));
    return 1;
  }
  ferry_free(data);
  printf("C consumer: %zu duplicates\n", s.duplicates);
  ferry_close(a);
  ferry_close(b);
  return s.duplicates == 1 ? 0 : 1;
}
