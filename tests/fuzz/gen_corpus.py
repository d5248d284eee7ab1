#!/usr/bin/env python3
"""gen_corpus.py — (re)generates the hand-made seed corpus under tests/fuzz/corpus/ from inline
examples plus a few real files (repo crds/, /work/shared corpus and Kubernetes 1.20 samples when
present). Seeds named edge-* (boundary values found while fuzzing that the code handles) and
fixed crash reproducers are added by hand; this script never deletes files. Run from the repository root: python3 tests/fuzz/gen_corpus.py"""
import json, os, struct, sys, yaml

ROOT = 'tests/fuzz/corpus'
SEP = b'\n%%\n'
SHARED = '/work/shared'


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def j(o):
    return json.dumps(o, separators=(',', ':')).encode()


def yaml_docs(path):
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d]
    except (OSError, yaml.YAMLError):
        return []


# ---- sched_conf ---------------------------------------------------------------------------
put('sched_conf', 'volcano-default.yaml', 'actions: "enqueue, allocate, backfill"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n    enablePreemptable: false\n  - name: conformance\n- plugins:\n  - name: overcommit\n  - name: drf\n    enablePreemptable: false\n  - name: predicates\n  - name: proportion\n  - name: nodeorder\n  - name: binpack\n')
put('sched_conf', 'full.yaml', 'actions: "enqueue, allocate, backfill, reclaim, preempt"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n- plugins:\n  - name: drf\n    enableHierarchy: true\n  - name: predicates\n    arguments:\n      predicate.GPUSharingEnable: false\n  - name: proportion\n  - name: nodeorder\n    arguments:\n      leastrequested.weight: 1\n      balancedresource.weight: 1\n      nodeaffinity.weight: 1\n  - name: binpack\n    arguments:\n      binpack.weight: 10\n      binpack.cpu: 2\n      binpack.memory: 1\n      binpack.resources: nvidia.com/gpu\n      binpack.resources.nvidia.com/gpu: 4\n  - name: overcommit\n    arguments:\n      overcommit-factor: 1.2\nconfigurations:\n- name: allocate\n  arguments:\n    lahar.placement: spread\n    lahar.serverlessBurst: false\n    lahar.nodesToScore: 0\n')
put('sched_conf', 'flow.yaml', '{actions: "allocate", tiers: [{plugins: [{name: gang, enableJobReady: true}, {name: drf}]}]}\n')
put('sched_conf', 'anchors.yaml', 'actions: &a "enqueue, allocate"\ntiers:\n- plugins: &p\n  - name: gang\n    arguments: {x: 1, y: [1, 2]}\n- plugins: *p\n---\nactions: *a\n')
put('sched_conf', 'bad-names.yaml', 'actions: "enqueue, alocate"\ntiers:\n- plugins:\n  - name: gnag\n  - name: binpack\n    arguments:\n      binpack.weight: -1\n      binpack.cpu: 9223372036854775808\n')

