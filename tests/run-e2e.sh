#!/usr/bin/env bash
# Runs every end-to-end test script tests/e2e/*.sh in order. Each script starts the servers it
# needs on loopback, cleans them up on exit, and exits 0 on success, 77 when skipped.
# Files named *-lib.sh are helpers sourced by tests. E2E_ONLY=regex runs a subset.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0; skip=0; failed=()
for t in tests/e2e/[0-9]*.sh; do
  [ -e "$t" ] || continue
  case $t in *-lib.sh) continue;; esac   # sourced helpers, not tests
  name=$(basename "$t" .sh)
  [[ -n "${E2E_ONLY:-}" && ! "$name" =~ $E2E_ONLY ]] && continue
  echo "=== e2e $name"
  bash "$t"; rc=$?
  case $rc in
    0) pass=$((pass+1)); echo "--- PASS $name";;
    77) skip=$((skip+1)); echo "--- SKIP $name";;
    *) fail=$((fail+1)); failed+=("$name"); echo "--- FAIL $name (exit $rc)";;
  esac
done
echo "e2e tests: $pass passed, $fail failed, $skip skipped${failed:+ (${failed[*]})}"
[ "$fail" -eq 0 ]
