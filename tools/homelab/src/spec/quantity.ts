import { InputError, show } from '../errors';

const BINARY = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 } as const;

/** Bytes of a binary-suffixed Kubernetes quantity such as "512Mi". */
export function quantityBytes(quantity: string, where: string): number {
  const match = /^([1-9][0-9]{0,8})(Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (!match) {
    throw new InputError(`${where} ${show(quantity)} is not a size; use a whole number with Ki, Mi, Gi or Ti, e.g. "1Gi"`);
  }
  return Number(match[1]) * BINARY[match[2] as keyof typeof BINARY];
}

/**
 * A memory quantity in Compose's notation, where k/m/g are binary units.
 * @example composeMemory('256Mi') // '256m'
 */
export function composeMemory(quantity: string, where: string): string {
  quantityBytes(quantity, where);
  const unit = quantity.slice(-2);
  const map: Record<string, string> = { Ki: 'k', Mi: 'm', Gi: 'g', Ti: 't' };
  return `${quantity.slice(0, -2)}${map[unit]}`;
}

/**
 * A CPU quantity in Compose's notation (a decimal number of CPUs).
 * @example composeCpus('500m') // '0.5'
 */
export function composeCpus(quantity: string): string {
  if (quantity.endsWith('m')) {
    const milli = Number(quantity.slice(0, -1));
    return String(milli / 1000);
  }
  return String(Number(quantity));
}
