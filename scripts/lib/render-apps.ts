/**
 * Renders every app of a workspace once, in memory, as a validate batch does for each app
 * (checkAppSpec, then renderApp: tools/homelab/src/validate/project.ts), and prints one JSON
 * line: how many apps, the milliseconds the renders took (wall and CPU), the process's milliseconds
 * until then, and how many templates were taken precompiled or compiled at run time. Run by bench:generate
 * in a cold process, with and without HOMELAB_TEMPLATES=compile.
 *
 *   node --import tsx scripts/lib/render-apps.ts <workspace>
 */
import { performance } from 'node:perf_hooks';
import { checkAppSpec, listAppNames, readWorkspace } from '../../tools/homelab/src/app/plan';
import { diskHost } from '../../tools/homelab/src/host';
import { appPaths } from '../../tools/homelab/src/project/paths';
import { renderApp } from '../../tools/homelab/src/render/app';
import { templateCounts } from '../../tools/homelab/src/render/engine';

const root = process.argv[2];
if (!root) throw new Error('usage: render-apps.ts <workspace>');
const host = diskHost(root);
const workspace = readWorkspace(host);
const start = performance.now();
const cpu = process.cpuUsage();
let files = 0;
const names = listAppNames(host);
for (const name of names) {
  const file = appPaths(name).spec;
  files += renderApp(checkAppSpec(host, host.read(file) ?? '', file, workspace).app).length;
}
const end = performance.now();
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ apps: names.length, files, renderMs: end - start, renderCpuMs: (used.user + used.system) / 1000, processMs: end, ...templateCounts }));
