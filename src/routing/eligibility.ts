/**
 * Whether a carrier may carry a tenant's outbound call, as a typed reason. Used for the forced carrier
 * (campaign `metadata.carrier_id`), for every route's carrier, and by `callrouter replica check`.
 */
import type { CarrierRejectReason } from '../errors.js';
import { isGatewayName } from './dial-values.js';
import { parseNumberRules, type NumberRules } from './number-rules.js';
import { parseCallerIdFormat } from './numbers.js';
import type { CallerIdFormat, CarrierRow } from './types.js';

const OUTBOUND_DIRECTIONS: ReadonlySet<string> = new Set(['outbound', 'bidirectional']);
const SUPPORTED_TYPES: ReadonlySet<string> = new Set(['sip_trunk', 'register_trunk']);

/** A carrier that passed every tenant-independent check, with its rule values parsed once. */
export interface UsableCarrier {
  readonly row: CarrierRow;
  readonly rules: NumberRules;
  readonly callerIdFormat: CallerIdFormat;
}

/** Outcome of the tenant-independent checks: the parsed carrier, or why it can never be used. */
export type CarrierProfile =
  | { readonly ok: true; readonly carrier: UsableCarrier }
  | { readonly ok: false; readonly row: CarrierRow; readonly reason: CarrierRejectReason };

/**
 * Tenant-independent checks, in this order: status (`archived`; anything but `active` is `carrier_disabled`),
 * direction (outbound or bidirectional), type (sip_trunk or register_trunk), gateway name, rule values and
 * caller-ID format (`carrier_invalid_config`).
 */
export function profileCarrier(row: CarrierRow): CarrierProfile {
  const reject = (reason: CarrierRejectReason): CarrierProfile => ({ ok: false, row, reason });
  if (row.status === 'archived') return reject('carrier_archived');
  if (row.status !== 'active') return reject('carrier_disabled');
  if (!OUTBOUND_DIRECTIONS.has(row.direction)) return reject('carrier_not_outbound');
  if (!SUPPORTED_TYPES.has(row.type)) return reject('carrier_unsupported_type');
  if (!isGatewayName(row.name)) return reject('carrier_invalid_name');
  const rules = parseNumberRules(row.stripPrefix, row.addPrefix);
  const callerIdFormat = parseCallerIdFormat(row.callerIdFormat);
  if (rules === undefined || callerIdFormat === undefined) return reject('carrier_invalid_config');
  return { ok: true, carrier: { row, rules, callerIdFormat } };
}

/**
 * True when `row` may serve `tenantId`: it is the tenant's own carrier, or a platform carrier — `tenant_id`
 * NULL *and* `origin` = `platform` (a NULL tenant alone is treated as a data error, not as "shared").
 */
export function servesTenant(row: CarrierRow, tenantId: string): boolean {
  if (row.tenantId === null) return row.origin === 'platform';
  return row.tenantId === tenantId;
}

/**
 * Why `profile` cannot carry a call of `tenantId`, or null when it can. Ownership is checked first so that a
 * reason never reveals the state of another tenant's carrier.
 */
export function carrierRejectReason(profile: CarrierProfile | undefined, tenantId: string): CarrierRejectReason | null {
  if (profile === undefined) return 'carrier_not_found';
  const row = profile.ok ? profile.carrier.row : profile.row;
  if (!servesTenant(row, tenantId)) return 'carrier_other_tenant';
  return profile.ok ? null : profile.reason;
}
