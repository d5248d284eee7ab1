#!/usr/bin/env bash
# `make test`: unit tests, then end-to-end tests; one closing line counting both.
set -u
cd "$(dirname "$0")/.."
tests/run-unit.sh "$@"; u=$?
tests/run-e2e.sh; e=$?
if [ $u -eq 0 ] && [ $e -eq 0 ]; then echo "make test: all suites passed"; exit 0; fi
echo "make test: FAILED (unit=$u e2e=$e)"; exit 1
