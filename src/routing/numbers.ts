/**
 * E.164 numbers as the decision uses them: ASCII digits without `+` ("digits"), validated by libphonenumber-js
 * with its default ('min') metadata, which checks country calling code and national-number length/pattern.
 *
 * Input is accepted only in a deliberately narrow written form — digits, the formatting characters space, `-`,
 * `.`, `(`, `)`, and at most one `+` as the very first character. libphonenumber would happily extract a number
 * from `call +1 415 555 0123 now` or `+1 415\n555`; we refuse such values instead, because a field holding
 * letters or control characters is corrupt or hostile, not a number. A value without a leading `+` is read as
 * E.164 digits already (the replica commonly stores `14155550123`).
 */
import parsePhoneNumberFromString, { PhoneNumber, type E164Number } from 'libphonenumber-js';
import { createE164Validator, type E164Validator } from './e164-validator.js';
import type { CallerIdFormat } from './types.js';

/** E.164 allows at most 15 digits; anything longer in the raw value is refused before parsing. */
const MAX_E164_DIGITS = 15;
/** Raw values longer than this are refused without scanning further (formatting characters included). */
const MAX_RAW_LENGTH = 40;
const WRITTEN_FORM_RE = /^\+?[0-9 ().-]+$/;
const FORMATTING_RE = /[ ().-]/g;

/**
 * The E.164 digits (no `+`) of `raw`, or null when `raw` is missing, not in the accepted written form, or not a
 * valid number for its country calling code. Never throws.
 */
export function toE164Digits(raw: string | null | undefined): string | null {
  const digits = writtenDigits(raw);
  return digits === null ? null : libraryValidDigits(digits);
}

/** The digits of `raw` when it is in the accepted written form (not yet checked as a number), else null. */
function writtenDigits(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RAW_LENGTH) return null;
  if (!WRITTEN_FORM_RE.test(raw)) return null;
  const digits = raw.replace(FORMATTING_RE, '').replace(/^\+/, '');
  if (digits.length === 0 || digits.length > MAX_E164_DIGITS || digits.charCodeAt(0) === 48 /* '0' */) return null;
  return digits;
}

function libraryValidDigits(digits: string): string | null {
  // Constructing from E.164 skips libphonenumber's text parsing (half the cost of parsePhoneNumberFromString,
  // and this runs on every call). It throws on an unknown calling code or a too-short number.
  let parsed: PhoneNumber;
  try {
    parsed = new PhoneNumber(`+${digits}` as E164Number);
  } catch {
    return null;
  }
  // A national trunk prefix left after the country code (`+44 0 20...`) makes the number invalid: such a value
  // was not E.164, and we do not guess.
  return parsed.isValid() && parsed.number === `+${digits}` ? digits : null;
}

/**
 * The national form of valid E.164 `digits`, as libphonenumber formats it for national dialing (trunk prefix
 * included, e.g. GB `02071234567`, US `4155550123`), digits only; null when it has no national format.
 */
export function toNationalDigits(digits: string): string | null {
  const parsed = parsePhoneNumberFromString(`+${digits}`, { extract: false });
  if (parsed === undefined || !parsed.isValid()) return null;
  const national = parsed.formatNational().replace(/[^0-9]/g, '');
  return national.length > 0 ? national : null;
}

/**
 * A carrier's `caller_id_format` column: NULL means the default `E164`; an unknown value is undefined (the
 * carrier is then unusable — see eligibility.ts).
 */
export function parseCallerIdFormat(raw: string | null): CallerIdFormat | undefined {
  if (raw === null) return 'E164';
  return raw === 'E164' || raw === '+E164' || raw === 'national' ? raw : undefined;
}

/**
 * A memo of {@link toE164Digits} and {@link toNationalDigits}, for caller IDs: a campaign presents one caller ID
 * per lead list, so the same few strings are validated on every call (libphonenumber costs ~10 µs a parse).
 * Results are pure functions of the key, so a cache changes speed only, never a decision. Owned by whoever
 * creates it (one per process or per replica generation); never module-level.
 */
export interface NumberCache {
  /** {@link toE164Digits}, memoized (caller IDs: few distinct values). */
  e164(raw: string | null): string | null;
  /** {@link toE164Digits} for values seldom seen twice (destinations): validated, not memoized. */
  destination(raw: string | null): string | null;
  national(digits: string): string | null;
}

/**
 * A {@link NumberCache} holding at most `maxEntries` keys per kind (cleared wholesale when full). It validates
 * with an {@link E164Validator} (libphonenumber's checks with compiled patterns, same results, ~5x faster).
 */
export function createNumberCache(maxEntries = 10_000): NumberCache {
  const validator = createE164Validator();
  const validate = (raw: string | null): string | null => {
    const digits = writtenDigits(raw);
    return digits === null ? null : validator.validDigits(digits);
  };
  const e164 = new Map<string, string | null>();
  const national = new Map<string, string | null>();
  const memo = (map: Map<string, string | null>, key: string, compute: (k: string) => string | null) => {
    const hit = map.get(key);
    if (hit !== undefined || map.has(key)) return hit ?? null;
    const value = compute(key);
    // Hostile rows could hold huge strings; never keep those as keys.
    if (key.length <= MAX_RAW_LENGTH) {
      if (map.size >= maxEntries) map.clear();
      map.set(key, value);
    }
    return value;
  };
  return {
    e164: (raw) => (raw === null ? null : memo(e164, raw, validate)),
    destination: validate,
    national: (digits) => memo(national, digits, toNationalDigits),
  };
}

/** Uncached parsing, for callers that validate each value once (index build, replica check). */
export const UNCACHED_NUMBERS: NumberCache = Object.freeze({
  e164: toE164Digits,
  destination: toE164Digits,
  national: toNationalDigits,
});

/**
 * `digits` (valid E.164, no `+`) as presented in `format`; null when the national form does not exist.
 */
export function formatCallerId(digits: string, format: CallerIdFormat, numbers: NumberCache): string | null {
  switch (format) {
    case 'E164':
      return digits;
    case '+E164':
      return `+${digits}`;
    case 'national':
      return numbers.national(digits);
  }
}
