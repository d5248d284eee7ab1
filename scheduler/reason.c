/* reason.c — human-readable quantities for pending reasons: cpu in cores ("64", "0.5"), memory
 * with binary suffixes ("64Gi", "1536Mi"), GPUs as counts. */
#include <inttypes.h>
#include <stdio.h>

#include "scheduler/session.h"

const char *lh_res_name(int d) {
  return d == LH_RES_CPU ? "cpu" : d == LH_RES_MEM ? "memory" : "nvidia.com/gpu";
}

int lh_fmt_qty(char *buf, size_t n, int d, int64_t v) {
  if (v == LH_UNLIMITED) return snprintf(buf, n, "unlimited");
  if (d == LH_RES_CPU) {
    if (v % 1000 == 0) return snprintf(buf, n, "%" PRId64, v / 1000);
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%" PRId64 ".%03" PRId64, v / 1000, (v < 0 ? -v : v) % 1000);
    size_t k = 0;
    while (tmp[k]) k++;
    while (k > 0 && tmp[k - 1] == '0') tmp[--k] = 0;
    return snprintf(buf, n, "%s", tmp);
  }
  if (d == LH_RES_MEM && v != 0) {
    static const char *const suf[] = {"Ti", "Gi", "Mi", "Ki"};
    for (int i = 0; i < 4; i++) {
      int64_t unit = INT64_C(1) << (10 * (4 - i));
      if (v % unit == 0) return snprintf(buf, n, "%" PRId64 "%s", v / unit, suf[i]);
    }
  }
  return snprintf(buf, n, "%" PRId64, v);
}