# ---- kube_config --------------------------------------------------------------------------
kc = {'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'ctx',
      'clusters': [{'name': 'c', 'cluster': {'server': 'https://127.0.0.1:6443/', 'certificate-authority-data': 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo='}}],
      'users': [{'name': 'u', 'user': {'token': 'abc.def', 'client-certificate-data': 'Zm9v', 'client-key-data': 'YmFy'}}],
      'contexts': [{'name': 'ctx', 'context': {'cluster': 'c', 'user': 'u', 'namespace': 'team'}}]}
put('kube_config', 'full.yaml', yaml.safe_dump(kc))
put('kube_config', 'insecure.yaml', 'clusters:\n- name: c\n  cluster:\n    server: http://[::1]:8080\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: other\n  context: {cluster: c, user: u}\ncurrent-context: other\n')
put('kube_config', 'files.yaml', 'clusters:\n- name: c\n  cluster: {server: "https://h", certificate-authority: ca.crt}\nusers:\n- name: u\n  user: {tokenFile: token, client-certificate: c.crt, client-key: c.key}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\n')
put('kube_config', 'exec.yaml', 'clusters:\n- name: c\n  cluster: {server: "https://h"}\nusers:\n- name: u\n  user:\n    exec: {command: aws}\n    username: a\n    password: b\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\n')
put('kube_config', 'b64.txt', 'SGVsbG8s IHdvcmxk\nIQ==')

# ---- kube_watch ---------------------------------------------------------------------------
pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p', 'namespace': 'ns', 'uid': 'u1', 'resourceVersion': '42', 'labels': {'app': 'x'}},
       'spec': {'schedulerName': 'lahar', 'nodeName': 'n1', 'containers': [{'name': 'c', 'resources': {'requests': {'cpu': '500m', 'memory': '128Mi'}}}]},
       'status': {'phase': 'Running'}}
ev = lambda t, o: j({'type': t, 'object': o})
put('kube_watch', 'stream.txt', b'\n'.join([ev('ADDED', pod), ev('MODIFIED', pod), ev('BOOKMARK', {'kind': 'Pod', 'metadata': {'resourceVersion': '99'}}),
    ev('DELETED', pod), b'\r', ev('ERROR', {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'message': 'too old resource version: 1 (2)', 'reason': 'Expired', 'code': 410})]) + b'\n')
put('kube_watch', 'status-409.json', j({'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure', 'message': 'Operation cannot be fulfilled', 'reason': 'Conflict', 'details': {'name': 'x', 'kind': 'pods'}, 'code': 409}))
put('kube_watch', 'html.txt', '<html><body>502 Bad Gateway</body></html>\n')
for f in ('watch-stream-from-rv.txt', 'status-422-invalid.json', 'status-410-watch-too-old.txt'):
    p = os.path.join(SHARED, 'notes/kube-1.20-samples', f)
    if os.path.exists(p) and os.path.getsize(p) < 8000:
        put('kube_watch', 'k120-' + f, open(p, 'rb').read())

# ---- kube_pod -----------------------------------------------------------------------------
full = json.loads(json.dumps(pod))
full['metadata'].update({'annotations': {'scheduling.k8s.io/group-name': 'pg', 'volcano.sh/queue-name': 'q', 'other': 'x'},
    'ownerReferences': [{'apiVersion': 'batch.volcano.sh/v1alpha1', 'kind': 'Job', 'name': 'j', 'uid': 'ju', 'controller': True}],
    'deletionTimestamp': '2024-01-01T00:00:00Z'})
full['spec'].update({'priority': 100, 'nodeSelector': {'disk': 'ssd'}, 'overhead': {'cpu': '10m'},
    'tolerations': [{'key': 'k', 'operator': 'Equal', 'value': 'v', 'effect': 'NoExecute', 'tolerationSeconds': 30}, {'operator': 'Exists'}],
    'initContainers': [{'name': 'i', 'resources': {'requests': {'cpu': '2', 'memory': '1Gi', 'nvidia.com/gpu': '1'}}}]})
full['spec']['containers'].append({'name': 'd', 'resources': {'limits': {'cpu': '1.5', 'memory': '1e3'}}})
put('kube_pod', 'pod-full.json', j(full))
put('kube_pod', 'pod-min.json', j({'metadata': {'name': 'a', 'namespace': 'b', 'uid': 'c'}}))
put('kube_pod', 'quantities.txt', '100m\n1.5\n128Mi\n1k\n1e3\n0.001\n9223372036854775807\n8Ei\n1E\n-1\n.5\n5.\n+1\n1e-3\n2Ki\n')
p = os.path.join(SHARED, 'notes/kube-1.20-samples/pod-create-response.json')
if os.path.exists(p):
    put('kube_pod', 'k120-pod-create-response.json', open(p, 'rb').read())

# ---- lc_selector --------------------------------------------------------------------------
obj = {'metadata': {'name': 'p', 'namespace': 'ns', 'labels': {'app': 'web', 'tier': 'fe', 'example.com/x': ''}},
       'labels': {'app': 'web'}, 'spec': {'nodeName': 'n1', 'hostNetwork': False, 'unschedulable': True}, 'status': {'phase': 'Running', 'replicas': 3},
       'selector': {'matchLabels': {'app': 'web'}, 'matchExpressions': [{'key': 'tier', 'operator': 'In', 'values': ['fe', 'be']}, {'key': 'x', 'operator': 'DoesNotExist'}]}}
put('lc_selector', 'basic.txt', b'app=web,tier!=db' + SEP + b'metadata.name=p,spec.nodeName!=n2' + SEP + j(obj))
put('lc_selector', 'sets.txt', b'env in (prod, qa),tier notin (db),!canary, example.com/x ,a==b' + SEP + b'status.phase==Running,spec.hostNetwork=false' + SEP + j(obj))
put('lc_selector', 'bad.txt', b'a in (b,,c' + SEP + b'foo.bar=1,,=' + SEP + j({'matchExpressions': [{'key': 'a', 'operator': 'Exists', 'values': ['x']}]}))

# ---- lc_patch -----------------------------------------------------------------------------
d = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p', 'labels': {'a': 'b'}, 'finalizers': ['f1', 'f2']},
     'spec': {'containers': [{'name': 'c', 'image': 'i', 'ports': [{'containerPort': 80}], 'env': [{'name': 'A', 'value': '1'}]}],
              'volumes': [{'name': 'v', 'emptyDir': {}}]}, 'status': {'conditions': [{'type': 'Ready', 'status': 'True'}]}}
put('lc_patch', 'merge.txt', j(d) + SEP + j({'metadata': {'labels': {'a': None, 'c': 'd'}}, 'spec': {'containers': [{'name': 'x'}]}}))
put('lc_patch', 'jsonpatch.txt', j(d) + SEP + j([{'op': 'add', 'path': '/metadata/labels/x~1y', 'value': 1}, {'op': 'test', 'path': '/metadata/name', 'value': 'p'},
    {'op': 'move', 'from': '/metadata/finalizers/0', 'path': '/metadata/finalizers/-'}, {'op': 'copy', 'from': '/spec', 'path': '/spec2'},
    {'op': 'replace', 'path': '/spec/containers/0/image', 'value': 'j'}, {'op': 'remove', 'path': '/status'}]))
put('lc_patch', 'strategic.txt', j(d) + SEP + j({'metadata': {'finalizers': ['f3'], '$deleteFromPrimitiveList/finalizers': ['f1'], '$setElementOrder/finalizers': ['f3', 'f2']},
    'spec': {'containers': [{'name': 'c', 'env': [{'name': 'A', '$patch': 'delete'}], 'ports': [{'containerPort': 81}]}, {'name': 'n', 'image': 'z'}],
             '$setElementOrder/containers': [{'name': 'n'}, {'name': 'c'}], 'volumes': [{'$patch': 'replace'}], '$retainKeys': ['containers', 'volumes']},
    'status': {'conditions': [{'type': 'Ready', 'status': 'False'}]}}) + SEP + b'pods')
put('lc_patch', 'deploy.txt', j({'spec': {'template': {'spec': {'containers': [{'name': 'a'}]}}}}) + SEP + j({'spec': {'$patch': 'replace', 'replicas': 2}}) + SEP + b'apps/deployments')

# ---- lc_router ----------------------------------------------------------------------------
put('lc_router', 'pods.txt', b'/api/v1/namespaces/default/pods/p1/status' + SEP + b'labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1&limit=500&continue=abc&resourceVersion=12&watch=true&allowWatchBookmarks=1&timeoutSeconds=30')
put('lc_router', 'group.txt', b'/apis/scheduling.volcano.sh/v1beta1/watch/namespaces/ns/podgroups' + SEP + b'propagationPolicy=Foreground&gracePeriodSeconds=0&dryRun=All&fieldManager=kubectl&includeObject=Object')
put('lc_router', 'logs.txt', b'/api/v1/namespaces/ns/pods/p/log' + SEP + b'container=c&tailLines=10&follow=true&x=%zz&limit=-1')
put('lc_router', 'misc.txt', b'/apis/coordination.k8s.io%2Fv1//namespaces/%2e%2e/leases?' + SEP + b'a+b=c+d&&=&limit=99999999999999999999')
put('lc_router', 'health.txt', b'/readyz/etcd' + SEP + b'verbose')

# ---- lc_proto -----------------------------------------------------------------------------
def vint(v):
    v &= (1 << 64) - 1
    out = b''
    while True:
        b = v & 0x7f; v >>= 7
        if v: out += bytes([b | 0x80])
        else: return out + bytes([b])
def key(n, wt): return vint(n << 3 | wt)
def fs(n, s): s = s.encode() if isinstance(s, str) else s; return key(n, 2) + vint(len(s)) + s
def fi(n, v): return key(n, 0) + vint(v)
def fm(n, m): return fs(n, m)
def mp(n, k, v): return fm(n, fs(1, k) + fs(2, v))
def frame(av, kind, raw): return b'k8s\x00' + fm(1, fs(1, av) + fs(2, kind)) + fs(2, raw) + fs(3, '') + fs(4, '')
md = fs(1, 'n1') + fs(3, 'ns') + fs(5, 'uid-1') + fs(6, '7') + fi(7, 2) + fm(8, fi(1, 1700000000) + fi(2, 5)) + mp(11, 'app', 'web') + mp(12, 'a', 'b') \
    + fm(13, fs(1, 'Job') + fs(3, 'j') + fs(4, 'ju') + fs(5, 'batch/v1') + fi(6, 1)) + fs(14, 'fin')
put('lc_proto', 'configmap.bin', frame('v1', 'ConfigMap', fm(1, md) + mp(2, 'k', 'v') + fm(3, fs(1, 'bin') + fs(2, b'\x00\xff\x10')) + fi(4, 1)))
put('lc_proto', 'secret.bin', frame('v1', 'Secret', fm(1, md) + fm(2, fs(1, 'k') + fs(2, b'\x01\x02')) + fs(3, 'Opaque') + mp(4, 's', 't')))
put('lc_proto', 'namespace.bin', frame('v1', 'Namespace', fm(1, md) + fm(2, fs(1, 'kubernetes')) + fm(3, fs(1, 'Active'))))
put('lc_proto', 'binding.bin', frame('v1', 'Binding', fm(1, md) + fm(2, fs(1, 'Node') + fs(3, 'node-1') + fs(5, 'v1'))))
put('lc_proto', 'lease.bin', frame('coordination.k8s.io/v1', 'Lease', fm(1, md) + fm(2, fs(1, 'me') + fi(2, 15) + fm(3, fi(1, 1)) + fm(4, fi(1, 1700000000) + fi(2, 123456789)) + fi(5, 3))))
put('lc_proto', 'deleteoptions.bin', frame('meta.k8s.io/v1', 'DeleteOptions', fi(1, (1 << 64) - 1) + fm(2, fs(1, 'uid-1') + fs(2, '9')) + fi(3, 1) + fs(4, 'Foreground') + fs(5, 'All')))
put('lc_proto', 'service.bin', frame('v1', 'Service', fm(1, md) + fm(2, fm(1, fs(1, 'https') + fs(2, 'TCP') + fi(3, 443) + fm(4, fi(1, 1) + fs(3, 'https')) + fi(5, 30000)) + mp(2, 'app', 'web') + fs(3, 'None') + fs(4, 'ClusterIP'))))
put('lc_proto', 'quota.bin', frame('v1', 'ResourceQuota', fm(1, md) + fm(2, fm(1, fs(1, 'cpu') + fm(2, fs(1, '10'))) + fs(2, 'BestEffort'))))
put('lc_proto', 'event.bin', frame('v1', 'Event', fm(1, md) + fm(2, fs(1, 'Pod') + fs(3, 'p')) + fs(3, 'Started') + fs(4, 'msg') + fm(5, fs(1, 'kubelet')) + fi(8, 2) + fs(9, 'Normal')
    + key(15, 1) + struct.pack('<d', 1.5) + key(16, 5) + struct.pack('<f', 2.5)))
put('lc_proto', 'sa.bin', frame('v1', 'ServiceAccount', fm(1, md) + fm(2, fs(3, 'tok')) + fm(3, fs(1, 'pull')) + fi(4, 0)))
put('lc_proto', 'unknown-kind.bin', frame('v1', 'Pod', fm(1, md)))

# ---- lc_crd -------------------------------------------------------------------------------
queue_obj = j({'apiVersion': 'scheduling.volcano.sh/v1beta1', 'kind': 'Queue', 'metadata': {'name': 'q', 'creationTimestamp': '2024-01-01T00:00:00Z'},
               'spec': {'weight': 1, 'capability': {'cpu': '5', 'memory': 1}, 'reclaimable': True, 'junk': 1}, 'status': {'state': 'Open'}, 'extra': True})
for f in sorted(os.listdir('crds')) if os.path.isdir('crds') else []:
    for i, doc in enumerate(yaml_docs(os.path.join('crds', f))):
        obj2 = queue_obj if 'queue' in f else j({'apiVersion': 'x/v1', 'kind': 'K', 'metadata': {'name': 'n'}, 'spec': {'minMember': '2', 'tasks': [{'replicas': 'x'}]}})
        put('lc_crd', f.replace('.yaml', '.json'), j(doc) + SEP + obj2 + SEP + b'{.spec.weight}')
crd = {'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition', 'metadata': {'name': 'widgets.example.com'},
       'spec': {'group': 'example.com', 'scope': 'Namespaced', 'names': {'plural': 'widgets', 'singular': 'widget', 'kind': 'Widget', 'listKind': 'WidgetList', 'shortNames': ['wd'], 'categories': ['all']},
                'versions': [{'name': 'v1', 'served': True, 'storage': True, 'subresources': {'status': {}, 'scale': {}},
                              'additionalPrinterColumns': [{'name': 'Size', 'type': 'integer', 'jsonPath': '.spec.size'}, {'name': 'Tags', 'type': 'string', 'jsonPath': ".spec.tags[*].name"},
                                                           {'name': 'Age', 'type': 'date', 'jsonPath': '.metadata.creationTimestamp'}, {'name': 'K', 'type': 'string', 'jsonPath': ".metadata.labels['a.b/c']", 'priority': 1}],
                              'schema': {'openAPIV3Schema': {'type': 'object', 'required': ['spec'], 'properties': {'spec': {'type': 'object', 'properties': {
                                  'size': {'type': 'integer', 'enum': [1, 2, 3]}, 'mode': {'type': 'string', 'nullable': True}, 'port': {'x-kubernetes-int-or-string': True},
                                  'tags': {'type': 'array', 'items': {'type': 'object', 'properties': {'name': {'type': 'string'}}}},
                                  'any': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}, 'm': {'type': 'object', 'additionalProperties': {'type': 'number'}}}}}}}},
                             {'name': 'v1beta1', 'served': True, 'storage': False}]}}
