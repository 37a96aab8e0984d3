/**
 * The JSON form of a {@link Decision}, as `callrouter explain --json` prints it (snake_case, stable field set).
 * The single mapping from decision to JSON: features that add fields (e.g. STIR/SHAKEN identity) extend this
 * function rather than building their own.
 */
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
  }[];
  skipped: { route_id: string; carrier_id: string; reason: string }[];
}

/** Maps a decision to its JSON form. Pure; the result is safe to `JSON.stringify`. */
export function decisionToJson(decision: Decision): DecisionJson {
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
    })),
    skipped: decision.skipped.map((s) => ({ route_id: s.routeId, carrier_id: s.carrierId, reason: s.reason })),
  };
}
