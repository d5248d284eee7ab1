/* kubeconfig_out.c — kubeconfig output (see kubeconfig_out.h). */
#include "localcluster/kubeconfig_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"

char *lc_kubeconfig_render(const char *name, const char *host, int port, const char *ca_path) {
  lh_buf b;
  lh_buf_init(&b, 1 << 16);
  int e = 0;
  e |= lh_buf_addf(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: %s\n  cluster:\n", name);
  e |= lh_buf_addf(&b, "    server: %s://%s:%d\n", ca_path ? "https" : "http", host, port);
  if (ca_path) e |= lh_buf_addf(&b, "    certificate-authority: \"%s\"\n", ca_path);
  e |= lh_buf_addf(&b,
                   "contexts:\n- name: %s\n  context:\n    cluster: %s\n    user: %s\n"
                   "current-context: %s\nusers:\n- name: %s\n  user:\n    token: lahar-local-no-auth\n",
                   name, name, name, name, name);
  if (e) {
    lh_buf_free(&b);
    return NULL;
  }
  return lh_buf_take(&b);
}

int lc_kubeconfig_write(const char *path, const char *name, const char *host, int port, const char *ca_path,
                        char *err, size_t errlen) {
  char *text = lc_kubeconfig_render(name, host, port, ca_path);
  if (!text) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    free(text);
    return -1;
  }
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += (size_t)n;
  }
  free(text);
  if (off < len || close(fd) != 0 || rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}