put('lc_crd', 'widget.json', j(crd) + SEP + j({'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'w', 'labels': {'a.b/c': 'd'}},
    'spec': {'size': 2, 'mode': None, 'port': 'http', 'tags': [{'name': 't', 'x': 1}], 'any': {'q': [1]}, 'm': {'a': 1.5, 'b': 'x'}}}) + SEP + b'Application/JSON;as=Table;v=v1;g=meta.k8s.io, application/json')
put('lc_crd', 'builtin-pod.json', j({'kind': 'NotACRD'}) + SEP + j(full) + SEP + b'2024-02-30T25:61:61.123456789+05:30')

# ---- nodesim ------------------------------------------------------------------------------
put('nodesim', 'lines.txt', b'500m\n128Gi\n1.5\n30s\n1m30s\n500ms\n2us\n1h\n0.5\nk=v,k2=v2, a ,b=\ngpu=true:NoSchedule,k2:NoExecute,a=b:PreferNoSchedule\ncpu=64,memory=256Gi,nvidia.com/gpu=8,pods=500\n9223372036854775807\n8Ei\n1e3\n4k'
    + SEP + j({'metadata': {'name': 'p', 'namespace': 'ns', 'uid': 'u', 'annotations': {'lahar.io/sim-duration': '2s', 'lahar.io/sim-exit-code': '3'}},
               'spec': {'nodeName': 'n', 'restartPolicy': 'OnFailure', 'containers': [{'name': 'c', 'image': 'busybox', 'command': ['sh', '-c'], 'args': ['echo $(A) $$(B) $(C)'],
                        'env': [{'name': 'A', 'value': 'x'}, {'name': 'B', 'valueFrom': {}}, {'name': 'C', 'value': '$(A)'}]}], 'initContainers': [{'name': 'i'}]},
               'status': {'phase': 'Running', 'containerStatuses': [{'restartCount': 4}]}}))
