import { describe, expect, it } from 'vitest';
import { maskSecretData } from './changes';
import { makeMasker } from './secrets';

describe('maskSecretData', () => {
  const header = (kind: string) => `diff -u -N /tmp/LIVE-1/v1.${kind}.web-dev.web /tmp/MERGED-2/v1.${kind}.web-dev.web\n--- /tmp/LIVE-1/x\n+++ /tmp/MERGED-2/x\n@@ -1,9 +1,9 @@`;

  it("hides every value under a Secret's data and stringData, block scalars included, and keeps the keys", () => {
    const diff = `${header('Secret')}\n apiVersion: v1\n data:\n-  TOKEN: b2xkLXZhbHVl\n+  TOKEN: bmV3LXZhbHVl\n stringData:\n   CERT: |\n-    old-cert-line\n+    new-cert-line\n kind: Secret\n`;
    const masked = maskSecretData(diff);
    expect(masked).toContain('-  TOKEN: ***');
    expect(masked).toContain('+  TOKEN: ***');
    expect(masked).toContain('   CERT: ***');
    expect(masked).toContain(' kind: Secret');
    for (const value of ['b2xkLXZhbHVl', 'bmV3LXZhbHVl', 'old-cert-line', 'new-cert-line']) expect(masked).not.toContain(value);
  });

  it("leaves other kinds' data as it is, and masks the rendered values anywhere", () => {
    const diff = `${header('ConfigMap')}\n data:\n-  MODE: slow\n+  MODE: fast\n+  NOTE: the-rendered-secret\n`;
    const masked = maskSecretData(diff, makeMasker(['the-rendered-secret']));
    expect(masked).toContain('+  MODE: fast');
    expect(masked).toContain('+  NOTE: ***');
  });
});
