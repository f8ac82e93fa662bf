import { InputError, show } from '../../errors';
import { quantityBytes } from '../../spec/quantity';
import type { ResourceList } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';

/** Replicas, and requests and limits over the defaults; the memory request never exceeds the limit. */
export function normalizeResources(
  container: { replicas?: number; resources?: { requests?: ResourceList; limits?: ResourceList } },
  where: string,
  field = '',
): { replicas: number; resources: NormalizedApp['resources'] } {
  const replicas = container.replicas ?? APP_DEFAULTS.replicas;
  const requests: Record<string, string> = { ...APP_DEFAULTS.requests, ...(container.resources?.requests ?? {}) };
  const limits: Record<string, string> = { ...APP_DEFAULTS.limits, ...(container.resources?.limits ?? {}) };
  if (quantityBytes(requests.memory, `${where}: ${field}resources.requests.memory`) > quantityBytes(limits.memory, `${where}: ${field}resources.limits.memory`)) {
    throw new InputError(`${where}: ${field}resources.requests.memory ${show(requests.memory)} exceeds ${field}resources.limits.memory ${show(limits.memory)}; raise the limit or lower the request`);
  }
  return { replicas, resources: { requests, limits } };
}
