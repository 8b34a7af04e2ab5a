/**
 * The two duration grammars KubeStash objects use:
 * - RetentionPolicy.maxRetentionPeriod: `<int><unit>...` with units y, mo, w, d, h, m (SPEC §3.5);
 * - Go's time.ParseDuration for metav1.Duration fields (retryConfig.delay, backupTimeout, restoreTimeout,
 *   hook timeout): KubeStash's webhooks cannot even decode an object whose duration does not parse.
 */

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface RetentionDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
}

/** KubeStash's own wording, kept so users can search for it. */
export const INVALID_DURATION = 'invalid duration provided';

const GO_INT_MAX = 2n ** 63n - 1n;
const isAsciiDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/**
 * Parses a retention period exactly as KubeStash's ParseDuration: surrounding whitespace is trimmed,
 * each number may carry a leading `-`, `mo` is recognised before `m`, a repeated unit overwrites the
 * earlier value, and a number without unit or an unknown unit is an error. `''` parses to all zeros.
 */
export function parseRetentionPeriod(input: string): ParseResult<RetentionDuration> {
  const duration: RetentionDuration = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0 };
  let rest = input.trim();
  while (rest !== '') {
    let negative = false;
    if (rest[0] === '-') {
      negative = true;
      rest = rest.slice(1);
    }
    let digits = 0;
    while (isAsciiDigit(rest[digits])) digits++;
    if (digits === 0) return { ok: false, reason: `${INVALID_DURATION}: expected a number at "${rest}"` };
    const magnitude = BigInt(rest.slice(0, digits));
    if (magnitude > GO_INT_MAX) return { ok: false, reason: `${INVALID_DURATION}: ${rest.slice(0, digits)} is out of range` };
    const value = Number(negative ? -magnitude : magnitude);
    rest = rest.slice(digits);
    if (rest === '') return { ok: false, reason: `${INVALID_DURATION}: the number ${value} has no unit (use y, mo, w, d, h or m)` };
    if (rest.startsWith('mo')) {
      duration.months = value;
      rest = rest.slice(2);
      continue;
    }
    switch (rest[0]) {
      case 'y': duration.years = value; break;
      case 'w': duration.weeks = value; break;
      case 'd': duration.days = value; break;
      case 'h': duration.hours = value; break;
      case 'm': duration.minutes = value; break;
      default:
        return { ok: false, reason: `${INVALID_DURATION}: unknown unit "${rest[0]}" (use y, mo, w, d, h or m)` };
    }
    rest = rest.slice(1);
  }
  return { ok: true, value: duration };
}

/** ToMinutes: a month is 30 days, a year 365 days, a week 7 days. */
export function retentionPeriodToMinutes(input: string): ParseResult<number> {
  const parsed = parseRetentionPeriod(input);
  if (!parsed.ok) return parsed;
  const d = parsed.value;
  const day = 24 * 60;
  return { ok: true, value: d.minutes + d.hours * 60 + d.days * day + d.weeks * 7 * day + d.months * 30 * day + d.years * 365 * day };
}

const GO_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * Go's time.ParseDuration: `[-+]?` then one or more `<decimal><unit>` with units ns, us, µs, ms, s, m, h;
 * `0` alone is allowed, `''` is not. Returns nanoseconds as a bigint (Go's int64 range is enforced).
 */
export function parseGoDuration(input: string): ParseResult<bigint> {
  const invalid = (why: string): ParseResult<bigint> => ({ ok: false, reason: `time: ${why} in duration "${input}"` });
  let rest = input;
  let negative = false;
  if (rest[0] === '-' || rest[0] === '+') {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, value: 0n };
  if (rest === '') return invalid('invalid syntax');
  let total = 0n;
  while (rest !== '') {
    if (!(rest[0] === '.' || isAsciiDigit(rest[0]))) return invalid('invalid syntax');
    let i = 0;
    while (isAsciiDigit(rest[i])) i++;
    const whole = rest.slice(0, i);
    rest = rest.slice(i);
    let fraction = '';
    let hasFraction = false;
    if (rest[0] === '.') {
      rest = rest.slice(1);
      let j = 0;
      while (isAsciiDigit(rest[j])) j++;
      fraction = rest.slice(0, j);
      hasFraction = j > 0;
      rest = rest.slice(j);
    }
    if (whole === '' && !hasFraction) return invalid('invalid syntax');
    let u = 0;
    while (u < rest.length && rest[u] !== '.' && !isAsciiDigit(rest[u])) u++;
    if (u === 0) return invalid('missing unit');
    const unitName = rest.slice(0, u);
    rest = rest.slice(u);
    const unit = GO_UNITS[unitName];
    if (unit === undefined) return invalid(`unknown unit "${unitName}"`);
    const wholeValue = whole === '' ? 0n : BigInt(whole);
    if (wholeValue > 2n ** 63n / unit) return invalid('invalid duration');
    let value = wholeValue * unit;
    if (fraction !== '') {
      // Go keeps at most ~19 fraction digits and converts with float64; the difference is sub-nanosecond.
      const scaled = Number(`0.${fraction.slice(0, 18)}`) * Number(unit);
      value += BigInt(Math.floor(scaled));
      if (value > 2n ** 63n) return invalid('invalid duration');
    }
    total += value;
    if (total > 2n ** 63n) return invalid('invalid duration');
  }
  if (negative) return { ok: true, value: -total };
  if (total > GO_INT_MAX) return invalid('invalid duration');
  return { ok: true, value: total };
}

/** Longest leader-election timing accepted: beyond it setTimeout would overflow, and no cluster needs it. */
export const MAX_LEASE_TIMING_SECONDS = 24 * 3600;

/**
 * A leader-election timing (lease duration, renew deadline, retry period) in seconds: a Go duration above
 * 0 and at most 24h. The reason of a refusal reads after the value (`"0s" must be longer than 0`); `serve`
 * and the install values use the same rule, so values that print fine also start.
 */
export function parseLeaseTiming(value: string): ParseResult<number> {
  const parsed = parseGoDuration(value);
  if (!parsed.ok) return { ok: false, reason: `is not a duration such as 15s or 1m30s (${parsed.reason})` };
  const seconds = Number(parsed.value) / 1e9;
  if (seconds <= 0) return { ok: false, reason: 'must be longer than 0' };
  if (seconds > MAX_LEASE_TIMING_SECONDS) return { ok: false, reason: 'is longer than 24h' };
  return { ok: true, value: seconds };
}
