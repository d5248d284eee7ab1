/* args.h — lahar-controller's command line: flag table, parsing and validation into an
 * lh_ctl_opts. Pure (no I/O besides nothing): unit-tested by tests/unit/test_ctl_args.c. */
#ifndef LAHAR_CORE_ARGS_H
#define LAHAR_CORE_ARGS_H

#include "core/ctl.h"

#include <stddef.h>
#include <stdio.h>

#define LH_ARGS_HELP 1 /* --help was given: print lh_ctl_usage and exit 0 */

/* Parses argv[1..argc) into o (which should come from lh_ctl_opts_init). Strings in o point into
 * argv. Returns 0, LH_ARGS_HELP, or LH_EKUBE_INVAL with a one-line message in err naming the flag
 * (the caller prints it and exits 2). Accepts "--flag value" and "--flag=value". */
int lh_ctl_parse_args(int argc, char **argv, lh_ctl_opts *o, char *err, size_t errlen);
void lh_ctl_usage(FILE *f);

/* "15s", "500ms", "1m", "1m30s", "2h" or plain seconds ("15") -> milliseconds.
 * Returns 0 or LH_EKUBE_INVAL (empty, negative, unknown unit, overflow). */
int lh_ctl_parse_duration(const char *s, long *ms);
/* "host:port" / "[v6]:port" / ":port" with port 1..65535. Returns 0 or LH_EKUBE_INVAL;
 * host (may be "") and port are written when given. */
int lh_ctl_parse_listen(const char *s, char *host, size_t hostlen, int *port);

#endif
