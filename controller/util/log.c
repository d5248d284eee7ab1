/* log.c — see log.h. One write(2) per line so lines from threads never interleave. */
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int g_level = -1; /* -1: not yet read from the environment */

int lh_log_level_parse(const char *name) {
  if (!name) return -1;
  if (!strcasecmp(name, "debug")) return LH_LOG_DEBUG;
  if (!strcasecmp(name, "info")) return LH_LOG_INFO;
  if (!strcasecmp(name, "warn") || !strcasecmp(name, "warning")) return LH_LOG_WARN;
  if (!strcasecmp(name, "error")) return LH_LOG_ERROR;
  return -1;
}

lh_log_level lh_log_get_level(void) {
  if (g_level < 0) {
    int l = lh_log_level_parse(getenv("LAHAR_LOG_LEVEL"));
    g_level = l < 0 ? LH_LOG_INFO : l;
  }
  return (lh_log_level)g_level;
}

void lh_log_set_level(lh_log_level level) { g_level = (int)level; }

const char *lh_log_redact(const char *secret) {
  return (secret && *secret) ? "<redacted>" : "";
}

void lh_vlog(lh_log_level level, const char *component, const char *fmt, va_list ap) {
  static const char *names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  if ((int)level < (int)lh_log_get_level()) return;
  char line[2048];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000000L, names[level & 3],
                   component ? component : "lahar");
  if (n < 0) return;
  size_t off = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  int m = vsnprintf(line + off, sizeof line - off, fmt, ap);
  size_t end = m < 0 ? off : off + (size_t)m;
  if (end > sizeof line - 2) end = sizeof line - 2; /* truncated: keep room for '\n' */
  for (size_t i = off; i < end; i++)
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  line[end++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, end);
  (void)w;
}

void lh_log(lh_log_level level, const char *component, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lh_vlog(level, component, fmt, ap);
  va_end(ap);
}
