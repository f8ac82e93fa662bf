import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempWorkspace, nx } from '../../scripts/lib/temp-workspace';
import { diskHost } from '../../tools/homelab/src/host';
import { parseAppSpec, stringifyAppSpec } from '../../tools/homelab/src/spec/io';
import type { FullAppSpec } from '../../tools/homelab/src/spec/types';
import type { Finding } from '../../tools/homelab/src/validate/findings';
import { validateProject } from '../../tools/homelab/src/validate/project';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { stackSpec, STACKS_DIR, writeSpec } from '../support/spec';
import { requireTool } from '../support/tools';
import { removeDir } from '../support/workspace';

/**
 * validate on the full form: a workspace holding every census stack (tests/support/fixtures/stacks)
 * passes `nx run-many -t validate` (the real nx, kubectl and docker compose) without an error;
 * each security opt-in and each hostPath reason shows as a warning quoting its reason, for its
 * service only; cron services are merged and checked; parity covers every service. CI never
 * skips this file (tests/support/tools.ts).
 */
const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

const CENSUS = fs
  .readdirSync(STACKS_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => stackSpec(f.replace(/\.yaml$/, '')) as FullAppSpec);

/** Every reason the census specs record: security opt-ins (capabilities included) of services, init containers and sidecars, and hostPath volumes. */
function recordedReasons(spec: FullAppSpec): string[] {
  const containers = Object.values(spec.services).flatMap((s) => [s, ...(s.initContainers ?? []), ...Object.values(s.sidecars ?? {})]);
  const security = containers.flatMap(({ security }) => [
    // defaultCapabilities turns no rule off (policy/capabilities judges what is added), so no warning quotes it.
    ...[security?.runAsRoot, security?.imageUser, security?.writableRootFilesystem, security?.privileged, security && 'hostNetwork' in security ? security.hostNetwork : undefined],
    ...Object.values(security?.capabilities ?? {}),
  ]);
  const volumes = Object.values(spec.volumes ?? {}).map((v) => ('hostPath' in v ? v.reason : undefined));
  return [...security, ...volumes].filter((r): r is string => r !== undefined);
}

const override = (app: string, env = 'dev') => `applications/compose/environments/${env}/${app}/compose.override.yaml`;
/** The scaffolded override lists each service as `  <service>: {}`: give one a body. */
const withBody = (text: string, service: string, body: string) => {
  expect(text).toContain(`  ${service}: {}\n`);
  return text.replace(`  ${service}: {}\n`, `  ${service}:\n${body}`);
};

