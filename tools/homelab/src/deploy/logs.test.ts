import { describe, expect, it } from 'vitest';
import { DeployError } from './errors';
import { checkSince, commonLabels, kubernetesServices, LineMasker, podLogError, secretValues } from './logs';
import type { Manifest } from './kubernetes';
import { makeMasker } from './secrets';

describe('checkSince', () => {
  it.each([
    ['10m', { flag: 'duration', value: '10m' }],
    ['2h', { flag: 'duration', value: '2h' }],
    ['1h30m', { flag: 'duration', value: '1h30m' }],
    ['45s', { flag: 'duration', value: '45s' }],
    ['2026-11-30T10:00:00Z', { flag: 'time', value: '2026-11-30T10:00:00Z' }],
    ['2026-11-30T10:00:00.5+01:00', { flag: 'time', value: '2026-11-30T10:00:00.5+01:00' }],
  ])('takes %s, which docker and kubectl both take', (value, expected) => {
    expect(checkSince(value, 'web (dev)')).toEqual(expected);
  });

  it('takes nothing as no limit', () => {
    expect(checkSince(undefined, 'web (dev)')).toBeUndefined();
  });

  it.each(['10 minutes', '10', 'yesterday', '2026-11-30', '1700000000', '2026-13-40T10:00:00Z', '-5m'])('refuses %s in one line naming the value and the forms it takes', (value) => {
    let error: unknown;
    try {
      checkSince(value, 'web (dev)');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).exitCode).toBe(2);
    expect((error as DeployError).message).toBe(`web (dev): --since ${JSON.stringify(value)} is neither a duration nor an RFC 3339 time; use e.g. --since 10m, --since 2h or --since 2026-11-30T10:00:00Z`);
  });
});

describe('LineMasker', () => {
  const SECRET = 'hunter2-secret-value';

  it('masks a value split across chunks, because it writes whole lines only', () => {
    const lines: string[] = [];
    const masker = new LineMasker(makeMasker([SECRET]), (l) => lines.push(l));
    masker.push('web-1  | token=hunter2-se');
    expect(lines).toEqual([]);
    masker.push('cret-value ok\nweb-1  | next');
    expect(lines).toEqual(['web-1  | token=*** ok']);
    masker.end();
    expect(lines).toEqual(['web-1  | token=*** ok', 'web-1  | next']);
  });

  it('masks the longest value first, so a value that holds another leaves nothing of either', () => {
    const lines: string[] = [];
    const masker = new LineMasker(makeMasker(['abcd', 'abcdefgh-long']), (l) => lines.push(l));
    masker.push('x abcdefgh-long y abcd z\n');
    expect(lines).toEqual(['x *** y *** z']);
  });

  it("drops Compose's erase-line sequence and carriage returns", () => {
    const lines: string[] = [];
    const masker = new LineMasker((t) => t, (l) => lines.push(l));
    masker.push('\x1b[2Kweb-1  | hello\r\n');
    expect(lines).toEqual(['web-1  | hello']);
  });
});

describe('kubernetesServices', () => {
  const workload = (kind: string, name: string, labels: Record<string, string>): Manifest =>
    ({ apiVersion: 'apps/v1', kind, metadata: { name }, spec: kind === 'CronJob' ? { jobTemplate: { spec: { template: { metadata: { labels } } } } } : { template: { metadata: { labels } } } }) as Manifest;

  it("names each workload as the spec names its service, with its pods' labels", () => {
    const docs = [
      workload('Deployment', 'photos-server', { 'app.kubernetes.io/name': 'photos', 'app.kubernetes.io/component': 'server' }),
      workload('StatefulSet', 'photos-database', { 'app.kubernetes.io/name': 'photos', 'app.kubernetes.io/component': 'database' }),
      workload('CronJob', 'photos-cleanup', { 'app.kubernetes.io/name': 'photos', 'app.kubernetes.io/component': 'cleanup' }),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'photos-server' } } as Manifest,
    ];
    expect(kubernetesServices(docs).map((s) => s.name)).toEqual(['server', 'database', 'cleanup']);
    expect(kubernetesServices(docs)[1].labels).toEqual({ 'app.kubernetes.io/name': 'photos', 'app.kubernetes.io/component': 'database' });
  });

  it('names the one workload of the shorthand after itself', () => {
    expect(kubernetesServices([workload('Deployment', 'web', { 'app.kubernetes.io/name': 'web' })]).map((s) => s.name)).toEqual(['web']);
  });
});

describe('commonLabels', () => {
  it("selects every pod of the app: the labels all its workloads' pods share", () => {
    const services = [
      { name: 'server', labels: { 'app.kubernetes.io/name': 'photos', 'app.kubernetes.io/component': 'server' } },
      { name: 'database', labels: { 'app.kubernetes.io/name': 'photos', 'app.kubernetes.io/component': 'database' } },
    ];
    expect(commonLabels(services, 'photos')).toEqual({ 'app.kubernetes.io/name': 'photos' });
  });

  it("falls back to the app's name label when the workloads share none", () => {
    expect(commonLabels([{ name: 'a', labels: { x: '1' } }, { name: 'b', labels: { y: '2' } }], 'photos')).toEqual({ 'app.kubernetes.io/name': 'photos' });
  });
});

describe('secretValues', () => {
  it("decodes every Secret's data and keeps stringData as it is", () => {
    const list = { items: [{ data: { A: Buffer.from('first-value').toString('base64') } }, { stringData: { B: 'second-value' } }, {}] };
    expect(secretValues(JSON.stringify(list))).toEqual(['first-value', 'second-value']);
  });

  it('reads nothing from output that is not JSON', () => {
    expect(secretValues('error: forbidden')).toEqual([]);
  });
});

describe('podLogError', () => {
  it("names the pod, its container and why, from kubectl's --ignore-errors line", () => {
    const line = 'error: Get "https://127.0.0.1:10250/containerLogs/web-dev/web-5d8-x2/web?tailLines=10": dial tcp 127.0.0.1:10250: connect: connection refused';
    expect(podLogError(line)).toBe('pod web-5d8-x2 (container web): its node did not serve its logs: dial tcp 127.0.0.1:10250: connect: connection refused');
  });

  it('leaves any other line alone', () => {
    expect(podLogError('web-5d8-x2/web  hello')).toBeNull();
  });
});
