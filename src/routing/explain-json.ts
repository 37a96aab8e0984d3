/**
 * The JSON form of a {@link Decision}, as `callrouter explain --json` prints it (snake_case, stable field set).
 * The single mapping from decision to JSON: features that add fields (e.g. STIR/SHAKEN identity) extend this
 * function rather than building their own.
 */
import type { IdentityExplain } from '../identity/explain.js';
import type { Decision } from './types.js';

export interface DecisionJson {
  ok: boolean;
  error: { code: string; message: string } | null;
  tenant_id: string | null;
  campaign_id: string;
  lead_id: string;
  destination: string | null;
  caller_id: string | null;
  attestation: 'A' | 'B' | 'C' | null;
  forced_carrier: { carrier_id: string | null; outcome: string } | null;
  candidates: {
    carrier_id: string;
    carrier_name: string;
    route_id: string | null;
    number: string;
    caller_id: string;
    dial_string: string;
    /** STIR/SHAKEN for this carrier's leg: mode, level (after any downgrade), header, decoded PASSporT. */
    identity?: IdentityExplain;
  }[];
  skipped: { route_id: string; carrier_id: string; reason: string }[];
}

/**
 * Maps a decision to its JSON form. Pure; the result is safe to `JSON.stringify`. `identities`, when given, is
 * keyed by carrier ID (one candidate per carrier) and adds each candidate's `identity`.
 */
export function decisionToJson(decision: Decision, identities?: ReadonlyMap<string, IdentityExplain>): DecisionJson {
  return {
    ok: decision.ok,
    error: decision.error === null ? null : { code: decision.error.code, message: decision.error.message },
    tenant_id: decision.tenantId,
    campaign_id: decision.campaignId,
    lead_id: decision.leadId,
    destination: decision.destination,
    caller_id: decision.callerId,
    attestation: decision.attestation,
    forced_carrier:
      decision.forcedCarrier === null
        ? null
        : { carrier_id: decision.forcedCarrier.carrierId, outcome: decision.forcedCarrier.outcome },
    candidates: decision.candidates.map((c) => ({
      carrier_id: c.carrierId,
      carrier_name: c.carrierName,
      route_id: c.routeId,
      number: c.number,
      caller_id: c.callerId,
      dial_string: c.dialString,
      ...(identities?.has(c.carrierId) ? { identity: identities.get(c.carrierId)! } : {}),
    })),
    skipped: decision.skipped.map((s) => ({ route_id: s.routeId, carrier_id: s.carrierId, reason: s.reason })),
  };
}
