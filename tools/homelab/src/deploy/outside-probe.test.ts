import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerInfo } from './docker';
import { DeployError } from './errors';
import { containerAddress, engineIsLocal, probeFromOutside } from './outside-probe';
import { Reporter } from './progress';

/** A real HTTP server on 127.0.0.1 stands in for the container: the probe is a real GET. */
let server: http.Server;
let port = 0;
let requests = 0;
/** Status codes to answer, in order; the last one repeats. */
let answers: number[] = [200];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const status = answers[Math.min(requests, answers.length - 1)];
    requests += 1;
    res.writeHead(status).end(req.url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function container(labels: Record<string, string>, overrides: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: 'c1',
    name: 'whoami-dev-whoami-1',
    service: 'whoami',
    status: 'running',
    running: true,
    restarting: false,
    exitCode: 0,
    restartCount: 0,
    configHash: 'h',
    imageLabel: 'sha256:x',
    finishedAt: '',
    image: 'sha256:x',
    imageRef: 'traefik/whoami:v1.10.4',
    labels,
    networkMode: 'host',
    addresses: [],
    ...overrides,
  };
}
/** A port on 127.0.0.1 that nothing listens on: one the system gave out and took back. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const free = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return free;
}

const outside = (p: number, path = '/', start = '0s') => ({ 'homelab.health.probe': 'outside', 'homelab.health.port': String(p), 'homelab.health.path': path, 'homelab.health.start-period': start });
const reporter = () => {
  const lines: string[] = [];
  return { lines, report: new Reporter((l) => lines.push(l)) };
};

describe('probeFromOutside', () => {
  it('GETs the health path from this machine and reports what answered', async () => {
    answers = [200];
    const { lines, report } = reporter();

    const probed = await probeFromOutside([container(outside(port, '/ready?x=1'))], report, true);

    expect(probed.get('c1')).toBe(`GET http://127.0.0.1:${port}/ready?x=1 -> 200, probed from outside the container`);
    expect(lines.join('\n')).toMatch(new RegExp(`\\[health\\] +whoami-dev-whoami-1: GET http://127\\.0\\.0\\.1:${port}/ready\\?x=1 -> 200`));
  });

  it('keeps probing while the app starts (5xx), until it answers 2xx or 3xx', async () => {
    answers = [503, 503, 302];
    requests = 0;

    const probed = await probeFromOutside([container(outside(port))], reporter().report, true, () => false, 10);

    expect(requests).toBe(3);
    expect(probed.get('c1')).toContain('-> 302');
  });

  it('fails with one line naming the container, the URL and the last answer when nothing healthy answers in time', async () => {
    answers = [500];
    const error = await probeFromOutside([container(outside(port))], reporter().report, true, () => false, 1).catch((e: Error) => e);

    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toBe(
      `container whoami-dev-whoami-1 did not answer GET http://127.0.0.1:${port}/ from outside the container within 1s (last: 500); health.probe outside`,
    );
  });

  it('names the connection error when nothing listens', async () => {
    const free = await freePort();

    const error = await probeFromOutside([container(outside(free))], reporter().report, true, () => false, 1).catch((e: Error) => e);

    expect((error as Error).message).toContain('(last: ECONNREFUSED)');
  });

  it('leaves containers without the outside labels to Docker', async () => {
    expect((await probeFromOutside([container({ 'homelab.app': 'x' })], reporter().report, true)).size).toBe(0);
  });

  it.each(['healthy', 'starting', 'unhealthy'])('leaves a container Docker checks itself (%s, a healthcheck added by an override) to that check', async (health) => {
    const free = await freePort();

    // Nothing listens on the labelled port: a probe would fail the deploy.
    const probed = await probeFromOutside([container(outside(free), { health })], reporter().report, true, () => false, 1);

    expect(probed.size).toBe(0);
  });

  it('says a container of a remote engine is not checked, instead of failing the deploy', async () => {
    const { lines, report } = reporter();

    const probed = await probeFromOutside([container(outside(port))], report, false);

    expect(probed.size).toBe(0);
    expect(lines).toEqual(['warning:   whoami-dev-whoami-1: health.probe outside is checked from this machine, which cannot reach containers of a remote Docker engine; not checked']);
  });

  it('refuses labels that name no port', async () => {
    const error = await probeFromOutside([container({ ...outside(port), 'homelab.health.port': 'http' })], reporter().report, true).catch((e: Error) => e);

    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toBe('container whoami-dev-whoami-1: label homelab.health.port "http" is not a port; set it to the port the app answers HTTP on');
  });
});

describe('probeFromOutside with a TCP probe (homelab.health.kind: tcp)', () => {
  /** A real TCP listener on 127.0.0.1 that speaks no HTTP stands in for a database or a broker. */
  const tcp = (p: number, start = '0s') => ({ 'homelab.health.probe': 'outside', 'homelab.health.kind': 'tcp', 'homelab.health.port': String(p), 'homelab.health.start-period': start });
  let listener: net.Server;
  let tcpPort = 0;
  let accepted = 0;
  beforeAll(async () => {
    listener = net.createServer((socket) => {
      accepted += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    tcpPort = (listener.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  it('connects to the port from this machine and reports it open, sending no HTTP request', async () => {
    const { lines, report } = reporter();
    const before = requests;

    const probed = await probeFromOutside([container(tcp(tcpPort))], report, true);

    expect(probed.get('c1')).toBe(`TCP ${tcpPort} open, probed from outside the container`);
    expect(lines.join('\n')).toMatch(new RegExp(`\\[health\\] +whoami-dev-whoami-1: TCP ${tcpPort} open, probed from outside the container after`));
    expect(accepted).toBeGreaterThan(0);
    expect(requests).toBe(before);
  });

  it('keeps connecting while the app starts, until the port is open', async () => {
    const late = await freePort();
    const server = net.createServer((socket) => socket.destroy());
    const opening = setTimeout(() => server.listen(late, '127.0.0.1'), 1200);
    try {
      const probed = await probeFromOutside([container(tcp(late))], reporter().report, true, () => false, 10);

      expect(probed.get('c1')).toBe(`TCP ${late} open, probed from outside the container`);
    } finally {
      clearTimeout(opening);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('fails with one line naming the container, the address and the refusal when nothing listens', async () => {
    const free = await freePort();

    const error = await probeFromOutside([container(tcp(free))], reporter().report, true, () => false, 1).catch((e: Error) => e);

    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toBe(`container whoami-dev-whoami-1 did not answer a TCP connect to 127.0.0.1:${free} from outside the container within 1s (last: ECONNREFUSED); health.probe outside`);
  });
});

describe('containerAddress', () => {
  it.each([
    ['host networking', { networkMode: 'host', addresses: [] }, '127.0.0.1'],
    ['a bridge network', { networkMode: 'whoami-dev_default', addresses: ['172.18.0.2'] }, '172.18.0.2'],
    ['no network', { networkMode: 'none', addresses: [] }, null],
  ])('uses %s', (_label, overrides, expected) => {
    expect(containerAddress(container({}, overrides))).toBe(expected);
  });
});

describe('engineIsLocal', () => {
  it.each([
    [undefined, {}, true],
    ['default', {}, true],
    [undefined, { DOCKER_HOST: 'unix:///var/run/docker.sock' }, true],
    ['lab', {}, false],
    [undefined, { DOCKER_CONTEXT: 'lab' }, false],
    [undefined, { DOCKER_HOST: 'ssh://me@lab' }, false],
    [undefined, { DOCKER_HOST: 'tcp://lab:2376' }, false],
  ])('context %s with %j: %s', (context, env, expected) => {
    expect(engineIsLocal(context, env)).toBe(expected);
  });
});
