import { defineConfig } from 'vitest/config';

// Tests that talk to the real Kubernetes API server live in tests/kubernetes-api: their project's
// global setup starts one control plane for the whole run (tests/support/control-plane.global.ts),
// and only when a file of that project runs.
const KUBERNETES_API = 'tests/kubernetes-api/**/*.test.ts';

export default defineConfig({
  test: {
    // Integration tests start real nx, kubectl and docker processes on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'homelab',
          include: ['tools/**/*.test.ts', 'generators/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: [KUBERNETES_API, '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'kubernetes-api',
          include: [KUBERNETES_API],
          globalSetup: ['tests/support/control-plane.global.ts'],
        },
      },
    ],
  },
});
