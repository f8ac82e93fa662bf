import { describe, expect, it } from 'vitest';
import { inputErrorOf } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../spec/io';
import { mergeAnswers } from './merge';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const FILE = 'applications/specs/notes.yaml';
/** A spec as its owner keeps it: comments, flow collections, fields no answer gives. */
const SPEC = `# my notes app
name: notes
image: { repository: ghcr.io/example/notes, tag: "2.0.1" }  # pinned on purpose
ports: [{ name: http, port: 8080, http: true }]
secrets:
  - { key: API_TOKEN, remoteKey: vault-notes, property: token }   # shared entry
  - { key: OLD_KEY, remoteKey: notes, property: OLD_KEY }
volumes: [{ name: data, size: 1Gi, mountPath: /data, backup: false }]
health: { http: { path: /healthz }, startGraceSeconds: 90 }
ingress: { host: notes.example.org, tls: true }
environments:
  dev: { replicas: 2 }
  prod: {}
`;
const answers = { name: 'notes', image: 'ghcr.io/example/notes:2.0.1', port: 8080 };

describe('mergeAnswers (--force on an existing app)', () => {
  it('changes nothing, byte for byte, when the answers say what the spec says', () => {
    expect(mergeAnswers(SPEC, FILE, answers, workspace)).toMatchObject({ text: SPEC, changes: [] });
  });

  it('writes a new tag and port over their text, every other byte kept', () => {
    const merged = mergeAnswers(SPEC, FILE, { ...answers, image: 'ghcr.io/example/notes:2.1.0', port: 9090 }, workspace);

    expect(merged.text).toBe(SPEC.replace('tag: "2.0.1"', 'tag: 2.1.0').replace('port: 8080', 'port: 9090'));
    expect(merged.changes).toEqual(['image: ghcr.io/example/notes:2.0.1 → ghcr.io/example/notes:2.1.0', 'ports[0].port: 8080 → 9090']);
  });

  it('makes the secret keys the given list, keeping the store entry of a kept key, and keeps comments', () => {
    const merged = mergeAnswers(SPEC, FILE, { ...answers, secrets: 'API_TOKEN,NEW_KEY' }, workspace);

    expect(merged.spec.secrets).toEqual([
      { key: 'API_TOKEN', remoteKey: 'vault-notes', property: 'token' },
      { key: 'NEW_KEY', remoteKey: 'notes', property: 'NEW_KEY' },
    ]);
    expect(merged.text).toContain('# shared entry');
    expect(merged.text).toContain('# my notes app');
    expect(merged.changes).toEqual(['secrets: +NEW_KEY -OLD_KEY']);
  });

  it('keeps the overrides of a kept environment, and removes what an empty answer empties', () => {
    const merged = mergeAnswers(SPEC, FILE, { ...answers, environments: 'dev', host: '', volumes: '' }, workspace);

    expect(merged.spec.environments).toEqual({ dev: { replicas: 2 } });
    expect(merged.spec.ingress).toBeUndefined();
    expect('volumes' in merged.spec).toBe(false);
    expect((merged.spec as { health?: unknown }).health).toEqual({ http: { path: '/healthz' }, startGraceSeconds: 90 });
  });

  it('keeps a volume\'s other fields when its size changes', () => {
    const merged = mergeAnswers(SPEC, FILE, { ...answers, volumes: 'data:5Gi:/data' }, workspace);

    expect((merged.spec as { volumes: unknown }).volumes).toEqual([{ name: 'data', size: '5Gi', mountPath: '/data', backup: false }]);
  });

  it.each([
    ['an unpinned image', { image: 'ghcr.io/example/notes:latest' }, /uses the tag "latest"/],
    ['an environment homelab.yaml does not have', { environments: 'staging' }, /^--environments "staging" is not an environment of this workspace/],
  ])('refuses %s in one line', (_what, change, message) => {
    expect(inputErrorOf(() => mergeAnswers(SPEC, FILE, { ...answers, ...change }, workspace))).toMatch(message);
  });
});