put('nodesim', 'bad.txt', b'-1\n1e400\n1.5.5\n30x\n-5s\n99999999999h\n=v,,k\nk=v:Bogus\n:NoSchedule\ncpu=-1,disk=5\n' + SEP + j({'metadata': {'name': 1}, 'spec': {'containers': [{'command': [1]}]}}))

# ---- ctl_args -----------------------------------------------------------------------------
put('ctl_args', 'full.txt', '--kubeconfig\n/tmp/kc\n--scheduler-name=lahar\n--scheduler-conf=/etc/c.yaml\n--leader-elect\n--leader-elect-lease-duration=15s\n--leader-elect-renew-deadline\n10s\n--leader-elect-retry-period=2s\n--metrics-listen=127.0.0.1:8080\n--api-listen=:9090\n--log-level=debug\n--default-cluster=local\n--max-binds-in-flight=256\n')
put('ctl_args', 'bad.txt', '--bogus\n--leader-elect-lease-duration=-1s\n--metrics-listen=[::1]:99999\n--max-binds-in-flight=9223372036854775808\n1m30s\n500ms\n2h\n--help\n')
put('ctl_args', 'listen.txt', '--metrics-listen\n[::1]:8080\n--api-listen\nhost:\n:0\n[fe80::1%eth0]:1\n')

