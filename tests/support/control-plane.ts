import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';

/**
 * A real Kubernetes control plane for the tests, on loopback only: etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler built from source by scripts/control-plane/build.sh,
 * and kwok, which plays the nodes: it marks pods scheduled on its fake node Running and Ready
 * (so rollouts complete), except pods whose first container runs the image NEVER_READY_IMAGE,
 * which it reports as crash-looping, as a real node would report a container that keeps failing.
 * Nothing else is faked: objects, admission, validation, CRDs, garbage collection, namespace
 * deletion and rollouts are the real Kubernetes code.
 */

/** The image a test gives a container whose pods must never become ready (see kwok stages below). */
export const NEVER_READY_IMAGE = 'homelab-test/never-ready:1';
/** The image a test gives a Job's container that must fail (exit code 1) instead of completing. */
export const JOB_FAILS_IMAGE = 'homelab-test/job-fails:1';

export interface ControlPlane {
  /** kubeconfig of a cluster-admin (group system:masters) user. */
  kubeconfig: string;
  /** The folder of the built binaries (kubectl of the server's version is there). */
  binDir: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** The server's git version, e.g. v1.34.4. */
  version: string;
  /** Seconds from the first process start to a ready node. */
  startSeconds: number;
  stop(): Promise<void>;
}

const REPO = path.resolve(__dirname, '..', '..');

/**
 * The bin folder of the control plane built for the versions in scripts/control-plane/versions.env,
 * or an explanation of why there is none. Never builds (that is `npm run setup:engines`' job).
 */
export function findControlPlane(env: NodeJS.ProcessEnv = process.env): { binDir?: string; reason?: string } {
  const result = spawnSync('bash', [path.join(REPO, 'scripts/control-plane/build.sh'), '--check'], {
    encoding: 'utf8',
    env,
  });
  if (result.status === 0) return { binDir: result.stdout.trim() };
  return {
    reason:
      `the Kubernetes control plane is not built on this machine (${(result.stderr || '').trim().split('\n').pop() ?? ''}); ` +
      'build it with `npm run setup:engines` (needs Go and the Go module proxy)',
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
}

/** kwok's selector of a stage: every expression must hold (kwok's own jq-like paths). */
type Expression = { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] };

/** A kwok Stage of pods: when a pod matches `match`, kwok moves it on to `next`. */
function podStage(name: string, match: Expression[], next: Record<string, unknown>) {
  return { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Stage', metadata: { name }, spec: { resourceRef: { apiGroup: 'v1', kind: 'Pod' }, selector: { matchExpressions: match }, next } };
}

const NOT_DELETED: Expression = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' };
const RUNNING: Expression = { key: '.status.phase', operator: 'In', values: ['Running'] };
const OF_A_JOB: Expression = { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] };
const image = (operator: 'In' | 'NotIn', values: string[]): Expression => ({ key: '.spec.containers[0].image', operator, values });

/** The pod status a started pod gets: Running, and Ready or crash-looping (a kwok status template, Go text/template). */
function startedStatus(ready: boolean): string {
  const state = ready
    ? ['          running:', '            startedAt: {{ $now | Quote }}']
    : ['          waiting:', '            reason: CrashLoopBackOff', '            message: back-off restarting failed container'];
  return [
    '{{ $now := Now }}',
    'conditions:',
    ...['Initialized', 'Ready', 'ContainersReady'].flatMap((type) => [
      '- lastTransitionTime: {{ $now | Quote }}',
      `  status: "${type === 'Initialized' || ready ? 'True' : 'False'}"`,
      `  type: ${type}`,
    ]),
    'containerStatuses:',
    '{{ range .spec.containers }}',
    '- image: {{ .image | Quote }}',
    '  name: {{ .name | Quote }}',
    `  ready: ${ready}`,
    `  restartCount: ${ready ? 0 : 5}`,
    '  state:',
    ...state.map((l) => l.slice(6)),
    '{{ end }}',
    'initContainerStatuses:',
    '{{ range .spec.initContainers }}',
    '- image: {{ .image | Quote }}',
    '  name: {{ .name | Quote }}',
    '  ready: true',
    '  restartCount: 0',
    '  state:',
    '    terminated:',
    '      exitCode: 0',
    '      finishedAt: {{ $now | Quote }}',
    '      reason: Completed',
    '      startedAt: {{ $now | Quote }}',
    '{{ end }}',
    'hostIP: {{ NodeIPWith .spec.nodeName | Quote }}',
    'podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}',
    'phase: Running',
    'startTime: {{ $now | Quote }}',
    '',
  ].join('\n');
}

