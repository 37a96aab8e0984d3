/**
 * The identity (STIR/SHAKEN) plan for one call on one carrier: which mode, which level, which header.
 * Pure: no I/O, no clock, no logging. The shell logs `problems` and the downgrade, counts the plan in metrics,
 * signs when `mode === 'passport'`, and turns the plan into leg variables (leg-variables.ts).
 *
 * Hostile replica data (`carriers.identity_mode`, `carriers.attestation_header`): an unusable value falls
 * back to the config default and is reported in `problems`; the carrier stays usable. Rationale: the level is
 * advisory metadata the operator has already configured a known-good default for, and dropping a carrier over
 * a bad metadata column would fail calls that can be placed. The bad value itself never reaches a frame.
 */
import type { CarrierRow } from '../routing/types.js';
import { checkHeaderName, type HeaderNameProblem } from './header-name.js';

export type IdentityMode = 'header' | 'passport' | 'none';
export type AttestationLevel = 'A' | 'B' | 'C';

export const IDENTITY_MODES: readonly IdentityMode[] = ['header', 'passport', 'none'];

/** A carrier column that could not be used as stored; `fallback` is what was used instead. */
export interface IdentityProblem {
  field: 'identity_mode' | 'attestation_header';
  code: 'identity_mode_invalid' | HeaderNameProblem;
  /** The stored value, cut to 64 characters (untrusted: log it as a value, never as a key). */
  value: string;
  fallback: string;
}

export interface IdentityPlan {
  mode: IdentityMode;
  /** The level that goes out (after any downgrade); null when the campaign has none. */
  level: AttestationLevel | null;
  /** The campaign's level before the ownership check. */
  requestedLevel: AttestationLevel | null;
  /** True when A was lowered to B because the tenant does not own the caller ID. */
  downgraded: boolean;
  /** The SIP header that will carry it on this carrier's leg; null when nothing is sent (mode none or no level). */
  header: string | null;
  problems: readonly IdentityProblem[];
}

export interface PlanIdentityInput {
  carrier: Pick<CarrierRow, 'identityMode' | 'attestationHeader'>;
  level: AttestationLevel | null;
  /** The presented caller ID, E.164 digits without `+`. An empty value never earns A when ownership is verified. */
  callerIdDigits: string;
  /** Whether the caller ID is one of the tenant's phone_numbers (see `tenantOwnsCallerId`). */
  tenantOwnsCallerId: boolean;
  /** `identity.default_mode` / `identity.default_header` (header already validated by the config schema). */
  defaults: { mode: IdentityMode; header: string };
  /** `identity.verify_caller_id_ownership`. */
  verifyOwnership: boolean;
}

const cut = (s: string): string => (s.length > 64 ? s.slice(0, 64) : s);

/** A blank column is treated as NULL: sync jobs write '' for "unset" more often than they write hostile data. */
const blankToNull = (s: string | null): string | null => (s === null || s.trim() === '' ? null : s);

/** Plan identity for one carrier leg. Never throws. */
export function planIdentity(input: PlanIdentityInput): IdentityPlan {
  const problems: IdentityProblem[] = [];

  let mode = input.defaults.mode;
  const storedMode = blankToNull(input.carrier.identityMode);
  if (storedMode !== null) {
    const normalized = storedMode.trim().toLowerCase();
    if ((IDENTITY_MODES as readonly string[]).includes(normalized)) {
      mode = normalized as IdentityMode;
    } else {
      problems.push({ field: 'identity_mode', code: 'identity_mode_invalid', value: cut(storedMode), fallback: mode });
    }
  }

  const requestedLevel = input.level;
  const ownershipFails = input.verifyOwnership && (!input.tenantOwnsCallerId || input.callerIdDigits === '');
  const downgraded = requestedLevel === 'A' && ownershipFails;
  const level: AttestationLevel | null = downgraded ? 'B' : requestedLevel;

  let header: string | null = null;
  if (level !== null && mode === 'passport') {
    header = 'Identity';
  } else if (level !== null && mode === 'header') {
    header = resolveHeader(input.carrier.attestationHeader, input.defaults.header, problems);
  }

  return { mode, level, requestedLevel, downgraded, header, problems };
}

function resolveHeader(stored: string | null, fallback: string, problems: IdentityProblem[]): string | null {
  const fallbackChecked = checkHeaderName(fallback);
  // The config schema validates the default; a bad one here is a bug, and sending nothing is the safe answer.
  const fallbackName = fallbackChecked.ok ? fallbackChecked.name : null;
  const value = blankToNull(stored);
  if (value === null) return fallbackName;
  const checked = checkHeaderName(value.trim());
  if (checked.ok) return checked.name;
  problems.push({ field: 'attestation_header', code: checked.problem, value: cut(value), fallback: fallbackName ?? '' });
  return fallbackName;
}

/**
 * Whether `callerIdDigits` is one of the tenant's numbers, compared as E.164 digits: a leading `+` and the
 * usual formatting (spaces, hyphens, dots, parentheses) are ignored; anything else (letters, national numbers
 * without a country code) does not match, which errs toward B, never toward a false A. Pure.
 */
export function tenantOwnsCallerId(callerIdDigits: string, tenantNumbers: readonly string[]): boolean {
  const wanted = e164Digits(callerIdDigits);
  if (wanted === null) return false;
  return tenantNumbers.some((n) => e164Digits(n) === wanted);
}

function e164Digits(s: string): string | null {
  const digits = s.replace(/[\s\-.()]/g, '').replace(/^\+/, '');
  return /^[1-9]\d{1,14}$/.test(digits) ? digits : null;
}
