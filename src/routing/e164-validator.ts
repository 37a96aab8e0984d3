/**
 * `toE164Digits` with each numbering plan's patterns compiled once. libphonenumber-js's `isValid()` builds a
 * `new RegExp` from the plan's pattern text on every test (`matchesEntirely`), and the US patterns alone are
 * ~1,000 characters, so validating a destination cost ~6 µs — most of a decision. This validator asks
 * libphonenumber the same questions in the same order with the same patterns; it only keeps the compiled
 * `RegExp`s (and finds the calling code itself instead of building a `PhoneNumber`). Results are identical by construction (test/routing/e164-validator.test.ts compares it with the
 * library on every calling code); when the library's numbering-plan internals are not what this file reads
 * (a future version), it falls back to `isValid()` for that plan.
 *
 * The compiled plans live in the validator instance (at most one per calling code, ~250), never module-level.
 */
import { Metadata, PhoneNumber, type E164Number } from 'libphonenumber-js';

/** libphonenumber-js's `getNumberType` tries FIXED_LINE, then these; a number is valid when any matches. */
const TYPES = [
  'FIXED_LINE', 'MOBILE', 'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL',
] as const;

/** libphonenumber-js's MAX_LENGTH_COUNTRY_CODE. */
const MAX_CALLING_CODE_LENGTH = 3;

/** The parts of libphonenumber-js's (untyped) numbering plan this file reads. */
interface PlanInternals {
  nationalNumberPattern(): unknown;
  hasTypes(): unknown;
  type(name: string): { pattern(): unknown; possibleLengths(): unknown } | undefined;
}

interface TypeTest {
  readonly re: RegExp;
  readonly lengths: readonly number[] | undefined;
}

/** A compiled plan: `isValid` of a national number; null = use the library's own `isValid()`. */
type CompiledPlan = ((nationalNumber: string) => boolean) | null;

/** Validates E.164 digits (no `+`, ASCII digits, no leading 0) like `new PhoneNumber('+' + digits).isValid()`. */
export interface E164Validator {
  /** The digits when valid and libphonenumber reads them back unchanged, else null. Never throws. */
  validDigits(digits: string): string | null;
}

/** A new validator with an empty plan cache. */
export function createE164Validator(): E164Validator {
  const plans = new Map<string, CompiledPlan>();
  const metadata = new Metadata() as unknown as { hasCallingCode?: unknown };
  const hasCallingCode = typeof metadata.hasCallingCode === 'function'
    ? (metadata.hasCallingCode as (cc: string) => unknown).bind(metadata)
    : undefined;
  const planFor = (callingCode: string): CompiledPlan => {
    let plan = plans.get(callingCode);
    if (plan === undefined && !plans.has(callingCode)) {
      plan = compilePlan(callingCode);
      plans.set(callingCode, plan);
    }
    return plan ?? null;
  };
  /** The library's own path: `new PhoneNumber('+' + digits)` then `isValid()`. */
  const viaLibrary = (digits: string): string | null => {
    let parsed: PhoneNumber;
    try {
      parsed = new PhoneNumber(`+${digits}` as E164Number);
    } catch {
      return null;
    }
    if (parsed.number !== `+${digits}`) return null;
    const plan = planFor(parsed.country ?? parsed.countryCallingCode);
    return (plan === null ? parsed.isValid() : plan(parsed.nationalNumber)) ? digits : null;
  };
  return {
    validDigits(digits) {
      if (hasCallingCode === undefined) return viaLibrary(digits);
      // What `new PhoneNumber('+' + digits)` does (extractCountryCallingCode): refuse a leading 0, take the
      // shortest prefix of 1–3 digits that is a calling code, throw when no digits are left after it. The
      // country stays undefined and `number` is '+' + digits, so validity is the calling code's plan's.
      if (digits.length === 0 || digits.charCodeAt(0) === 48 /* '0' */) return null;
      for (let length = 1; length <= MAX_CALLING_CODE_LENGTH && length <= digits.length; length += 1) {
        const callingCode = digits.slice(0, length);
        if (!hasCallingCode(callingCode)) continue;
        if (length === digits.length) return null;
        const plan = planFor(callingCode);
        if (plan === null) return viaLibrary(digits);
        return plan(digits.slice(length)) ? digits : null;
      }
      return null;
    },
  };
}

/** `matchesEntirely`'s expression, compiled. */
function entire(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Mirrors libphonenumber-js `isValidNumber` → `getNumberType` (v2) for one numbering plan. */
function compilePlan(key: string): CompiledPlan {
  let plan: PlanInternals;
  try {
    const metadata = new Metadata() as unknown as { selectNumberingPlan(k: string): void; numberingPlan?: unknown };
    metadata.selectNumberingPlan(key);
    plan = metadata.numberingPlan as PlanInternals;
    if (typeof plan?.nationalNumberPattern !== 'function' || typeof plan.hasTypes !== 'function' || typeof plan.type !== 'function') return null;
    const nn = plan.nationalNumberPattern();
    if (typeof nn !== 'string') return null;
    const national = entire(nn);
    if (!plan.hasTypes()) return (n) => national.test(n);
    const tests: TypeTest[] = [];
    for (const name of TYPES) {
      const type = plan.type(name);
      if (type === undefined) continue;
      const pattern = type.pattern();
      const lengths: unknown = type.possibleLengths();
      if (typeof pattern !== 'string' || (Boolean(lengths) && !Array.isArray(lengths))) return null;
      // `isNumberTypeEqualTo`: an empty pattern never matches; a falsy `possibleLengths()` means any length.
      if (pattern === '') continue;
      tests.push({ re: entire(pattern), lengths: Array.isArray(lengths) ? (lengths as number[]) : undefined });
    }
    return (n) => {
      if (!national.test(n)) return false;
      for (const t of tests) {
        // An empty array rejects every length, as the library's `indexOf(length) < 0` does.
        if (t.lengths !== undefined && !t.lengths.includes(n.length)) continue;
        if (t.re.test(n)) return true;
      }
      return false;
    };
  } catch {
    return null;
  }
}
