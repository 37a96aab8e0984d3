/**
 * Per-call glue: plan → (sign) → leg variables for one candidate carrier, as one value. This is what the call
 * path and `scripts/bench-identity.ts` run per candidate. Never throws: signing problems become
 * `identity_unavailable`, unsafe values `unsafe_dial_value` (both codes from src/errors.ts).
 */
import { identityLegVariables, type LegVariable } from './leg-variables.js';
import type { SigningKeys } from './keys.js';
import { signPassport, type SignedPassport } from './passport.js';
import type { IdentityPlan } from './plan.js';

export interface CandidateIdentityInput {
  plan: IdentityPlan;
  keys: SigningKeys;
  tenantId: string | null;
  /** Caller ID and dialed destination, E.164 digits without `+`. */
  origTn: string;
  destTn: string;
  /** Injected clock, milliseconds since the epoch (`iat` is its whole seconds). */
  nowMs: number;
  /** One UUID per call (`origid`). */
  origid: string;
  /**
   * A PASSporT already signed for this call (an earlier passport candidate): reused when its level matches,
   * since tenant key, caller, destination and origid are per call, not per carrier.
   */
  reuse?: SignedPassport | null;
}

export type CandidateIdentity =
  | { ok: true; plan: IdentityPlan; variables: readonly LegVariable[]; passport: SignedPassport | null }
  | { ok: false; plan: IdentityPlan; code: 'identity_unavailable' | 'unsafe_dial_value'; message: string };

/** Build this candidate's identity variables. Never throws. */
export function identityForCandidate(input: CandidateIdentityInput): CandidateIdentity {
  const { plan } = input;
  let passport: SignedPassport | null = null;
  if (plan.mode === 'passport' && plan.header !== null && plan.level !== null) {
    if (input.reuse && input.reuse.claims.attest === plan.level) {
      passport = input.reuse;
    } else {
      const signer = input.keys.keyFor(input.tenantId);
      if (signer === undefined) {
        return { ok: false, plan, code: 'identity_unavailable', message: 'no signing key for this tenant and no global key' };
      }
      try {
        passport = signPassport({
          level: plan.level,
          origTn: input.origTn,
          destTn: input.destTn,
          iat: Math.floor(input.nowMs / 1000),
          origid: input.origid,
          key: signer.key,
          x5u: signer.x5u,
        });
      } catch (err) {
        return { ok: false, plan, code: 'identity_unavailable', message: `PASSporT signing failed: ${(err as Error).message}` };
      }
    }
  }
  const legs = identityLegVariables(plan, passport ?? undefined);
  if (!legs.ok) return { ok: false, plan, code: legs.code, message: legs.message };
  return { ok: true, plan, variables: legs.variables, passport };
}
