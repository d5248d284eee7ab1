/* log.h — leveled, one-line-per-event logging shared by every lahar binary.
 *
 * Each call writes exactly one line to stderr: "2026-11-24T02:30:00.123Z INFO  component: message".
 * The message is formatted into a bounded stack buffer and newlines inside it are replaced, so a
 * caller can never produce a multi-line or unbounded entry. Never pass secrets (tokens, keys,
 * passwords) to these functions: lh_log_redact() exists for values that might contain them. */
#ifndef LAHAR_UTIL_LOG_H
#define LAHAR_UTIL_LOG_H

#include <stdarg.h>

typedef enum { LH_LOG_DEBUG = 0, LH_LOG_INFO, LH_LOG_WARN, LH_LOG_ERROR } lh_log_level;

/* Sets the minimum level written (default INFO; LAHAR_LOG_LEVEL=debug|info|warn|error overrides
 * at the first log call). */
void lh_log_set_level(lh_log_level level);
lh_log_level lh_log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int lh_log_level_parse(const char *name);

void lh_log(lh_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lh_vlog(lh_log_level level, const char *component, const char *fmt, va_list ap);

#define LH_DEBUG(comp, ...) lh_log(LH_LOG_DEBUG, comp, __VA_ARGS__)
#define LH_INFO(comp, ...)  lh_log(LH_LOG_INFO, comp, __VA_ARGS__)
#define LH_WARN(comp, ...)  lh_log(LH_LOG_WARN, comp, __VA_ARGS__)
#define LH_ERROR(comp, ...) lh_log(LH_LOG_ERROR, comp, __VA_ARGS__)

/* Returns "<redacted>" for a non-empty secret and "" for an empty one: log presence, never value. */
const char *lh_log_redact(const char *secret);

#endif