# ---- jobs_spec ----------------------------------------------------------------------------
n = 0
for sub in ('example/job.yaml', 'example/task-start-dependency/mpi.yaml', 'example/invalid_jobs/minAvailable-webhook-deny.yaml', 'example/integrations/tensorflow/dist-mnist/tf-dist-mnist-example.yaml'):
    for doc in yaml_docs(os.path.join(SHARED, 'corpus/volcano', sub)):
        if isinstance(doc, dict) and doc.get('kind') == 'Job':
            doc.setdefault('metadata', {}).setdefault('namespace', 'ns'); doc['metadata'].setdefault('uid', 'uid-%d' % n)
            put('jobs_spec', 'volcano-%d.json' % n, j(doc)); n += 1
put('jobs_spec', 'hand.json', j({'apiVersion': 'batch.volcano.sh/v1alpha1', 'kind': 'Job', 'metadata': {'name': 'j', 'namespace': 'ns', 'uid': 'u'},
    'spec': {'minAvailable': 2, 'minSuccess': 1, 'maxRetry': 2, 'ttlSecondsAfterFinished': 60, 'priorityClassName': 'hi', 'queue': 'q',
             'plugins': {'svc': ['--publish-not-ready-addresses=false'], 'ssh': ['--ssh-key-file-path=/k'], 'env': []},
             'policies': [{'events': ['PodFailed', '*'], 'action': 'RestartJob'}, {'exitCode': 3, 'action': 'AbortJob'}],
             'volumes': [{'mountPath': '/d', 'volumeClaimName': 'c'}],
             'tasks': [{'name': 'ps', 'replicas': 1, 'template': {'spec': {'containers': [{'name': 'c', 'resources': {'requests': {'cpu': '1'}}}]}}},
                       {'replicas': 2, 'minAvailable': 1, 'maxRetry': 1, 'dependsOn': {'name': ['ps'], 'iteration': 'any'},
                        'policies': [{'event': 'TaskCompleted', 'action': 'CompleteJob'}], 'template': {'spec': {'hostname': 'h', 'subdomain': 's', 'containers': [{'name': 'c'}]}}}]}}))