/** The pod status of a Job's pod whose container ended: Succeeded with exit code 0, or Failed with 1. */
function endedStatus(succeeded: boolean): string {
  return [
    '{{ $now := Now }}',
    'containerStatuses:',
    '{{ range .spec.containers }}',
    '- image: {{ .image | Quote }}',
    '  name: {{ .name | Quote }}',
    '  ready: false',
    '  restartCount: 0',
    '  started: false',
    '  state:',
    '    terminated:',
    `      exitCode: ${succeeded ? 0 : 1}`,
    '      finishedAt: {{ $now | Quote }}',
    `      reason: ${succeeded ? 'Completed' : 'Error'}`,
    '      startedAt: {{ $now | Quote }}',
    '{{ end }}',
    `phase: ${succeeded ? 'Succeeded' : 'Failed'}`,
    '',
  ].join('\n');
}

/**
 * kwok stages: the upstream "fast" pod stages (pod-ready, pod-complete for a Job's pods,
 * pod-delete), with readiness withheld from NEVER_READY_IMAGE and a Job's pod of
 * JOB_FAILS_IMAGE failing instead of completing.
 */
function kwokStages(): string {
  const stages = [
    podStage('pod-ready', [NOT_DELETED, { key: '.status.podIP', operator: 'DoesNotExist' }, image('NotIn', [NEVER_READY_IMAGE])], { statusTemplate: startedStatus(true) }),
    podStage('pod-never-ready', [NOT_DELETED, { key: '.status.podIP', operator: 'DoesNotExist' }, image('In', [NEVER_READY_IMAGE])], { statusTemplate: startedStatus(false) }),
    podStage('pod-complete', [NOT_DELETED, RUNNING, OF_A_JOB, image('NotIn', [NEVER_READY_IMAGE, JOB_FAILS_IMAGE])], { statusTemplate: endedStatus(true) }),
    podStage('pod-job-fails', [NOT_DELETED, RUNNING, OF_A_JOB, image('In', [JOB_FAILS_IMAGE])], { statusTemplate: endedStatus(false) }),
    podStage('pod-delete', [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }], { finalizers: { empty: true }, delete: true }),
  ];
  return stages.map((stage) => YAML.stringify(stage, { lineWidth: 0 })).join('---\n');
}

const NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: 'kwok-node-0',
    annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
    labels: { 'kubernetes.io/hostname': 'kwok-node-0', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
  },
  status: {
    allocatable: { cpu: '32', memory: '256Gi', pods: '250' },
    capacity: { cpu: '32', memory: '256Gi', pods: '250' },
  },
};

/**
 * Starts a control plane in a fresh temporary folder and waits until the API answers, the
 * default namespace has its ServiceAccount (so pods can be created) and the kwok node is Ready.
 */
