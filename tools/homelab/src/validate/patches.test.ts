import { describe, expect, it } from 'vitest';
import { patchedStack, specOf } from '../../../../tests/support/spec';
import { stringifyAppSpec } from '../spec/io';
import { normalizePatches } from '../app/steps/patches';
import { patchFindings } from './patches';

const SPEC_FILE = 'applications/specs/relay.yaml';

describe('parity/patch: each patch of the escape hatch shows in review', () => {
  const { spec } = patchedStack();
  const text = stringifyAppSpec(spec);
  const base = [
    { kind: 'Deployment', name: 'broker' },
    { kind: 'Deployment', name: 'bridge' },
    { kind: 'Service', name: 'broker' },
    { kind: 'CronJob', name: 'purge' },
  ];
  const findings = patchFindings(normalizePatches(spec, SPEC_FILE, base), SPEC_FILE, text);

  it('warns once per Kubernetes patch and once for the Compose fragment, on their lines of the spec', () => {
    const lines = text.split('\n');

    expect(findings.map((f) => [f.rule, f.severity])).toEqual([
      ['parity/patch', 'warning'],
      ['parity/patch', 'warning'],
      ['parity/patch', 'warning'],
    ]);
    expect(findings.every((f) => f.file === SPEC_FILE)).toBe(true);
    // Each points into the patches section, at its own entry.
    const patchesLine = lines.indexOf('patches:') + 1;
    expect(patchesLine).toBeGreaterThan(0);
    expect(findings.map((f) => f.line ?? 0).every((l) => l > patchesLine)).toBe(true);
    expect(new Set(findings.map((f) => f.line)).size).toBe(3);
  });

  it('names what each patch changes and on which platform only', () => {
    const [deployment, service, compose] = findings.map((f) => f.message);

    expect(deployment).toMatch(/^patches\.kubernetes\[0\] changes Deployment broker \(.*terminationMessagePolicy.*\) on Kubernetes only; Compose runs without it/);
    expect(service).toMatch(/^patches\.kubernetes\[1\] changes Service \(every Service of the app\) \(metadata\.annotations/);
    expect(compose).toMatch(/^patches\.compose changes service broker \(stop_signal, ulimits\) on Compose only; Kubernetes runs without it/);
  });

  it('says nothing for a spec without patches', () => {
    const plain = specOf('web');
    expect(patchFindings(normalizePatches(plain, SPEC_FILE, [{ kind: 'Deployment', name: 'web' }]), SPEC_FILE, stringifyAppSpec(plain))).toEqual([]);
  });
});
