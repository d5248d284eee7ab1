/* fuzz_ctl_args.c — lahar-controller's command line (controller/core/args.c). Input: argv
 * words separated by NUL or newline; they go through lh_ctl_parse_args, and each word through
 * lh_ctl_parse_duration and lh_ctl_parse_listen. */
#include "tests/fuzz/fuzz.h"
#include "core/args.h"
#include "kube/kube.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

int fuzz_ctl_args_one(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  if (size) memcpy(buf, data, size);
  buf[size] = 0;
  char *argv[MAX_ARGS + 2];
  int argc = 0;
  argv[argc++] = "lahar-controller";
  char *w = buf;
  for (size_t i = 0; i <= size && argc < MAX_ARGS + 1; i++) {
    if (i == size || buf[i] == 0 || buf[i] == '\n') {
      buf[i] = 0;
      argv[argc++] = w;
      w = buf + i + 1;
    }
  }
  argv[argc] = NULL;
  lh_ctl_opts o;
  lh_ctl_opts_init(&o);
  char err[200];
  memset(err, 'x', sizeof(err));
  int rc = lh_ctl_parse_args(argc, argv, &o, err, sizeof(err));
  if (rc != 0 && rc != LH_ARGS_HELP && !memchr(err, 0, sizeof(err))) abort();
  for (int i = 1; i < argc; i++) {
    long ms;
    (void)lh_ctl_parse_duration(argv[i], &ms);
    char host[64];
    int port = -7;
    memset(host, 'x', sizeof(host));
    if (lh_ctl_parse_listen(argv[i], host, sizeof(host), &port) == 0 && !memchr(host, 0, sizeof(host)) &&
        host[0] != 'x')
      abort();
    char h1[1];
    (void)lh_ctl_parse_listen(argv[i], h1, sizeof(h1), &port);
  }
  free(buf);
  return 0;
}

#ifdef LAHAR_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ctl_args_one(data, size); }
#endif