export async function startControlPlane(binDir: string): Promise<ControlPlane> {
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-control-plane-'));
  const procs: Proc[] = [];
  const bin = (name: string) => path.join(binDir, name);
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;

  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  fs.writeFileSync(path.join(dir, 'sa.key'), privateKey, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'sa.pub'), publicKey);
  const token = randomBytes(24).toString('hex');
  fs.writeFileSync(path.join(dir, 'tokens.csv'), `${token},homelab-test-admin,homelab-test-admin,"system:masters"\n`, { mode: 0o600 });
  const kubeconfig = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'homelab-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'homelab-test', context: { cluster: 'homelab-test', user: 'admin' } }],
      'current-context': 'homelab-test',
    }),
    { mode: 0o600 },
  );
  fs.writeFileSync(path.join(dir, 'kwok.yaml'), kwokStages());

  const start = (name: string, args: string[]) => {
    const log = path.join(dir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    const child = spawn(bin(name), args, { stdio: ['ignore', out, out], detached: false });
    fs.closeSync(out);
    procs.push({ name, child, log });
  };
  const stop = async () => {
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    }
    const deadline = Date.now() + 10_000;
    for (const p of procs) {
      while (p.child.exitCode === null && p.child.signalCode === null && Date.now() < deadline) await sleep(50);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const failed = (what: string) => {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    const name = dead?.name ?? procs[procs.length - 1]?.name;
    const log = name ? fs.readFileSync(path.join(dir, `${name}.log`), 'utf8').split('\n').slice(-15).join('\n') : '';
    return new Error(`control plane: ${what}${dead ? ` (${dead.name} exited ${dead.child.exitCode ?? dead.child.signalCode})` : ''}\n${log}`);
  };
  const kubectl = (...args: string[]) =>
    spawnSync(bin('kubectl'), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', timeout: 30_000 });
  const waitFor = async (what: string, seconds: number, ok: () => boolean) => {
    const deadline = Date.now() + seconds * 1000;
    while (!ok()) {
      if (procs.some((p) => p.child.exitCode !== null || p.child.signalCode !== null)) throw failed(what);
      if (Date.now() > deadline) throw failed(`${what}: not within ${seconds} s`);
      await sleep(250);
    }
  };

  try {
    start('etcd', [
      '--name=homelab-test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=homelab-test=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls=',
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    start('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'certs')}`,
      `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      // Service addresses are only allocated in this cluster, never routed: no traffic leaves loopback.
      '--service-cluster-ip-range=100.64.0.0/16',
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--v=0',
    ]);
    await waitFor('kube-apiserver ready', 120, () => kubectl('get', '--raw', '/readyz').status === 0);
    // Both talk to the API server as the admin, elect no leader (one of each) and serve nothing.
    const client = [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--v=0',
    ];
    start('kube-controller-manager', [
      ...client,
      `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
      '--use-service-account-credentials=false',
      '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller',
    ]);
    start('kube-scheduler', client);
    start('kwok', [
      `--kubeconfig=${kubeconfig}`,
      `--config=${path.join(dir, 'kwok.yaml')}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--node-ip=127.0.0.1',
      // The node's heartbeat is a Lease, as a kubelet's: without it the node lifecycle controller
      // finds the node silent after about 50 s and marks every pod on it not Ready.
      '--node-lease-duration-seconds=40',
      // Pod addresses are written into pod status only, never routed.
      '--cidr=100.65.0.0/16',
      '--server-address=',
    ]);
    const nodeFile = path.join(dir, 'node.json');
    fs.writeFileSync(nodeFile, JSON.stringify(NODE));
    const created = kubectl('create', '-f', nodeFile);
    if (created.status !== 0) throw failed(`creating the kwok node: ${created.stderr.trim()}`);
    await waitFor('kwok node Ready', 60, () => {
      const r = kubectl('get', 'node', NODE.metadata.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}');
      return r.status === 0 && r.stdout.trim() === 'True';
    });
    await waitFor('default ServiceAccount', 60, () => kubectl('get', 'serviceaccount', 'default', '-n', 'default').status === 0);
    const version = JSON.parse(kubectl('version', '-o', 'json').stdout || '{}').serverVersion?.gitVersion ?? '?';
    return { kubeconfig, binDir, server, version, startSeconds: (Date.now() - t0) / 1000, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
