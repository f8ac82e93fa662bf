import { describe, expect, it } from 'vitest';
import { parseRecordLabels, recordLabels, recordVolume } from './compose-record';

describe('the record a Compose deploy leaves on the Docker host', () => {
  const record = { at: '2026-11-30T12:00:00.000Z', commit: '0123456789abcdef0123456789abcdef01234567', dirty: false, specDigest: 'sha256:aa', renderedDigest: 'sha256:bb' };

  it("is the volume <project>-deploy, labelled with the project by a label of homelab's, not Compose's (Compose did not create it)", () => {
    expect(recordVolume('web-dev')).toBe('web-dev-deploy');
    expect(recordLabels('web-dev', record)['homelab.deploy.project']).toBe('web-dev');
    expect(recordLabels('web-dev', record)).not.toHaveProperty('com.docker.compose.project');
  });

  it.each([
    ['a clean checkout', record],
    ['uncommitted changes', { ...record, dirty: true }],
    ['no git checkout', { ...record, commit: null }],
  ])('reads back what it wrote, for %s', (_what, written) => {
    expect(parseRecordLabels(recordLabels('web-dev', written))).toEqual(written);
  });

  it('is no record when the volume lacks the time of the deploy (a volume of that name deploy did not write)', () => {
    expect(parseRecordLabels({ 'homelab.deploy.project': 'web-dev' })).toBeNull();
    expect(parseRecordLabels(null)).toBeNull();
  });
});