describe.skipIf(kubectl.skip || compose.skip)('validate on a workspace of every census stack', () => {
  let root: string;
  const file = (rel: string) => path.join(root, rel);

  /** Changes files, validates one app in-process (what the executor runs), and restores them. */
  function withChange(app: string, changes: Record<string, (text: string) => string>): Finding[] {
    const saved = Object.fromEntries(Object.keys(changes).map((rel) => [rel, fs.readFileSync(file(rel), 'utf8')]));
    try {
      for (const [rel, change] of Object.entries(changes)) fs.writeFileSync(file(rel), change(saved[rel]));
      return validateProject(root, 'applications', app);
    } finally {
      for (const [rel, text] of Object.entries(saved)) fs.writeFileSync(file(rel), text);
    }
  }
  const errors = (findings: Finding[]) => findings.filter((f) => f.severity === 'error');

  beforeAll(() => {
    root = createTempWorkspace('homelab-validate-full-form-');
    const host = diskHost(root);
    for (const spec of CENSUS) writeSpec(host, spec);
    syncAll(host);
  }, 120_000);
  afterAll(() => removeDir(root));

  it('passes nx run-many -t validate with no error, each opt-in a warning that quotes its reason', () => {
    const result = nx(root, ['run-many', '-t', 'validate', '--skip-nx-cache', '--outputStyle=static'], { allowFailure: true, env: { NX_ISOLATE_PLUGINS: 'false', FORCE_COLOR: '0', NO_COLOR: '1' } });
    const output = result.stdout + result.stderr;
    const findings = output.split('\n').filter((line) => /^\S+:\d+:\d+ {2}\S+ {2}/.test(line.trim()));

    expect(result.status, output).toBe(0);
    for (const spec of CENSUS) expect(output).toMatch(new RegExp(`^${spec.name}: valid`, 'm'));
    expect(findings.filter((line) => !line.endsWith('[warning]')), output).toEqual([]);
    const reasons = CENSUS.flatMap(recordedReasons);
    expect(reasons.length).toBeGreaterThan(10);
    for (const reason of reasons) expect(findings.some((line) => line.includes(`(${reason}) [warning]`)), `no warning quotes "${reason}"`).toBe(true);
    // The scheduler's fixed exceptions are quiet (docs/validate.md): recorded by homelab, not repeated as warnings.
    expect(output).not.toContain('service scheduler mounts the Docker socket');
  }, 600_000);

  it('still refuses a service that runs as root without an opt-in, though another service of the app has one', () => {
    const findings = withChange('files', { [override('files')]: (t) => withBody(t, 'cache', '    user: "0:0"\n') });

    expect(errors(findings).map((f) => `${f.file} ${f.rule} ${f.message}`)).toEqual([`${override('files')} policy/run-as-non-root service cache runs as root; set user: "65532:65532" or another non-root uid`]);
    // The app service's own opt-in still covers it, as a warning.
    expect(findings.some((f) => f.rule === 'policy/run-as-non-root' && f.severity === 'warning' && f.message.startsWith('service app runs as root: allowed by services.app.security.runAsRoot'))).toBe(true);
  });

  it('refuses an init container that runs as root without its own opt-in, though its service and the init container before it have one', () => {
    const findings = withChange('files', { [override('files')]: (t) => withBody(t, 'app-write-config', '    user: "0:0"\n') });

    expect(errors(findings).map((f) => `${f.file} ${f.rule} ${f.message}`)).toEqual([`${override('files')} policy/run-as-non-root service app-write-config runs as root; set user: "65532:65532" or another non-root uid`]);
    // The init container that opted in is a warning quoting its own reason, on both platforms.
    const warnings = findings.filter((f) => f.rule === 'policy/run-as-non-root' && f.severity === 'warning').map((f) => f.message);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^service app-fix-permissions runs as root: allowed by services\.app\.initContainers\[0\]\.security\.runAsRoot in the spec \(the data volume is created owned by root/),
        expect.stringMatching(/^container fix-permissions of StatefulSet app may run as root: allowed by services\.app\.initContainers\[0\]\.security\.runAsRoot in the spec/),
      ]),
    );
  });

  it('refuses a sidecar that breaks a rule without its own opt-in, and shows the rule it opted out of as a warning quoting its reason', () => {
    const findings = withChange('media', { [override('media')]: (t) => withBody(t, 'server-exporter', '    cap_add: [NET_RAW]\n') });

    expect(errors(findings).map((f) => `${f.file} ${f.rule} ${f.message}`)).toEqual([
      `${override('media')} policy/capabilities service server-exporter adds the capability NET_RAW; drop it, or record why in the spec (security.capabilities.NET_RAW: <reason>)`,
    ]);
    const reason = 'the exporter keeps its cache of metric names beside its binary';
    // Once for the Kubernetes base, and on Compose once per environment's merged file.
    const warnings = new Set(findings.filter((f) => f.rule === 'policy/read-only-root-fs' && f.severity === 'warning').map((f) => f.message));
    expect([...warnings].sort()).toEqual([
      `container exporter of StatefulSet server has a writable root filesystem: allowed by services.server.sidecars.exporter.security.writableRootFilesystem in the spec (${reason})`,
      `service server-exporter has a writable root filesystem: allowed by services.server.sidecars.exporter.security.writableRootFilesystem in the spec (${reason})`,
    ]);
    // A sidecar has no health check of its own: policy/probes does not apply to it on either platform.
    expect(findings.filter((f) => f.rule === 'policy/probes')).toEqual([]);
  });

  it('checks the cron services on Compose (merged with the cron profile)', () => {
    const findings = withChange('files', { [override('files', 'prod')]: (t) => withBody(t, 'cron', '    privileged: true\n') });

    expect(errors(findings).map((f) => `${f.file} ${f.rule}`)).toEqual([`${override('files', 'prod')} policy/privileged`]);
    expect(errors(findings)[0].message).toContain('service cron is privileged');
  });

  it('compares every service of the full form on both platforms, not only one named like the app', () => {
    const findings = withChange('photos', { [override('photos')]: (t) => withBody(t, 'database', '    image: ghcr.io/example-photos/postgres:14-vectorchord0.4.4\n') });

    expect(errors(findings).map((f) => `${f.rule} ${f.message}`)).toEqual([
      'parity/image service database: Compose runs ghcr.io/example-photos/postgres:14-vectorchord0.4.4 but Kubernetes runs ghcr.io/example-photos/postgres:14-vectorchord0.4.3; both come from the spec\'s image, run `npx nx sync` or fix the override',
    ]);
  });

  it('applies policy/probes to a long-running service without a check (health.probe: none), not to jobs, cron services or the scheduler', () => {
    // workflows turns the rule off for its queue worker (probe: none); without that, the worker fails on both platforms.
    const spec = 'applications/specs/workflows.yaml';
    const findings = withChange('workflows', { [spec]: (t) => t.replace(/^policy:\n(?: {2,}.*\n)+/m, '') });
    const probes = errors(findings).filter((f) => f.rule === 'policy/probes');

    expect(probes.map((f) => f.message.split(' has no ')[0]).sort()).toEqual(['container worker of Deployment worker', 'service worker']);
    for (const f of probes) expect(f.message).toMatch(/add (them|one) \(spec\.health in the app spec\), or turn policy\/probes off with a reason in policy\.disable$/);
    expect(errors(findings).filter((f) => f.rule !== 'sync/drift' && f.rule !== 'policy/probes')).toEqual([]);
    // The job (migrate), the cron service and the scheduler (files) have no check and need none.
    expect(errors(validateProject(root, 'applications', 'files'))).toEqual([]);
  });
});

