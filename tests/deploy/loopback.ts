import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP load balancer on 127.0.0.1, standing in for the reverse proxy (Traefik,
 * Caddy, nginx) a real host puts in front of a replicated service. With host networking
 * each replica binds its own port from a range; the balancer health-checks every port of
 * the range every `intervalMs` and sends each request to the next healthy one. Like
 * nginx's default (`proxy_next_upstream error timeout` for idempotent requests), a GET that
 * fails or gets no response header within UPSTREAM_TIMEOUT_MS (connection refused or reset:
 * a replica stopped since the last check; or one that accepted and never answered) is tried
 * on the next healthy replica; an error after that, or a response that is not 200, reaches
 * the client as a failure. A response cut after its header (the replica stopped while
 * answering) cannot be retried by any proxy: the client's connection is cut too, at once.
 *
 * The balancer asks each replica's readiness path (`/ready`, not the `/healthz` the client
 * gets): a replica that is told to stop fails it first and keeps serving while it drains
 * (replicatedOverride), as Kubernetes takes a terminating pod out of its Service's endpoints.
 */
/** How long a replica may take to send its response header before the request goes to the next one. */
const UPSTREAM_TIMEOUT_MS = 2000;

export class LoopbackBalancer {
  private server?: http.Server;
  private timer?: NodeJS.Timeout;
  private readonly healthy = new Set<number>();
  private next = 0;

  constructor(
    private readonly ports: number[],
    private readonly healthPath = READY_PATH,
    private readonly intervalMs = 100,
  ) {}

  async start(): Promise<number> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.server = http.createServer((req, res) => this.forward(req, res, 0));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Ports that answered the last health check. */
  backends(): number[] {
    return [...this.healthy].sort();
  }

  /**
   * A replica that is gone refuses the connection at once, whatever the timeout; the timeout only
   * decides how long a slow answer may take. 2 s (Traefik's and Caddy's active checks wait 5 s):
   * with 500 ms, a machine busy with other tests starved all three replicas' answers at once and
   * the balancer answered 503 although every replica was up.
   */
  private async check(): Promise<void> {
    await Promise.all(
      this.ports.map(async (port) => {
        const ok = await get(port, this.healthPath, 2000).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) this.healthy.add(port);
        else this.healthy.delete(port);
      }),
    );
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, attempt: number): void {
    const pool = this.backends();
    if (pool.length === 0 || attempt >= this.ports.length) {
      res.writeHead(503).end('no healthy backend\n');
      return;
    }
    const port = pool[this.next++ % pool.length];
    const upstream = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, agent: false, timeout: UPSTREAM_TIMEOUT_MS }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      // pipe() leaves `res` open when `up` breaks: without this the client waited for its own timeout.
      up.on('aborted', () => res.destroy());
      up.on('error', () => res.destroy());
    });
    let answered = false;
    upstream.on('response', () => (answered = true));
    // Node only reports the idle socket; ending the request makes it an error, retried below like a refusal.
    upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered && !res.headersSent && (req.method === 'GET' || req.method === 'HEAD')) {
        this.healthy.delete(port);
        this.forward(req, res, attempt + 1);
      } else if (!res.headersSent) {
        res.writeHead(502).end(`upstream ${port}: ${error.code ?? error.message}\n`);
      } else {
        res.destroy();
      }
    });
    upstream.end();
  }
}

export interface LoadResult {
  sent: number;
  failed: number;
  /** Failure reasons and how often each happened. */
  reasons: Record<string, number>;
  /** Bodies seen (e.g. "ok v1", "ok v2") and how often. */
  bodies: Record<string, number>;
}

/**
 * How long the client waits for an answer: as long as a browser or an uptime monitor would, and
 * longer than the balancer may spend trying one replica after another (UPSTREAM_TIMEOUT_MS for each
 * port of the range). With 5 s, a request counted as downtime (one of 851 in a full CI run on a
 * busy machine) before the balancer had finished trying the other replicas.
 */
const CLIENT_TIMEOUT_MS = 30_000;