# ---- ctl_snap -----------------------------------------------------------------------------
def node(nm, labels, cpu):
    return {'metadata': {'name': nm, 'labels': labels}, 'spec': {'taints': [{'key': 'k', 'value': 'v', 'effect': 'NoSchedule'}]},
            'status': {'allocatable': {'cpu': cpu, 'memory': '8Gi', 'pods': '110', 'nvidia.com/gpu': '1'}, 'conditions': [{'type': 'Ready', 'status': 'True'}]}}
def spod(nm, sched, ann, node_, phase, cpu):
    sp = {'schedulerName': sched, 'containers': [{'name': 'c', 'resources': {'requests': {'cpu': cpu}}}]}
    if node_: sp['nodeName'] = node_
    return {'metadata': {'name': nm, 'namespace': 'ns', 'uid': 'uid-' + nm, 'annotations': ann}, 'spec': sp, 'status': {'phase': phase}}
put('ctl_snap', 'cluster.json', j({'nodes': [node('n1', {}, '4'), node('n2', {'lahar.io/cluster': 'gpu'}, '8000m'), node('vk', {'lahar.io/serverless': 'true', 'lahar.io/serverless-pool': 'pool'}, '100')],
    'queues': [{'metadata': {'name': 'prod', 'annotations': {'volcano.sh/hierarchy': 'root/eng/prod', 'volcano.sh/hierarchy-weights': '1/2/8'}}, 'spec': {'weight': 1}},
               {'metadata': {'name': 'child'}, 'spec': {'parent': 'prod', 'capability': {'cpu': '2'}, 'guarantee': {'resource': {'cpu': '1'}}, 'reclaimable': False}, 'status': {'state': 'Open'}},
               {'metadata': {'name': 'orphan'}, 'spec': {'parent': 'nope'}}],
    'podgroups': [{'metadata': {'name': 'g', 'namespace': 'ns', 'uid': 'ug', 'creationTimestamp': '2026-01-01T00:00:00Z'}, 'spec': {'minMember': 2, 'queue': 'prod', 'minResources': {'cpu': '1500m'}},
                   'status': {'phase': 'Inqueue', 'conditions': [{'type': 'Unschedulable', 'message': 'm'}]}},
                  {'metadata': {'name': 'done', 'namespace': 'ns', 'uid': 'ud'}, 'status': {'phase': 'Completed'}}],
    'pods': [spod('p1', 'lahar', {'scheduling.k8s.io/group-name': 'g'}, None, 'Pending', '1'), spod('p2', 'lahar', {'scheduling.k8s.io/group-name': 'g'}, 'n1', 'Running', '500m'),
             spod('p3', 'default-scheduler', {}, 'n1', 'Running', '2'), spod('b4', 'volcano', {'volcano.sh/queue-name': 'child'}, None, 'Pending', '100m'),
             spod('p5', 'lahar', {}, None, 'Pending', '')]}))
print('ok')
