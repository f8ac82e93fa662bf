import { InputError, show } from '../../errors';
import { quantityBytes } from '../../spec/quantity';
import type { ShorthandAppSpec } from '../../spec/types';
import { APP_DEFAULTS, type NormalizedApp } from '../normalized';

/** Replicas, and requests and limits over the defaults; the memory request never exceeds the limit. */
export function normalizeResources(spec: ShorthandAppSpec, where: string): { replicas: number; resources: NormalizedApp['resources'] } {
  const replicas = spec.replicas ?? APP_DEFAULTS.replicas;
  const requests = { ...APP_DEFAULTS.requests, ...(spec.resources?.requests ?? {}) };
  const limits: Record<string, string> = { ...APP_DEFAULTS.limits, ...(spec.resources?.limits ?? {}) };
  if (quantityBytes(requests.memory, `${where}: resources.requests.memory`) > quantityBytes(limits.memory, `${where}: resources.limits.memory`)) {
    throw new InputError(`${where}: resources.requests.memory ${show(requests.memory)} exceeds resources.limits.memory ${show(limits.memory)}; raise the limit or lower the request`);
  }
  return { replicas, resources: { requests, limits } };
}
