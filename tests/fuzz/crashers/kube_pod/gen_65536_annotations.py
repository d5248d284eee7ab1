#!/usr/bin/env python3
"""Writes the kube_pod reproducer (1.3 MB, so generated instead of committed): a pod with 65,537
kept annotations (volcano.sh/*). Run: python3 gen_65536_annotations.py > /tmp/pod.json &&
build/fuzz/fuzz_kube_pod /tmp/pod.json  -> abort at tests/fuzz/fuzz_kube_pod.c (intern count != 0
after both pods were freed)."""
import json, sys
pod = {'metadata': {'name': 'p', 'namespace': 'n', 'uid': 'u',
                    'annotations': {'volcano.sh/%x' % i: '' for i in range(65537)}},
       'spec': {'containers': [{'name': 'c'}]}}
sys.stdout.write(json.dumps(pod, separators=(',', ':')))
