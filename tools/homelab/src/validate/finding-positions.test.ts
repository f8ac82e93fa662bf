import { afterEach, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { specOf } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { normalizeApp } from '../app/normalize';
import { normalizePatches } from '../app/steps/patches';
import { parseWorkspaceConfig, stringifyAppSpec } from '../spec/io';
import type { AppSpec } from '../spec/types';
import { autoscaleFindings } from './autoscale';
import { patchFindings } from './patches';
import { placementFindings } from './placement';

/**
 * validate checks every app for patch, autoscale and placement findings, which point at a line
 * of the spec. The spec is parsed again for those positions only when there is a finding to
 * place: most apps have none, and at 500 apps three parses per app were wasted work.
 */
const SPEC_FILE = 'applications/specs/web.yaml';
const workspace = parseWorkspaceConfig(WORKSPACE_YAML);

function findingsOf(spec: AppSpec) {
  const app = normalizeApp(spec, workspace, new Map());
  const text = stringifyAppSpec(spec);
  const parse = vi.spyOn(YAML, 'parseDocument');
  const findings = [
    ...patchFindings(normalizePatches(spec, SPEC_FILE, []), SPEC_FILE, text),
    ...autoscaleFindings(app, SPEC_FILE, text),
    ...placementFindings(app, ['dev', 'prod'], SPEC_FILE, text),
  ];
  return { findings, text, parses: parse.mock.calls.length };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('positions of the spec findings', () => {
  it('an app with no patch, autoscale or placement: no finding, and its spec is not parsed again', () => {
    const { findings, parses } = findingsOf(specOf('web'));

    expect(findings).toEqual([]);
    expect(parses).toBe(0);
  });

  it('an app that autoscales and is placed: each finding at its line, the spec parsed once per kind of finding', () => {
    const { findings, text, parses } = findingsOf(
      specOf('web', {
        resources: { requests: { cpu: '100m' } },
        placement: { nodeSelector: { 'kubernetes.io/arch': 'amd64' } },
        environments: { dev: {}, prod: { autoscale: { min: 2, max: 5, cpu: 70 } } },
      }),
    );
    const lines = text.split('\n');

    expect(findings.map((f) => f.rule)).toEqual(['parity/autoscale', 'parity/placement', 'parity/placement']);
    expect(lines[findings[0].line! - 1]).toMatch(/^\s+autoscale:/);
    expect(lines[findings[1].line! - 1]).toMatch(/^placement:/);
    expect(parses).toBe(2);
  });
});
