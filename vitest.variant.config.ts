import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import config from './vitest.config';

/**
 * The suite as `.ci/run` runs it a second time, in a clone populated with a homelab
 * (scripts/ci-homelab-variant.sh): the `homelab` project without the Docker end-to-end files,
 * and without the `kubernetes-api` project. Those files take most of the suite's time and get
 * their workspaces from the same helpers as the files kept here; tests/hermetic-sources.test.ts
 * checks that they and the helpers read nothing of the repository's homelab.
 * (`vitest run --exclude` does not reach the projects' own file lists, hence this file.)
 */
export const VARIANT_LEAVES_OUT = ['**/*.e2e.test.ts'];

const homelab = (config.test?.projects ?? []).find(
  (project): project is TestProjectInlineConfiguration => typeof project === 'object' && 'test' in project && project.test?.name === 'homelab',
);
if (!homelab?.test) throw new Error('vitest.config.ts has no project named homelab');

export default defineConfig({
  test: {
    ...config.test,
    projects: [{ ...homelab, test: { ...homelab.test, exclude: [...(homelab.test.exclude ?? []), ...VARIANT_LEAVES_OUT] } }],
  },
});
