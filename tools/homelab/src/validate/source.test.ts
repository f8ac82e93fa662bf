import { describe, expect, it } from 'vitest';
import { parseYaml } from './source';

describe('parseYaml', () => {
  const override = 'services:\n  web:\n    network_mode: host\n    networks: !reset {}\n    ports: !override ["127.0.0.1:8080:80"]\n    command: !reset null\n';

  it("reads Compose's merge tags in a Compose file as the value under the tag", () => {
    const parsed = parseYaml(override, 'compose.override.yaml', true);

    expect(parsed).toMatchObject({ docs: [{ services: { web: { network_mode: 'host', networks: {}, ports: ['127.0.0.1:8080:80'], command: null } } }] });
  });

  it('refuses them anywhere else, at their line', () => {
    expect(parseYaml(override, 'deployment.yaml')).toMatchObject({ rule: 'parse/syntax', line: 4, message: expect.stringContaining('unknown tag !<!reset>') });
  });
});
