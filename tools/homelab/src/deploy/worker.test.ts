import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInWorker } from './launch';
import type { DeployRequest } from './request';
import { StateDir } from './state';

/**
 * The deploy worker (a real process, as the executor starts it) next to a deploy in
 * progress: this test process holds the project's lock, as a running deploy does, and has
 * written its log.
 */

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-worker-test-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function request(overrides: Partial<DeployRequest> = {}): DeployRequest {
  return {
    action: 'deploy', root, layer: 'applications', project: 'web', env: 'dev', platform: 'compose',
    dryRun: false, yes: false, replaceUnrecorded: false, volumes: false, settings: { name: 'dev' },
    compose: { volumeOwnerImage: 'busybox:1.37.0' },
    kubernetes: { argocd: true, argocdApp: 'web-dev', argocdNamespace: 'argocd', namespace: 'web-dev' },
    ...overrides,
  };
}

async function worker(req: DeployRequest): Promise<{ status: number; output: string }> {
  const out = new PassThrough();
  let output = '';
  out.on('data', (d: Buffer) => (output += d.toString()));
  const status = await runInWorker(req, { stdout: out, stderr: out, env: { ...process.env, TMPDIR: root } });
  return { status, output };
}

describe('the log of a deploy in progress', () => {
  it('is left alone by a dry run and by a second deploy, which is refused naming it', async () => {
    const state = new StateDir(root, 'dev', 'web');
    const running = state.lock('web (dev)');
    running.log('deploy web -> dev on compose');
    running.log('[apply]    docker compose up -d --wait');
    const log = state.read('last-run.log');
    try {
      const dryRun = await worker(request({ dryRun: true }));
      const second = await worker(request());

      expect(dryRun.output).toContain('deploy web -> dev on compose (dry run: nothing will change)');
      expect(second.status).not.toBe(0);
      expect(second.output).toContain(`error: web (dev): another deploy is running (pid ${process.pid}); wait for it, or follow it in .homelab/state/dev/web/last-run.log`);
      expect(state.read('last-run.log')).toBe(log);
      expect(fs.existsSync(state.file('previous-run.log'))).toBe(false);
    } finally {
      running.release();
    }
  }, 120_000);
});
