/**
 * The data the routing decision reads and the value it returns. Rows are typed as the replica stores them:
 * the replica is filled by sync jobs callrouter does not control, so every text column is an untrusted
 * `string` (or null) until the decision validates it — enums included.
 */
import type { CallErrorCode, CarrierRejectReason, RouteSkipReason } from '../errors.js';

export interface CarrierRow {
  id: string;
  tenantId: string | null;
  name: string;
  type: string;
  direction: string;
  status: string;
  origin: string;
  remoteHost: string | null;
  remotePort: number | null;
  transport: string | null;
  stripPrefix: string | null;
  addPrefix: string | null;
  callerIdFormat: string | null;
  /** STIR/SHAKEN identity mode for this carrier (`header` | `passport` | `none`); null = config default. */
  identityMode: string | null;
  /** Header that carries the attestation level in `header` mode; null = config default. */
  attestationHeader: string | null;
  updatedAt: string | null;
}

export interface RouteRow {
  id: string;
  tenantId: string;
  matchType: string;
  prefix: string | null;
  regex: string | null;
  carrierId: string;
  priority: number;
  stripPrefix: string | null;
  addPrefix: string | null;
  updatedAt: string | null;
}

export interface CampaignRow {
  id: string;
  tenantId: string;
  name: string;
  status: string | null;
  stirShakenAttestation: string | null;
  metadata: string | null;
}

export interface LeadListRow {
  id: string;
  tenantId: string;
  name: string;
  callerId: string | null;
}

export interface LeadRow {
  id: string;
  tenantId: string;
  leadListId: string;
  primaryPhone: string | null;
}

export interface PhoneNumberRow {
  id: string;
  tenantId: string;
  number: string;
  carrierId: string | null;
  capabilities: string | null;
}

/** What the call claims: IDs from the channel variables. */
export interface CallInput {
  campaignId: string;
  leadId: string;
  /** `g2d_tenant_id` when the channel carries it; must equal the campaign's tenant. */
  claimedTenantId?: string | undefined;
}

/** The per-call rows, loaded by the shell (replica/queries.ts) before the pure decision runs. */
export interface CallRecords {
  campaign: CampaignRow | undefined;
  lead: LeadRow | undefined;
  leadList: LeadListRow | undefined;
}

export type CallerIdFormat = 'E164' | '+E164' | 'national';

export interface Candidate {
  carrierId: string;
  carrierName: string;
  /** null when this candidate is the campaign's forced carrier. */
  routeId: string | null;
  /** The number as dialed on this carrier, after route and carrier strip/add rules. */
  number: string;
  /** The caller ID as presented to this carrier (its caller_id_format). */
  callerId: string;
  /** `sofia/gateway/<name>/<number>` */
  dialString: string;
}

export interface SkippedRoute {
  routeId: string;
  carrierId: string;
  reason: RouteSkipReason;
}

/**
 * What became of the campaign's forced carrier: `used`, a carrier reject reason, or — for a carrier that passed
 * every check — `invalid_number` / `invalid_caller_id_format` when its rules cannot produce a dialable value.
 */
export type ForcedCarrierOutcome = 'used' | CarrierRejectReason | 'invalid_number' | 'invalid_caller_id_format';

export interface ForcedCarrierResult {
  /** The `metadata.carrier_id` value; null only when the outcome is `metadata_invalid`. */
  carrierId: string | null;
  outcome: ForcedCarrierOutcome;
}

export interface DecisionError {
  code: CallErrorCode;
  message: string;
}

/**
 * The decision for one call. Field names mirror `callrouter explain --json` (snake_case there); `ok` is true
 * exactly when `candidates` is non-empty and `error` is null.
 */
export interface Decision {
  ok: boolean;
  error: DecisionError | null;
  tenantId: string | null;
  campaignId: string;
  leadId: string;
  /** E.164 digits without `+`, or null when the lead could not be read/validated. */
  destination: string | null;
  /** E.164 digits without `+`. */
  callerId: string | null;
  /** Campaign attestation level A/B/C, or null. */
  attestation: 'A' | 'B' | 'C' | null;
  forcedCarrier: ForcedCarrierResult | null;
  /** `forced` when the first candidate is the forced carrier, `route` when from outbound_routes, null on error. */
  source: 'forced' | 'route' | null;
  candidates: Candidate[];
  skipped: SkippedRoute[];
}
