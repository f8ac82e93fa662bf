/**
 * Does a value look like a credential? Known token prefixes first (exact and cheap), then
 * credentials inside URLs, then a key name that says "secret" with a literal value, then long
 * high-entropy strings. Templates and references (`${X}`, `{{ }}`, `$(X)`) are not values.
 * The caller reports the key, never the value.
 */
const PREFIXES: [RegExp, string][] = [
  [/^gh[pousr]_[A-Za-z0-9]{30,}$/, 'a GitHub token (ghp_…)'],
  [/^github_pat_[A-Za-z0-9_]{30,}$/, 'a GitHub fine-grained token'],
  [/^glpat-[A-Za-z0-9_-]{20,}$/, 'a GitLab token (glpat-…)'],
  [/^xox[abprs]-[A-Za-z0-9-]{10,}$/, 'a Slack token (xoxb-…)'],
  [/^(AKIA|ASIA)[0-9A-Z]{16}$/, 'an AWS access key id'],
  [/^sk-[A-Za-z0-9_-]{20,}$/, 'an API secret key (sk-…)'],
  [/^sk_(live|test)_[A-Za-z0-9]{16,}$/, 'a Stripe secret key'],
  [/^AIza[0-9A-Za-z_-]{35}$/, 'a Google API key'],
  [/^npm_[A-Za-z0-9]{36}$/, 'an npm token'],
  [/^hf_[A-Za-z0-9]{30,}$/, 'a Hugging Face token'],
  [/^eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}$/, 'a JSON Web Token'],
];

const SECRET_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)$/i;
const NOT_A_VALUE = /\$\{|\{\{|\$\(|^\/run\/secrets\/|^\/var\/run\/secrets\//;
const PLACEHOLDER = /^(changeme|change-me|replace-?me|example|xxx+|\*+|<[^>]*>|todo|none|null|false|true|disabled?|enabled?)$/i;

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Why `value` (of env variable `name`) looks like a credential, or null. */
export function credentialReason(name: string, value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v === '' || NOT_A_VALUE.test(v)) return null;
  for (const [re, what] of PREFIXES) if (re.test(v)) return `its value looks like ${what}`;
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s/]+@/i.test(v)) return 'its value is a URL with a password in it';
  if (/_FILE$/i.test(name)) return null;
  if (SECRET_NAME.test(name) && v.length >= 6 && !PLACEHOLDER.test(v) && !/^\d+$/.test(v)) return 'its name says it is a secret and it has a literal value';
  if (v.length >= 24 && !/\s/.test(v) && !v.includes('://') && !v.startsWith('/') && entropy(v) >= 4.2) {
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(v)).length;
    if (classes >= 3) return 'its value is a long high-entropy string (an API key or password?)';
  }
  return null;
}

/** Offsets of PEM private key blocks in a text. */
export function privateKeyOffsets(text: string): number[] {
  const out: number[] = [];
  const re = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----/g;
  if (!text.includes('PRIVATE KEY')) return out;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(m.index);
  return out;
}
