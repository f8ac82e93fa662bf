import { describe, expect, it } from 'vitest';
import { admits } from './project';

const SERVER = 'https://kubernetes.default.svc';

describe('admits: an AppProject destination as ArgoCD matches it', () => {
  it.each([
    ['an exact namespace', [{ server: SERVER, namespace: 'notes-dev' }], 'notes-dev', true],
    ['another app\'s namespace', [{ server: SERVER, namespace: 'notes-dev' }], 'wiki-dev', false],
    ['a glob', [{ server: SERVER, namespace: '*-dev' }], 'notes-dev', true],
    ['a glob with a deny, whatever the order', [{ server: SERVER, namespace: '!kube-system' }, { server: SERVER, namespace: '*' }], 'kube-system', false],
    ['another server', [{ server: 'https://lab:6443', namespace: 'notes' }], 'notes', false],
    ['no destination at all', [], 'notes', false],
  ])('%s', (_what, destinations, namespace, expected) => {
    expect(admits(destinations, SERVER, namespace)).toBe(expected);
  });
});
