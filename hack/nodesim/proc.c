/* proc.c — --exec: a pod's first container as a local process group, its output captured
 * through a pipe on the loop, written to <sandbox>/<ns>_<pod>_<uid8>/<container>.log and
 * appended to the pod log through POST pods/NAME/log (a local-cluster extension), and its exit
 * (seen through a pidfd) reported to the state machine once the output has been delivered, so
 * a reader who sees the pod finished also sees all of its log. */
#include "nodesim/nodesim_int.h"

#include "kube/client.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define COMP "nodesim-exec"
#define LOG_CHUNK (64u * 1024u)         /* bytes per POST of log text */
#define LOG_PENDING_CAP (8u << 20)      /* output waiting for the server; beyond it is dropped */

extern char **environ;

struct sim_proc {
  sim_proc *next, *prev; /* s->procs */
  lh_nodesim *s;
  sim_pod *pod;          /* referenced while the process lives */
  pid_t pid;             /* 0: never started */
  int pidfd, outfd, logfd;
  int exited, code;      /* reaped, and its exit code (128+N for signal N) */
  int eof;               /* output pipe closed */
  int killed;            /* killed on purpose: no exit report, output discarded */
  int reported;
  int posting;           /* a log POST is in flight */
  lh_buf pending;        /* output not yet POSTed */
  unsigned long dropped; /* bytes lost to LOG_PENDING_CAP */
  char *container;
  lh_timer kick;         /* reports the exit from its own loop turn */
};

static void pod_dir(lh_nodesim *s, const sim_pod *p, char *out, size_t len) {
  snprintf(out, len, "%s/%s_%s_%.8s", s->sandbox, p->pi.ns, p->pi.name, p->uid);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  remove(path);
  return 0;
}

