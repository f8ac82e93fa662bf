import { describe, expect, it } from 'vitest';
import { InputError } from '../../errors';
import { cronInterval, promDuration } from './schedule';

const HOUR = 3600;
const DAY = 24 * HOUR;

describe('the interval of a cron schedule (the longest gap between two consecutive runs)', () => {
  it.each([
    ['0 3 * * *', DAY, 'daily'],
    ['*/15 * * * *', 15 * 60, 'every 15 minutes'],
    ['* * * * *', 60, 'every minute'],
    ['0 */6 * * *', 6 * HOUR, 'every 6 hours'],
    ['30 2 * * 0', 7 * DAY, 'weekly on Sunday'],
    ['30 2 * * 7', 7 * DAY, 'weekly, Sunday written as 7'],
    ['0 4 * * sun', 7 * DAY, 'weekly, by name'],
    ['0 0 1 * *', 31 * DAY, 'monthly: the longest month'],
    ['0 0 1 1 *', 366 * DAY, 'yearly: the gap across a leap year'],
    ['0 0 29 2 *', (3 * 365 + 366) * DAY, 'on leap days only: four years'],
    ['0 2,8 * * *', 18 * HOUR, 'twice a day at uneven hours: 08:00 to 02:00'],
    ['0 3 * * 1-5', 3 * DAY, 'weekdays: Friday to Monday'],
    ['0 3 * * MON-FRI', 3 * DAY, 'weekdays by name'],
    ['0 3 1-7 * 1', 7 * DAY, 'day of the month or Monday (both restricted: either runs)'],
    ['0 3 */2 * *', 2 * DAY, 'every other day of the month: 31st to 2nd is also two days'],
    ['0 3 ? * *', DAY, '? is *'],
    ['5/20 * * * *', 20 * 60, 'a/n: minutes 5, 25 and 45'],
    ['10,50 * * * *', 40 * 60, 'a list: 10 to 50, then 50 to the next 10'],
  ])('%s is %i seconds (%s)', (expression, seconds) => {
    expect(cronInterval(expression, 'backup.schedule')).toBe(seconds);
  });

  it.each([
    ['0 3 * *', 'has 4 field(s)'],
    ['60 3 * * *', 'has "60" in its minute field (0-59)'],
    ['0 3 * * 8', 'has "8" in its day of the week field (0-7)'],
    ['0 3 * foo *', 'has "foo" in its month field (1-12)'],
    ['0 3 5-1 * *', 'has the backwards range "5-1" in its day of the month field'],
    ['*/0 * * * *', 'has the step "0" in its minute field'],
    ['0 0 30 2 *', 'never runs'],
  ])('refuses %s: it %s, naming the expression and the fix', (expression, why) => {
    expect(() => cronInterval(expression, 'applications/specs/files.yaml: backup.schedule')).toThrow(InputError);
    expect(() => cronInterval(expression, 'applications/specs/files.yaml: backup.schedule')).toThrow(
      `applications/specs/files.yaml: backup.schedule: cron expression "${expression}" ${why}`,
    );
    expect(() => cronInterval(expression, 'x')).toThrow('write five fields, minute hour day-of-month month day-of-week (e.g. "0 3 * * *")');
  });
});

describe('a number of seconds as a Prometheus duration', () => {
  it.each([
    [2 * DAY, '2d'],
    [36 * HOUR, '36h'],
    [90 * 60, '90m'],
    [45, '45s'],
  ])('%i s is %s', (seconds, text) => {
    expect(promDuration(seconds)).toBe(text);
  });
});
