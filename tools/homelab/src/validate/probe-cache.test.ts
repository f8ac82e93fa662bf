import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onPath } from '../tool-env';
import { cachedAnswer, dockerComposePluginFiles } from './probe-cache';

/**
 * The answers are those of small shell scripts put first on PATH, each logging its runs: what is
 * under test is when a tool is asked again, whatever the tool.
 */
describe('answers of tools kept between processes', () => {
  const saved = { PATH: process.env.PATH, HOMELAB_CACHE_DIR: process.env.HOMELAB_CACHE_DIR };
  let dir: string;
  let bin: string;
  let log: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-probes-'));
    bin = path.join(dir, 'bin');
    log = path.join(dir, 'runs.log');
    fs.mkdirSync(bin);
    process.env.PATH = `${bin}${path.delimiter}${saved.PATH}`;
    process.env.HOMELAB_CACHE_DIR = path.join(dir, 'cache');
  });
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.HOMELAB_CACHE_DIR === undefined) delete process.env.HOMELAB_CACHE_DIR;
    else process.env.HOMELAB_CACHE_DIR = saved.HOMELAB_CACHE_DIR;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A tool named `name` on PATH that logs each run and prints `output` (or fails with `status`). */
  function tool(name: string, output: string, status = 0): string {
    const file = path.join(bin, name);
    fs.writeFileSync(file, `#!/bin/sh\necho "$0 $*" >> '${log}'\nprintf '%s' '${output}'\nexit ${status}\n`, { mode: 0o755 });
    return file;
  }
  const runs = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').length : 0);

  it('asks a tool once, then answers from the cache in later calls and processes', () => {
    tool('kubectl', '{"kustomizeVersion":"v5.5.0"}');

    expect(cachedAnswer('kubectl', ['version', '--client', '-o', 'json'])).toBe('{"kustomizeVersion":"v5.5.0"}');
    expect(cachedAnswer('kubectl', ['version', '--client', '-o', 'json'])).toBe('{"kustomizeVersion":"v5.5.0"}');
    expect(runs()).toBe(1);
    // Other arguments are another question.
    expect(cachedAnswer('kubectl', ['version'])).toBe('{"kustomizeVersion":"v5.5.0"}');
    expect(runs()).toBe(2);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'cache', 'probes.json'), 'utf8')))).toHaveLength(2);
  });

  it('asks again once the executable is replaced, and when a file the answer depends on appears', () => {
    tool('kubectl', 'v1');
    const plugin = path.join(dir, 'docker-compose');
    expect(cachedAnswer('kubectl', ['version'], [plugin])).toBe('v1');

    tool('kubectl', 'v2, upgraded');
    expect(cachedAnswer('kubectl', ['version'], [plugin])).toBe('v2, upgraded');
    fs.writeFileSync(plugin, 'a plugin');
    expect(cachedAnswer('kubectl', ['version'], [plugin])).toBe('v2, upgraded');
    expect(runs()).toBe(3);
  });

  it('keeps a failing answer (the tool is there but refuses) and gives null for a tool that is not installed', () => {
    tool('docker', 'docker: unknown command: docker compose', 1);

    expect(cachedAnswer('docker', ['compose', 'version'])).toBeNull();
    expect(cachedAnswer('docker', ['compose', 'version'])).toBeNull();
    expect(runs()).toBe(1);
    expect(cachedAnswer('homelab-no-such-tool', ['version'])).toBeNull();
    expect(onPath('homelab-no-such-tool')).toBeNull();
    // A path with a slash is taken as it is, when it is an executable file.
    expect(onPath('docker')).toBe(path.join(bin, 'docker'));
    expect(onPath(path.join(bin, 'docker'))).toBe(path.join(bin, 'docker'));
    fs.writeFileSync(path.join(bin, 'not-executable'), '', { mode: 0o644 });
    expect(onPath(path.join(bin, 'not-executable'))).toBeNull();
  });

  it('asks the tool when the cache file does not read, and writes it anew', () => {
    tool('kubectl', 'v1');
    fs.mkdirSync(path.join(dir, 'cache'));
    fs.writeFileSync(path.join(dir, 'cache', 'probes.json'), '{ not json');

    expect(cachedAnswer('kubectl', ['version'])).toBe('v1');
    expect(cachedAnswer('kubectl', ['version'])).toBe('v1');
    expect(runs()).toBe(1);
  });

  it("keys docker compose's answer on Docker's plugin folders and its config file", () => {
    const files = dockerComposePluginFiles({ HOME: '/home/owner' });
    expect(files).toContain('/home/owner/.docker/config.json');
    expect(files).toContain('/home/owner/.docker/cli-plugins/docker-compose');
    expect(files).toContain('/usr/libexec/docker/cli-plugins/docker-compose');
    expect(dockerComposePluginFiles({ DOCKER_CONFIG: '/etc/docker-client' })[0]).toBe('/etc/docker-client/config.json');
  });
});
