# controller/jobs — the Volcano Job reconciler (batch.volcano.sh/v1alpha1): spec parsing and
# validation, the phase machine, pod/PodGroup/plugin object builders, the reconciler. See jobs.h.
LIBS += jobs
jobs_SRCS := $(wildcard controller/jobs/*.c)
TESTS += test_jobs_spec test_jobs_build test_jobs_state
test_jobs_spec_LIBS := jobs kube util
test_jobs_build_LIBS := jobs kube util
test_jobs_state_LIBS := jobs kube util
