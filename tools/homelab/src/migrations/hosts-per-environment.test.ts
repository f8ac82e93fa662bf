import { describe, expect, it } from 'vitest';
import { readText, workspaceTree } from '../../../../tests/support/workspace';
import { parseWorkspaceConfig } from '../spec/io';
import hostsPerEnvironment from './hosts-per-environment';

const PREVIOUS = `# yaml-language-server: $schema=./tools/homelab/schemas/workspace.schema.json
# Our homelab
environments:
  - name: dev # the laptop
    namespaceSuffix: -dev
  - name: prod
    protected: true
gitops:
  repoURL: https://git.example.org/me/homelab.git
`;

describe('the hosts-per-environment migration', () => {
  it('writes today\'s hosts out on every environment of a previous-format homelab.yaml, comments kept', () => {
    const { tree } = workspaceTree(PREVIOUS);

    const notes = hostsPerEnvironment(tree);

    expect(readText(tree, 'homelab.yaml')).toBe(`# yaml-language-server: $schema=./tools/homelab/schemas/workspace.schema.json
# Our homelab
environments:
  - name: dev # the laptop
    namespaceSuffix: -dev
    hostPattern: "{host}"
  - name: prod
    protected: true
    hostPattern: "{host}"
gitops:
  repoURL: https://git.example.org/me/homelab.git
`);
    expect(parseWorkspaceConfig(readText(tree, 'homelab.yaml')).environments.map((e) => e.hostPattern)).toEqual(['{host}', '{host}']);
    expect(notes).toEqual([expect.stringContaining('docs/upgrading.md')]);
  });

  it('changes nothing when run again, nor in a homelab.yaml that already names a hostPattern', () => {
    const { tree, changes } = workspaceTree(PREVIOUS.replace('    protected: true\n', '    protected: true\n    hostPattern: "{label}.lan"\n'));

    expect(hostsPerEnvironment(tree)).toEqual([]);
    expect(changes()).toEqual([]);
  });

  it('does nothing in a workspace without homelab.yaml', () => {
    const { tree, changes } = workspaceTree();
    tree.delete('homelab.yaml');

    expect(hostsPerEnvironment(tree)).toEqual([]);
    expect(changes()).toEqual([]);
  });
});
