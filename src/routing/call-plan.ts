/**
 * The whole per-call plan: the routing decision plus, per candidate carrier, its identity (STIR/SHAKEN) plan.
 * Pure — no I/O, clock, logging or signing (signing needs the clock and happens per bridge in the call
 * session). Both the call path (src/call/session.ts) and `callrouter explain` call exactly this, so everything
 * that decides what a call will do lives in src/routing/.
 */
import type { Config } from '../config/schema.js';
import { planIdentity, type IdentityMode, type IdentityPlan } from '../identity/plan.js';
import { decide, decideOptionsFromConfig, type DecideOptions } from './decide.js';
import type { RouteIndex } from './route-index.js';
import type { CallInput, CallRecords, Candidate, CarrierRow, Decision } from './types.js';

/** Options of {@link planCall}; build them once from config with {@link callPlanOptionsFromConfig}. */
export interface CallPlanOptions {
  decide: DecideOptions;
  identity: {
    /** `identity.default_mode` / `identity.default_header`. */
    defaults: { mode: IdentityMode; header: string };
    /** `identity.verify_caller_id_ownership`. */
    verifyOwnership: boolean;
  };
}

/** One candidate with what the bridge needs beyond the decision. */
export interface PlannedCandidate {
  candidate: Candidate;
  /** The carrier row the candidate came from (identity columns are read from it). */
  carrier: CarrierRow;
  identity: IdentityPlan;
}

/** The plan for one call. `candidates` is empty exactly when `decision.ok` is false. */
export interface CallPlan {
  decision: Decision;
  candidates: PlannedCandidate[];
  /**
   * Display-name sources for `bridge.caller_id_name` = `campaign` / `lead_list`, exactly as stored (UNTRUSTED:
   * src/call/bridge-args.ts checks them against a strict set); null when the row is absent.
   */
  names: { campaign: string | null; leadList: string | null };
  /** Whether the presented caller ID is one of the tenant's phone_numbers (null when the decision failed early). */
  tenantOwnsCallerId: boolean | null;
}

/** The config-derived {@link CallPlanOptions}. */
export function callPlanOptionsFromConfig(config: Config): CallPlanOptions {
  return {
    decide: decideOptionsFromConfig(config),
    identity: {
      defaults: { mode: config.identity.default_mode, header: config.identity.default_header },
      verifyOwnership: config.identity.verify_caller_id_ownership,
    },
  };
}

/** Plans one call. Never throws for any row content. */
export function planCall(input: CallInput, records: CallRecords, index: RouteIndex, options: CallPlanOptions): CallPlan {
  const decision = decide(input, records, index, options.decide);
  const names = { campaign: records.campaign?.name ?? null, leadList: records.leadList?.name ?? null };
  const { tenantId, callerId } = decision;
  const owns = tenantId !== null && callerId !== null ? index.isTenantNumber(tenantId, callerId) : null;
  const candidates: PlannedCandidate[] = [];
  if (!decision.ok || callerId === null) return { decision, candidates, names, tenantOwnsCallerId: owns };
  for (const candidate of decision.candidates) {
    const profile = index.carrier(candidate.carrierId);
    // A candidate always comes from a usable carrier of this index; a missing profile would be an index bug.
    if (profile === undefined || !profile.ok) continue;
    const carrier = profile.carrier.row;
    const identity = planIdentity({
      carrier,
      level: decision.attestation,
      callerIdDigits: callerId,
      tenantOwnsCallerId: owns === true,
      defaults: options.identity.defaults,
      verifyOwnership: options.identity.verifyOwnership,
    });
    candidates.push({ candidate, carrier, identity });
  }
  return { decision, candidates, names, tenantOwnsCallerId: owns };
}