/**
 * Sends GET requests to 127.0.0.1:<port><path> from `concurrency` loops, one new
 * connection per request, until stop() is called. A request fails on any error or a
 * status other than 200.
 */
export function loadClient(
  port: number,
  urlPath = '/healthz',
  concurrency = 2,
  pauseMs = 5,
): { stop: () => Promise<LoadResult>; answered: (count: number, deadlineMs?: number) => Promise<void> } {
  const result: LoadResult = { sent: 0, failed: 0, reasons: {}, bodies: {} };
  let running = true;
  /** Requests that have had their answer (or failed): what `answered` waits on. */
  let done = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      result.sent += 1;
      try {
        const r = await get(port, urlPath, CLIENT_TIMEOUT_MS);
        if (r.status !== 200) fail(`HTTP ${r.status}`);
        else result.bodies[r.body.trim()] = (result.bodies[r.body.trim()] ?? 0) + 1;
      } catch (error) {
        fail((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      }
      done += 1;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  function fail(reason: string) {
    result.failed += 1;
    result.reasons[reason] = (result.reasons[reason] ?? 0) + 1;
  }
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return result;
    },
    /**
     * Resolves once `count` more requests than when it was called have had their answer (or
     * failed), whatever the machine's speed; rejects after `deadlineMs` saying how many did.
     */
    answered: async (count, deadlineMs = 60_000) => {
      const target = done + count;
      const start = Date.now();
      while (done < target) {
        if (Date.now() - start > deadlineMs) throw new Error(`only ${count - (target - done)} of ${count} requests were answered in ${deadlineMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

function get(port: number, urlPath: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** Where a replica writes the port it bound: a tmpfs of the test override (the root file system is read-only). */
const PORT_DIR = '/run/homelab';
const PORT_FILE = `${PORT_DIR}/port`;
/** The replica's copy of the image's /www, with the readiness file the balancer asks for. */
const WWW = `${PORT_DIR}/www`;
const READY_PATH = '/ready';
/** How long a replica told to stop keeps serving after failing its readiness check: 10 balancer checks. */
const DRAIN_SECONDS = 1;

/**
 * Test-only settings for a replicated service of the test image: each replica binds the
 * first free port of `ports` on 127.0.0.1 (host networking: replicas cannot share one),
 * writes it to a file on its own tmpfs (PORT_FILE), and its health check asks that port.
 *
 * On SIGTERM (deploy stopping an old replica) it drains as a well-behaved server behind a
 * proxy does: it removes its readiness file, keeps answering for DRAIN_SECONDS while the
 * balancer takes it out of the rotation, then stops. busybox httpd alone dies on the spot and
 * cuts a request it is answering, which no proxy can retry and no deploy tool can prevent
 * (docs/deploy.md, "Zero downtime needs somewhere to send the traffic").
 */
export function replicatedOverride(ports: number[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const loop = [
    `mkdir -p ${WWW} && cp /www/* ${WWW}/ && echo ready > ${WWW}${READY_PATH}`,
    `trap 'rm -f ${WWW}${READY_PATH}; sleep ${DRAIN_SECONDS}; kill $$pid; exit 0' TERM`,
    // `wait` returns when a trapped signal arrives (POSIX), where a foreground httpd would not.
    `for p in ${ports.join(' ')}; do echo $$p > ${PORT_FILE}; httpd -f -p 127.0.0.1:$$p -h ${WWW} & pid=$$!; wait $$pid; done`,
    'exit 1',
  ].join('; ');
  return {
    network_mode: 'host',
    init: true,
    command: ['sh', '-c', loop],
    tmpfs: [PORT_DIR],
    // Docker runs each check through an exec, which on 2 cores busy with the rest of the suite took
    // over 2 s three times running: a healthy replica was marked unhealthy mid-update and the deploy
    // rolled back. A replica is healthy at its first answer, so a wider margin costs nothing.
    healthcheck: { test: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:$$(cat ${PORT_FILE})/healthz`], interval: '1s', timeout: '5s', retries: 5, start_period: '10s' },
    stop_grace_period: '2s',
    ...extra,
  };
}
