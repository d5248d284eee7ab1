/* fuzz_kube_watch.c — the watch stream path of the client (controller/kube/watch.c, client.c):
 * bytes are fed to lh_kube_linesplit_feed in pieces whose sizes come from the input, every line
 * goes through lh_kube_watch_parse and lh_kube_watch_parse_raw (which must accept every event
 * the tree parse accepts, with the same type and resourceVersion, unless that resourceVersion
 * does not fit its buffer), and the whole input and each line through lh_kube_status_parse. */
#include "tests/fuzz/fuzz.h"
#include "kube/client.h"
#include "kube/watch.h"

#include <stdlib.h>
#include <string.h>

static void check_status(const lh_kube_status *st) {
  if (!memchr(st->status, 0, sizeof(st->status)) || !memchr(st->reason, 0, sizeof(st->reason)) ||
      !memchr(st->message, 0, sizeof(st->message)))
    abort(); /* contract: always-filled, NUL-terminated fields */
}

static int on_line(const char *line, size_t len, void *ud) {
  size_t *count = ud;
  char *cp = fuzz_dup((const uint8_t *)line, len);
  if (!cp) return 0;
  lh_kube_watch_event ev;
  json_t *root = NULL;
  int tree = lh_kube_watch_parse(cp, len, &ev, &root);
  lh_watch_type type = ev.type;
  char rv_tree[128] = "";
  int long_rv = 0;
  if (tree == 0) {
    if (!root || !ev.object) abort();
    (void)lh_kube_watch_type_name(ev.type);
    if (ev.rv) long_rv = snprintf(rv_tree, sizeof(rv_tree), "%s", ev.rv) >= (int)sizeof(rv_tree);
  }
  json_decref(root);
  char rvbuf[128];
  lh_kube_watch_event rev;
  json_t *rroot = NULL;
  int raw = lh_kube_watch_parse_raw(cp, len, &rev, &rroot, rvbuf, sizeof(rvbuf));
  if (tree == 0 && !long_rv) {
    if (raw != 0 || rev.type != type || strcmp(rev.rv ? rev.rv : "", rv_tree) != 0) abort();
    if ((rev.type == LH_WATCH_ERROR) != (rroot != NULL)) abort();
  }
  if (raw == 0 && rev.raw_len > len) abort();
  json_decref(rroot);
  lh_kube_status st;
  lh_kube_status_parse(cp, len, 500, &st);
  check_status(&st);
  free(cp);
  return ++*count > 4096; /* stop on absurd line counts (tests the stop path too) */
}

int fuzz_kube_watch_one(const uint8_t *data, size_t size) {
  char *buf = fuzz_dup(data, size);
  if (!buf) return 0;
  lh_kube_status st;
  static const int CODES[] = {0, 200, 404, 409, 410, 500, 999, -1};
  lh_kube_status_parse(buf, size, CODES[size % 8], &st);
  check_status(&st);
  (void)lh_kube_reason_for_code((int)size - 100);

  lh_kube_linesplit ls;
  lh_kube_linesplit_init(&ls, 1 + (size ? data[0] : 0) * 16u);
  size_t off = 0, count = 0, step = 1;
  while (off < size) {
    step = step * 7 % 61 + 1; /* uneven pieces: line joins across feeds */
    size_t n = size - off < step ? size - off : step;
    int rc = lh_kube_linesplit_feed(&ls, buf + off, n, on_line, &count);
    if (rc) break;
    off += n;
  }
  lh_kube_linesplit_free(&ls);
  free(buf);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_kube_watch_one(data, size); }
#endif