static void remove_dir(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void proc_free(sim_proc *pr) {
  lh_nodesim *s = pr->s;
  if (pr->prev) pr->prev->next = pr->next;
  else s->procs = pr->next;
  if (pr->next) pr->next->prev = pr->prev;
  if (pr->pidfd >= 0) {
    lh_loop_fd_del(s->loop, pr->pidfd);
    close(pr->pidfd);
  }
  if (pr->outfd >= 0) {
    lh_loop_fd_del(s->loop, pr->outfd);
    close(pr->outfd);
  }
  if (pr->logfd >= 0) close(pr->logfd);
  lh_timer_stop(&pr->kick);
  lh_buf_free(&pr->pending);
  sim_pod *p = pr->pod;
  if (p->proc == pr) p->proc = NULL;
  if (p->gone && !s->logs_unsupported && !s->stopping) {
    char dir[1024];
    pod_dir(s, p, dir, sizeof(dir));
    remove_dir(dir);
  }
  free(pr->container);
  free(pr);
  nsim_pod_unref(p);
}

static long kick_cb(lh_loop *loop, lh_timer *t, void *data);

/* Frees pr, or reports its exit, once nothing about it is outstanding. */
static void proc_check(sim_proc *pr) {
  if (!pr->exited || !pr->eof || pr->posting) return;
  if (pr->killed || pr->pod->gone || pr->s->stopping) {
    proc_free(pr);
    return;
  }
  if (pr->pending.len && !pr->s->logs_unsupported) return; /* still to deliver */
  if (!pr->reported) {
    pr->reported = 1;
    lh_timer_start(&pr->kick, 0, kick_cb, pr);
  }
}

static long kick_cb(lh_loop *loop, lh_timer *t, void *data) {
  sim_proc *pr = data;
  sim_pod *p = pr->pod;
  int code = pr->code;
  nsim_pod_ref(p);
  proc_free(pr);
  nsim_pod_exited(p->s, p, code);
  nsim_pod_unref(p);
  return LH_TIMER_STOP;
}

static void log_flush(sim_proc *pr);

static void log_done_cb(lh_kube_async *a, int rc, lh_kube_response *resp, void *data) {
  sim_proc *pr = data;
  lh_nodesim *s = pr->s;
  pr->posting = 0;
  if (rc == LH_EKUBE_CLOSED || s->stopping) {
    if (s->stopping && pr->exited) proc_free(pr);
    return;
  }
  if (rc != 0) {
    long c = resp->http_code;
    if (c == 404 && strcmp(resp->status.reason, "NotFound") == 0 && strstr(resp->status.message, "pods")) {
      lh_buf_reset(&pr->pending); /* the pod is gone */
    } else if (c == 404 || c == 405 || c == 400 || c == 415 || c == 403) {
      if (!s->logs_unsupported)
        LH_WARN(COMP, "the server does not accept POST pods/NAME/log (%ld %s): pod output stays in %s/<ns>_<pod>_<uid>/<container>.log only",
                c, resp->status.reason, s->sandbox);
      s->logs_unsupported = 1;
      lh_buf_reset(&pr->pending);
    } else {
      LH_WARN(COMP, "pod %s: log append: %ld %s %s", pr->pod->key, c, resp->status.message, resp->error);
    }
  }
  log_flush(pr);
  proc_check(pr);
}

/* POSTs the next chunk of pending output (one request in flight per process keeps order). */
static void log_flush(sim_proc *pr) {
  lh_nodesim *s = pr->s;
  if (pr->posting || pr->pending.len == 0 || s->stopping) return;
  if (s->logs_unsupported || pr->killed || pr->pod->gone) {
    lh_buf_reset(&pr->pending);
    return;
  }
  size_t n = pr->pending.len < LOG_CHUNK ? pr->pending.len : LOG_CHUNK;
  lh_buf path;
  lh_buf_init(&path, 4096);
  int rc = nsim_pod_path(&path, pr->pod->pi.ns, pr->pod->pi.name, "log");
  if (!rc) rc = lh_buf_adds(&path, "?container=") ? LH_EKUBE_TOOBIG : lh_kube_escape(&path, pr->container);
  if (!rc) rc = lh_kube_async_request(s->async, "POST", lh_buf_str(&path), "text/plain",
                                      pr->pending.data, n, log_done_cb, pr);
  lh_buf_free(&path);
  if (rc) {
    LH_WARN(COMP, "pod %s: cannot send log: %s", pr->pod->key, lh_kube_strerror(rc));
    lh_buf_reset(&pr->pending);
    return;
  }
  pr->posting = 1;
  nsim_stat_add(s, &s->stats.log_bytes, n);
  memmove(pr->pending.data, pr->pending.data + n, pr->pending.len - n);
  pr->pending.len -= n;
  pr->pending.data[pr->pending.len] = '\0';
}

/* Keeps output bytes: the file always, the pending POST buffer up to its cap. */
static void out_keep(sim_proc *pr, const char *data, size_t n) {
  if (pr->logfd >= 0 && write(pr->logfd, data, n) < 0) {
    /* a full disk only costs the file copy */
  }
  if (pr->killed || pr->s->logs_unsupported) return;
  if (lh_buf_add(&pr->pending, data, n) != 0) pr->dropped += n;
}

/* Reads what the pipe holds now. Returns 1 at end of file or error, 0 when it would block. */
static int out_drain(sim_proc *pr) {
  char buf[16384];
  for (int i = 0; i < 64; i++) {
    ssize_t r = read(pr->outfd, buf, sizeof(buf));
    if (r > 0) {
      out_keep(pr, buf, (size_t)r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    return 1;
  }
  return 0;
}

static void out_close(sim_proc *pr) {
  if (pr->outfd >= 0) {
    lh_loop_fd_del(pr->s->loop, pr->outfd);
    close(pr->outfd);
    pr->outfd = -1;
  }
  pr->eof = 1;
  if (pr->dropped && !pr->killed) {
    char msg[128];
    int n = snprintf(msg, sizeof(msg), "\n[nodesim: %lu bytes of output dropped]\n", pr->dropped);
    pr->dropped = 0;
    lh_buf_add(&pr->pending, msg, (size_t)n);
  }
}

static void on_out(lh_loop *loop, int fd, int events, void *data) {
  sim_proc *pr = data;
  if (out_drain(pr)) out_close(pr);
  log_flush(pr);
  proc_check(pr);
}

static void on_exit_fd(lh_loop *loop, int fd, int events, void *data) {
  sim_proc *pr = data;
  int st = 0;
  pid_t r = waitpid(pr->pid, &st, WNOHANG);
  if (r == 0) return; /* not yet */
  if (r < 0) {
    LH_WARN(COMP, "pod %s: pid %d was reaped by someone else: exit code unknown", pr->pod->key, (int)pr->pid);
    pr->code = 255;
  } else {
    pr->code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
  }
  pr->exited = 1;
  lh_loop_fd_del(loop, pr->pidfd);
  close(pr->pidfd);
  pr->pidfd = -1;
  /* Like a container runtime: the container ends with its main process; leftovers die. */
  kill(-pr->pid, SIGKILL);
  if (pr->outfd >= 0) {
    out_drain(pr);
    out_close(pr);
  }
  LH_INFO(COMP, "pod %s: process %d exited with %d", pr->pod->key, (int)pr->pid, pr->code);
  log_flush(pr);
  proc_check(pr);
}

/* A run that could not start: its "output" is the reason, its exit code 127. */
static void start_failed(sim_proc *pr, const char *fmt, const char *a, const char *b) {
  char msg[600];
  int n = snprintf(msg, sizeof(msg), fmt, a, b);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof(msg)) n = sizeof(msg) - 1;
  LH_WARN(COMP, "pod %s: %s", pr->pod->key, msg);
  out_keep(pr, msg, (size_t)n);
  out_keep(pr, "\n", 1);
  pr->exited = pr->eof = 1;
  pr->code = 127;
  log_flush(pr);
  proc_check(pr);
}

void nsim_proc_start(lh_nodesim *s, sim_pod *p) {
  if (p->proc) nsim_proc_kill(s, p); /* a leftover run: should not happen */
  sim_proc *pr = calloc(1, sizeof(*pr));
  if (!pr) {
    LH_ERROR(COMP, "pod %s: out of memory", p->key);
    return;
  }
  pr->s = s;
  pr->pod = p;
  pr->pidfd = pr->outfd = pr->logfd = -1;
  lh_buf_init(&pr->pending, LOG_PENDING_CAP);
  lh_timer_init(s->loop, &pr->kick);
  nsim_pod_ref(p);
  p->proc = pr;
  pr->next = s->procs;
  if (s->procs) s->procs->prev = pr;
  s->procs = pr;

  char msg[300] = "", dir[1024], logpath[1400];
  sim_exec_spec spec;
  int rc = sim_exec_build(p->obj, &spec, msg, sizeof(msg));
  pr->container = strdup(rc == 0 ? spec.container : "");
  pod_dir(s, p, dir, sizeof(dir));
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    if (rc == 0) sim_exec_spec_free(&spec);
    start_failed(pr, "nodesim: sandbox %s: %s", dir, strerror(errno));
    return;
  }
  const char *cname = rc == 0 ? spec.container : "container";
  snprintf(logpath, sizeof(logpath), "%s/%s.log", dir, cname);
  pr->logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (rc != 0 || !pr->container) {
    if (rc == 0) sim_exec_spec_free(&spec);
    start_failed(pr, "nodesim: cannot run the pod: %s%s", msg, "");
    return;
  }
  char **envp = sim_exec_envp(environ, &spec, p->pi.name);
  int fds[2] = {-1, -1};
  if (!envp || pipe2(fds, O_CLOEXEC) != 0) {
    sim_strv_free(envp);
    sim_exec_spec_free(&spec);
    start_failed(pr, "nodesim: %s%s", "out of memory or file descriptors", "");
    return;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&fa, dir);
  posix_spawnattr_init(&at);
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  int sigs[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) sigaddset(&def, sigs[i]);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, spec.argv[0], &fa, &at, spec.argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(fds[1]);
  sim_strv_free(envp);
  if (err != 0) {
    close(fds[0]);
    char a0[256];
    snprintf(a0, sizeof(a0), "%s", spec.argv[0]);
    sim_exec_spec_free(&spec);
    start_failed(pr, "nodesim: exec %s: %s", a0, strerror(err));
    return;
  }
  sim_exec_spec_free(&spec);
  pr->pid = pid;
  pr->outfd = fds[0];
  fcntl(pr->outfd, F_SETFL, fcntl(pr->outfd, F_GETFL) | O_NONBLOCK);
  pr->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pr->pidfd < 0 || lh_loop_fd_set(s->loop, pr->pidfd, LH_READABLE, on_exit_fd, pr) != 0 ||
      lh_loop_fd_set(s->loop, pr->outfd, LH_READABLE, on_out, pr) != 0) {
    LH_ERROR(COMP, "pod %s: cannot watch process %d: killing it", p->key, (int)pid);
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pr->pid = 0;
    out_close(pr);
    start_failed(pr, "nodesim: %s%s", "cannot watch the process", "");
    return;
  }
  nsim_stat_add(s, &s->stats.procs_started, 1);
  LH_INFO(COMP, "pod %s: started process %d in %s", p->key, (int)pid, dir);
}

