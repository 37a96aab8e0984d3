/**
 * The identity fragment `callrouter explain` shows per candidate (snake_case, JSON-ready). For `passport` it
 * decodes the token that would go on the wire (decoding only; verification is the carrier's business).
 */
import { decodePassport, type SignedPassport } from './passport.js';
import type { IdentityPlan, IdentityProblem } from './plan.js';

export interface IdentityExplain {
  mode: IdentityPlan['mode'];
  level: IdentityPlan['level'];
  requested_level: IdentityPlan['requestedLevel'];
  downgraded: boolean;
  /** The header on the wire, or null when nothing is sent. */
  header: string | null;
  /** Carrier columns that were unusable and the fallback used (empty normally). */
  problems: readonly IdentityProblem[];
  /** Decoded PASSporT (protected header and claims) in passport mode when one was signed, else null. */
  passport: { header: Record<string, unknown>; claims: Record<string, unknown>; info: string | null } | null;
  /** Why nothing or not all was sent, when that is the case (e.g. signing failed). */
  error: { code: string; message: string } | null;
}

/** Explain one candidate's identity. `passport` is the signed token (or header value) when there is one. */
export function explainIdentity(
  plan: IdentityPlan,
  passport?: SignedPassport | string | null,
  error?: { code: string; message: string } | null,
): IdentityExplain {
  const value = passport == null ? null : typeof passport === 'string' ? passport : passport.headerValue;
  const decoded = value === null ? null : decodePassport(value);
  return {
    mode: plan.mode,
    level: plan.level,
    requested_level: plan.requestedLevel,
    downgraded: plan.downgraded,
    header: plan.header,
    problems: plan.problems,
    passport: decoded === null ? null : { ...decoded, info: infoOf(value ?? '') },
    error: error ?? null,
  };
}

function infoOf(headerValue: string): string | null {
  const match = /;info=<([^>]*)>/.exec(headerValue);
  return match?.[1] ?? null;
}

/** Fields for the per-call log line (pino; bounded values, no secrets, no untrusted keys). */
export interface IdentityLogFields {
  identity_mode: IdentityPlan['mode'];
  attestation: IdentityPlan['level'];
  attestation_requested: IdentityPlan['requestedLevel'];
  attestation_downgraded: boolean;
  attestation_header: string | null;
}

/** The identity fields of the per-call log line for one candidate. */
export function identityLogFields(plan: IdentityPlan): IdentityLogFields {
  return {
    identity_mode: plan.mode,
    attestation: plan.level,
    attestation_requested: plan.requestedLevel,
    attestation_downgraded: plan.downgraded,
    attestation_header: plan.header,
  };
}
