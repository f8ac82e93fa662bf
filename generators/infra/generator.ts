import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { nxAnswers } from '../../tools/homelab/src/ask/terminal';
import { treeHost } from '../../tools/homelab/src/host';
import { generateInfra, type InfraOptions } from '../../tools/homelab/src/component/generate';
import { INFRA_ASKED, NX_INFRA_DOOR } from '../../tools/homelab/src/component/questions';
import { report } from '../../tools/homelab/src/report';
import type { InfraGeneratorSchema } from './schema';

/**
 * `nx g homelab:infra <component>`: the component's spec from the catalog, rendered to
 * both trees with every other component re-wired (see docs/infrastructure.md). Without a
 * component it lists the catalog: to pick from in a terminal, in the refusal otherwise.
 */
export default async function infraGenerator(tree: Tree, options: InfraGeneratorSchema): Promise<void> {
  const answers = await nxAnswers<InfraOptions>(path.join(__dirname, 'schema.json'), INFRA_ASKED, options, NX_INFRA_DOOR);
  report(generateInfra(treeHost(tree), answers), answers.component);
}