void nsim_proc_kill(lh_nodesim *s, sim_pod *p) {
  sim_proc *pr = p->proc;
  if (!pr) return;
  p->proc = NULL;
  pr->killed = 1;
  lh_buf_reset(&pr->pending);
  if (pr->pid > 0 && !pr->exited) kill(-pr->pid, SIGKILL);
  proc_check(pr); /* frees at once if it had already exited */
}

void nsim_proc_forget(lh_nodesim *s, sim_pod *p) {
  if (!s->cfg.exec) return;
  if (p->proc) {
    nsim_proc_kill(s, p); /* the sandbox goes when the process is reaped */
    return;
  }
  if (!s->logs_unsupported) {
    char dir[1024];
    pod_dir(s, p, dir, sizeof(dir));
    remove_dir(dir);
  }
}

void nsim_proc_kill_all(lh_nodesim *s) {
  for (sim_proc *pr = s->procs, *nx; pr; pr = nx) {
    nx = pr->next;
    pr->killed = 1;
    if (pr->pid > 0 && !pr->exited) {
      kill(-pr->pid, SIGKILL);
      waitpid(pr->pid, NULL, 0);
      pr->exited = 1;
    }
    pr->exited = 1;
    out_close(pr);
    if (!pr->posting) proc_free(pr); /* else freed by the request's CLOSED callback */
  }
}
