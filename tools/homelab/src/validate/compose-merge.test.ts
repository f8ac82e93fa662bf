import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeComposeInProcess } from './compose-merge';
import { inValidateRun } from './run-memo';

// The merge against the real `docker compose config` is tests/validate/compose-merge.integration.test.ts; here, its refusals and normalisations without Docker.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-cmerge-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function merge(...texts: string[]) {
  const files = texts.map((text, i) => {
    const file = path.join(dir, `${n++}`, i === 2 ? 'compose.override.yaml' : `f${i}.yaml`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  });
  return mergeComposeInProcess(files);
}

const BASE = 'name: a\nservices:\n  a:\n    image: x:1\n';

describe('mergeComposeInProcess', () => {
  it('prints sizes in bytes, CPUs as numbers, ports long, depends_on with required, the default network and prefixed names', () => {
    const result = merge(
      `${BASE}    expose: [80]\n    ports: ["127.0.0.1:8080:80/udp"]\n    depends_on: [b]\n    deploy: {resources: {limits: {memory: 1g, cpus: "1.5"}}}\n    volumes: [{type: volume, source: data, target: /data}]\n  b:\n    image: y\n    network_mode: none\nvolumes:\n  data:\n`,
      'name: a-dev\nservices:\n  a:\n    labels: {k: v}\n',
    );
    expect(result).toStrictEqual({
      ok: true,
      doc: {
        name: 'a-dev',
        services: {
          a: {
            image: 'x:1',
            expose: ['80'],
            ports: [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'udp' }],
            depends_on: { b: { condition: 'service_started', required: true } },
            deploy: { resources: { limits: { memory: '1073741824', cpus: 1.5 } } },
            volumes: [{ type: 'volume', source: 'data', target: '/data' }],
            labels: { k: 'v' },
            networks: { default: null },
          },
          b: { image: 'y', network_mode: 'none' },
        },
        networks: { default: { name: 'a-dev_default' } },
        volumes: { data: { name: 'a-dev_data' } },
      },
    });
  });

  it.each([
    { what: 'extends', text: `${BASE}    extends: {service: b}\n`, reason: 'service key extends' },
    { what: 'include', text: `include: [other.yaml]\n${BASE}`, reason: 'top-level key include' },
    { what: 'a variable', text: `${BASE}    user: $USER\n`, reason: 'interpolates $USER' },
    { what: 'an env_file of its own', text: `${BASE}    env_file: [app.env]\n`, reason: 'service a: env_file' },
    { what: 'a relative bind mount', text: `${BASE}    volumes: [{type: bind, source: ./data, target: /data}]\n`, reason: 'service a: a bind mount' },
    { what: 'a duration Compose prints otherwise', text: `${BASE}    stop_grace_period: 90s\n`, reason: 'service a: stop_grace_period' },
    { what: 'an undefined network (Compose refuses it: render/compose)', text: `${BASE}    networks: {other: {}}\n`, reason: 'service a: undefined network other' },
    { what: 'an undefined volume', text: `${BASE}    volumes: [{type: volume, source: data, target: /data}]\n`, reason: 'service a: undefined volume data' },
    { what: 'an undefined dependency', text: `${BASE}    depends_on: [b]\n`, reason: 'service a: undefined service b' },
    { what: 'a label that is not a string', text: `${BASE}    labels: {port: 80}\n`, reason: 'service a: labels' },
  ])('falls back on $what', ({ text, reason }) => {
    expect(merge(text)).toStrictEqual({ ok: false, reason });
  });

  it('falls back on a compose.override.yaml that is not the scaffold, and merges the scaffold', () => {
    expect(merge(BASE, 'services:\n  a: {}\n', 'services:\n  a: {}\n').ok).toBe(true);
    expect(merge(BASE, 'services:\n  a: {}\n', 'services:\n  a:\n    restart: always\n')).toStrictEqual({ ok: false, reason: 'compose.override.yaml is not the scaffold' });
  });

  it('keeps `$$` as Compose prints it', () => {
    const result = merge(`${BASE}    environment: {P: "pa$$$$word"}\n`);
    expect(result.ok && result.doc.services.a.environment).toStrictEqual({ P: 'pa$$$$word' });
  });
});

describe('a base merged in every environment of a validate run', () => {
  it('is read once in a run, each merge getting its own copy, and read again outside one', () => {
    const base = path.join(dir, 'shared', 'compose.yaml');
    const env = (name: string) => {
      const file = path.join(dir, 'shared', name, 'compose.generated.yaml');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `name: a-${name}\nservices:\n  a:\n    labels: {env: ${name}}\n`);
      return file;
    };
    const [dev, prod] = [env('dev'), env('prod')];
    fs.writeFileSync(base, BASE);
    const image = (result: ReturnType<typeof mergeComposeInProcess>) => {
      const a = result.ok ? (result.doc as { services: { a: { image: string; labels: object } } }).services.a : null;
      return a && { image: a.image, labels: a.labels };
    };

    const [first, second] = inValidateRun(() => {
      const devMerge = mergeComposeInProcess([base, dev]);
      // Changed within the run: the run has read it already (a run is read-only, run-memo.ts).
      fs.writeFileSync(base, BASE.replace('x:1', 'x:2'));
      return [devMerge, mergeComposeInProcess([base, prod])];
    });

    expect(image(first)).toEqual({ image: 'x:1', labels: { env: 'dev' } });
    expect(image(second)).toEqual({ image: 'x:1', labels: { env: 'prod' } });
    expect(image(mergeComposeInProcess([base, dev]))).toEqual({ image: 'x:2', labels: { env: 'dev' } });
  });

  it('is refused with the same reason in each merge that reads it', () => {
    const base = path.join(dir, 'refused', 'compose.yaml');
    fs.mkdirSync(path.dirname(base), { recursive: true });
    fs.writeFileSync(base, `${BASE}    ulimits: {nofile: 1024}\n`);

    const results = inValidateRun(() => [mergeComposeInProcess([base]), mergeComposeInProcess([base])]);

    expect(results[0]).toEqual({ ok: false, reason: expect.stringContaining('ulimits') });
    expect(results[1]).toEqual(results[0]);
  });
});