describe('a security opt-in or a hostPath reason without its reason', () => {
  const photos = fs.readFileSync(path.join(STACKS_DIR, 'photos.yaml'), 'utf8');
  const dns = fs.readFileSync(path.join(STACKS_DIR, 'dns-filter.yaml'), 'utf8');

  it.each([
    ['an opt-in with its reason removed', dns.replace('runAsRoot: binds port 53 and drops privileges itself', 'runAsRoot:'), /security\.runAsRoot/],
    ['a capability with an empty reason', dns.replace('NET_ADMIN: its optional DHCP server', 'NET_ADMIN: ""'), /NET_ADMIN/],
    ['a hostPath reason emptied', photos.replace(/reason: "[^"]*"/, 'reason: ""'), /volumes\.localtime\.reason/],
    ['a reason on a volume that is not a host path', photos.replace('db: { size: 10Gi }', 'db: { size: 10Gi, reason: a reason without a host path }'), /volumes\.db/],
  ])('is refused by the schema: %s', (_, text, message) => {
    expect(() => parseAppSpec(text, 'applications/specs/x.yaml')).toThrow(message);
  });

  it('keeps a hostPath volume without a reason valid (validate reports the host path instead)', () => {
    const text = photos.replace(/, reason: "[^"]*"/, '');
    const spec = parseAppSpec(text, 'applications/specs/photos.yaml') as FullAppSpec;

    expect(spec.volumes?.localtime).toEqual({ hostPath: '/etc/localtime', type: 'File' });
    expect(parseAppSpec(stringifyAppSpec(spec), 'applications/specs/photos.yaml')).toEqual(spec);
  });
});
