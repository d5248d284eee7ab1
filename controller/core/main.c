/* main.c — lahar-controller: flags, configuration, the controller context and its reconcilers
 * (queues and scheduling in core/, Volcano Jobs in jobs/). */
#include "core/args.h"
#include "core/ctl.h"

#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>

#include "jobs/jobs.h"

int main(int argc, char **argv) {
  lh_ctl_opts o;
  lh_ctl_opts_init(&o);
  char err[512] = "";
  int rc = lh_ctl_parse_args(argc, argv, &o, err, sizeof(err));
  if (rc == LH_ARGS_HELP) {
    lh_ctl_usage(stdout);
    return 0;
  }
  if (rc) {
    fprintf(stderr, "lahar-controller: %s\n", err);
    return 2;
  }
  lh_log_set_level((lh_log_level)o.log_level);
  lh_ctl *ctl = NULL;
  if ((rc = lh_ctl_new(&o, &ctl, err, sizeof(err)))) {
    LH_ERROR("main", "%s", err);
    fprintf(stderr, "lahar-controller: %s\n", err);
    return 2;
  }
  if ((rc = lh_jobs_register(ctl))) {
    LH_ERROR("main", "jobs reconciler: %s", lh_kube_strerror(rc));
    lh_ctl_free(ctl);
    return 2;
  }
  if (o.api_listen)
    LH_INFO("main", "--api-listen %s accepted; the REST API is not part of this version, nothing is served there",
            o.api_listen);
  if ((rc = lh_ctl_start(ctl, err, sizeof(err)))) {
    LH_ERROR("main", "%s", err);
    fprintf(stderr, "lahar-controller: %s\n", err);
    lh_ctl_free(ctl);
    return 2;
  }
  LH_INFO("main", "lahar-controller started (scheduler name %s, also volcano)", o.scheduler_name);
  lh_ctl_run(ctl);
  LH_INFO("main", "shutting down");
  lh_ctl_free(ctl);
  return 0;
}
