import { InputError, show } from '../../errors';

/**
 * The interval of a five-field cron expression, in seconds: the gap between two consecutive runs,
 * and for an irregular schedule (several times a day at uneven hours, some weekdays, some days of
 * the month) the longest such gap. This is what "older than twice the schedule's interval" means
 * for the stale-backup alerts (docs/backup.md, "The alert").
 *
 * The fields are read as VolSync, Kubernetes CronJobs (robfig/cron) and busybox crond read them:
 * numbers, `*` and `?`, ranges `a-b`, steps `*\/n`, `a-b/n` and `a/n`, lists, month and weekday
 * names (JAN, MON), Sunday as 0 or 7; when both the day of the month and the day of the week are
 * restricted a day matching either runs. Times are taken in one time zone without daylight saving
 * changes. The runs are laid out over 28 years (the Gregorian calendar's weekdays and leap years
 * repeat after 28 years between 1901 and 2099), so a yearly or leap-day schedule gets its real gap.
 *
 * Throws an InputError naming the expression for one that is not five valid fields or never runs.
 * @example cronInterval('0 3 * * *', 'backup.schedule') // 86400
 * @example cronInterval('0 2,8 * * *', 'backup.schedule') // 64800 (from 08:00 to 02:00 the next day)
 */
export function cronInterval(expression: string, where: string): number {
  // 28 years laid out day by day: kept per expression, as every app of a homelab shares a few schedules.
  const known = intervals.get(expression);
  if (known !== undefined) return known;
  const seconds = layOut(expression, where);
  intervals.set(expression, seconds);
  return seconds;
}

/** cronInterval's answers, by expression (an expression that throws is not kept). */
const intervals = new Map<string, number>();

function layOut(expression: string, where: string): number {
  const fields = expression.trim().split(/\s+/);
  const fail = (why: string): never => {
    throw new InputError(`${where}: cron expression ${show(expression)} ${why}; write five fields, minute hour day-of-month month day-of-week (e.g. "0 3 * * *")`);
  };
  if (fields.length !== 5) fail(`has ${fields.length} field(s)`);
  const [minutes, hours, days, months, weekdays] = FIELDS.map((f, i) => parseField(fields[i], f, fail));
  // A day runs when its day of the month and weekday match; when both are restricted, when either does.
  const domStar = /^[*?]/.test(fields[2]);
  const dowStar = /^[*?]/.test(fields[4]);
  const times: number[] = [];
  for (const h of hours.values) for (const m of minutes.values) times.push(h * 60 + m);
  times.sort((a, b) => a - b);

  // Day by day from 2001-01-01, a Monday (weekday 1), without a Date per day.
  const runDays: number[] = [];
  let day = 0;
  for (let year = 2001; year < 2001 + CYCLE_YEARS; year++) {
    for (let month = 1; month <= 12; month++) {
      const length = month === 2 ? (year % 4 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
      for (let date = 1; date <= length; date++, day++) {
        if (!months.set.has(month)) continue;
        const dom = days.set.has(date);
        const dow = weekdays.set.has((1 + day) % 7);
        if (domStar || dowStar ? dom && dow : dom || dow) runDays.push(day);
      }
    }
  }
  if (runDays.length === 0) fail('never runs (no day matches its day of the month, month and weekday)');

  const first = times[0];
  const last = times[times.length - 1];
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i] - times[i - 1]);
  for (let i = 0; i < runDays.length; i++) {
    // From the day's last run to the next run day's first (the last run day wraps to the first, a cycle later).
    const next = i + 1 < runDays.length ? runDays[i + 1] : runDays[0] + CYCLE_DAYS;
    longest = Math.max(longest, (next - runDays[i]) * 1440 + first - last);
  }
  return longest * 60;
}

/**
 * A number of seconds as a Prometheus duration, in the largest unit that divides it.
 * @example promDuration(172800) // '2d'
 * @example promDuration(5400) // '90m'
 */
export function promDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** 28 years from 2001-01-01: weekdays and leap years repeat after them (1901-2099, where every fourth year is a leap year). */
const CYCLE_YEARS = 28;
const CYCLE_DAYS = 28 * 365 + 7;

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of the month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  // 7 is Sunday too (folded into 0 below).
  { name: 'day of the week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** The values a field allows, sorted (for the weekday, 7 is folded into 0). */
function parseField(text: string, spec: FieldSpec, fail: (why: string) => never): { values: number[]; set: Set<number> } {
  const found = new Set<number>();
  // The last value `*` and `a/n` reach: Saturday for the weekday, whose 7 is only another name of Sunday.
  const top = spec.name === 'day of the week' ? 6 : spec.max;
  const value = (part: string): number => {
    const index = spec.names?.indexOf(part.toUpperCase()) ?? -1;
    const n = index >= 0 ? index + (spec.name === 'month' ? 1 : 0) : /^\d+$/.test(part) ? Number(part) : NaN;
    if (!Number.isInteger(n) || n < spec.min || n > spec.max) fail(`has ${show(part)} in its ${spec.name} field (${spec.min}-${spec.max})`);
    return n;
  };
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') fail(`has ${show(item)} in its ${spec.name} field`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) && Number(stepText) > 0 ? Number(stepText) : fail(`has the step ${show(stepText)} in its ${spec.name} field`);
    let low: number;
    let high: number;
    if (range === '*' || range === '?') {
      low = spec.min;
      high = top;
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined) fail(`has ${show(item)} in its ${spec.name} field`);
      low = value(a);
      high = value(b);
      if (high < low) fail(`has the backwards range ${show(range)} in its ${spec.name} field`);
    } else {
      low = value(range);
      // `a/n` runs from a to the field's end, every n.
      high = stepText === undefined ? low : top;
    }
    for (let n = low; n <= high; n += step) found.add(spec.name === 'day of the week' && n === 7 ? 0 : n);
  }
  const values = [...found].sort((a, b) => a - b);
  return { values, set: found };
}
