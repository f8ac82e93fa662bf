/**
 * Compose's units in the spec's: sizes (`512M`, `1.5g`, bytes) as Kubernetes binary
 * quantities, CPUs (`1.5`) as cores or millicores, durations (`1m30s`, `500ms`) in seconds.
 * Each returns null for a value it cannot convert exactly enough; the caller lists the key.
 */

const UNIT_BYTES: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes of a Compose size: a number of bytes, or a number with b, k, m, g or t (optionally followed by b; binary units, as Docker reads them). */
export function composeBytes(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : null;
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?\s*$/i.exec(value);
  if (!match) return null;
  const bytes = Number(match[1]) * UNIT_BYTES[match[2].toLowerCase()];
  return bytes > 0 ? bytes : null;
}

/**
 * A size as the spec writes it (`^[1-9][0-9]{0,8}(Ki|Mi|Gi)$`): the largest unit that holds it
 * exactly, else rounded up to whole MiB (a size is a limit: never smaller than the source's).
 * @example specSize('512M') // '512Mi'
 * @example specSize('1.5g') // '1536Mi'
 */
export function specSize(value: string | number): string | null {
  const bytes = composeBytes(value);
  if (bytes === null) return null;
  for (const [unit, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes % size === 0 && bytes / size < 1e9) return `${bytes / size}${unit}`;
  }
  const mib = Math.ceil(bytes / 1024 ** 2);
  return mib < 1e9 ? `${mib}Mi` : null;
}

/**
 * CPUs as the spec writes them: whole or decimal cores with up to three decimals, else millicores.
 * @example specCpus('1.5') // '1.5'
 * @example specCpus('0.0625') // '63m'
 */
export function specCpus(value: string | number): string | null {
  const cores = Number(value);
  if (!Number.isFinite(cores) || cores <= 0) return null;
  const text = String(value).trim();
  if (/^[0-9]{1,3}(\.[0-9]{1,3})?$/.test(text)) return text;
  const milli = Math.ceil(cores * 1000);
  return milli < 1e6 ? `${milli}m` : null;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds of a Compose (Go) duration such as `1m30s`, `90s` or `500ms`; a bare number is seconds. */
export function durationSeconds(value: string | number): number | null {
  if (typeof value === 'number') return value >= 0 ? value : null;
  const text = value.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text);
  const parts = text.match(/[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h)/g);
  if (!parts || parts.join('') !== text) return null;
  return parts.reduce((sum, part) => {
    const [, n, unit] = /^([0-9.]+)(.*)$/.exec(part)!;
    return sum + Number(n) * DURATION_UNITS[unit];
  }, 0);
}

/**
 * A duration as the spec writes it (`2m`, `1m30s`), whole seconds rounded up (a grace period is never shortened).
 * @example specDuration('90s') // '1m30s'
 */
export function specDuration(value: string | number): string | null {
  const seconds = durationSeconds(value);
  if (seconds === null) return null;
  const whole = Math.ceil(seconds);
  if (whole === 0) return '0s';
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}
