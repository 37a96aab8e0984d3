/**
 * `callrouter replica check`: an integrity report of a replica, so an operator learns which rows the router
 * will refuse before calls hit them. Every rule is the router's own (src/routing validators) — this module
 * only scans tables and phrases findings; it never has a second copy of a rule.
 *
 * Tables are streamed with `.iterate()` (leads can be millions of rows); only carriers, lead-list tenants and
 * the route index are held in memory. Messages never quote row values (they may be hostile); `row_id` and
 * `column` say where to look.
 */
import type Database from 'better-sqlite3';
import { isUsableCallerIdName } from '../call/bridge-args.js';
import type { CarrierRejectReason } from '../errors.js';
import { planIdentity } from '../identity/plan.js';
import { carrierRejectReason, profileCarrier, type CarrierProfile } from '../routing/eligibility.js';
import { readForcedCarrier } from '../routing/forced-carrier.js';
import { parseNumberRules } from '../routing/number-rules.js';
import { toE164Digits } from '../routing/numbers.js';
import { compileRouteRegex } from '../routing/regex-safety.js';
import { buildRouteIndex } from '../routing/route-index.js';
import type { CarrierRow, PhoneNumberRow, RouteRow } from '../routing/types.js';
import { intOrNull, textOrNull } from './queries.js';

/** Finding codes beyond the routing codes (carrier reasons, route skip reasons, call error codes) reused as-is. */
export const CHECK_CODES = {
  dangling_reference: 'a reference to a row that does not exist',
  unknown_enum: 'a value outside the documented set of an enumerated column',
  unsafe_text: 'control characters, invalid UTF-8, a BLOB or an oversized value in a text column',
  invalid_phone_number: 'a phone_numbers.number that is not a valid E.164 number',
  platform_carrier_origin: 'tenant_id is NULL but origin is not platform: no tenant may use the carrier',
  attestation_header_invalid: 'attestation_header is not a usable SIP header name: the configured default is sent instead',
  caller_id_name_unusable: 'a name outside the caller-ID display set: when bridge.caller_id_name selects it, the number is shown instead',
} as const;

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  table: string;
  row_id: string;
  column: string;
  code: string;
  message: string;
}

export interface CheckReport {
  /** True when there are no error findings. */
  ok: boolean;
  errors: number;
  warnings: number;
  /** At most `maxPerCode` findings per code, in table order. */
  findings: Finding[];
  /** Findings counted but not listed because their code reached `maxPerCode`. */
  omitted: number;
}

export interface CheckOptions {
  /** Findings listed per code (all are counted). Default 1000. */
  maxPerCode?: number;
}

const ENUMS: Record<string, Record<string, ReadonlySet<string | null>>> = {
  carriers: {
    type: new Set(['sip_trunk', 'register_trunk', 'iax2', 'webrtc']),
    direction: new Set(['inbound', 'outbound', 'bidirectional']),
    status: new Set(['active', 'disabled', 'archived']),
    origin: new Set(['platform', 'tenant']),
    caller_id_format: new Set([null, 'E164', '+E164', 'national']),
    identity_mode: new Set([null, 'header', 'passport', 'none']),
  },
  outbound_routes: { match_type: new Set(['prefix', 'regex']) },
  campaigns: { stir_shaken_attestation: new Set([null, 'A', 'B', 'C']) },
};
/** Reasons a route's carrier may legitimately have (a carrier taken out of service); the rest are errors. */
const WARNING_REASONS: ReadonlySet<CarrierRejectReason> = new Set(['carrier_archived', 'carrier_disabled']);
const MAX_TEXT = 1024;
const MAX_METADATA = 65_536;
// C0/C1 controls, DEL, U+2028/2029 (line breaks to JSON/JS), U+FFFD (what invalid UTF-8 decodes to).
const UNSAFE_CHARS_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]/;

type Raw = Record<string, unknown>;

/** Scans every table of an open replica. Throws only SQLite errors (busy, corrupt). */
export function checkReplica(db: Database.Database, opts: CheckOptions = {}): CheckReport {
  const maxPerCode = opts.maxPerCode ?? 1000;
  const report: CheckReport = { ok: true, errors: 0, warnings: 0, findings: [], omitted: 0 };
  const perCode = new Map<string, number>();
  const add = (severity: Severity, table: string, rowId: unknown, column: string, code: string, message: string): void => {
    if (severity === 'error') report.errors += 1;
    else report.warnings += 1;
    const seen = perCode.get(code) ?? 0;
    perCode.set(code, seen + 1);
    if (seen >= maxPerCode) report.omitted += 1;
    else report.findings.push({ severity, table, row_id: textOrNull(rowId) ?? '', column, code, message });
  };
  const scan = (table: string, sql: string, each: (raw: Raw) => void): void => {
    for (const raw of db.prepare<[], Raw>(sql).iterate()) {
      for (const [column, value] of Object.entries(raw)) {
        const problem = textProblem(value, column === 'metadata' ? MAX_METADATA : MAX_TEXT);
        if (problem !== null) add('error', table, raw.id, column, 'unsafe_text', problem);
        const allowed = ENUMS[table]?.[column];
        if (allowed !== undefined && !allowed.has(textOrNull(value))) {
          add('error', table, raw.id, column, 'unknown_enum', `not one of ${[...allowed].map(String).join(', ')}`);
        }
      }
      each(raw);
    }
  };

  // A name is only used when bridge.caller_id_name selects it, and then falls back safely: a warning.
  const nameFinding = (table: string, r: Raw): void => {
    const name = textOrNull(r.name);
    if (name !== null && name !== '' && !isUsableCallerIdName(name)) add('warning', table, r.id, 'name', 'caller_id_name_unusable', CHECK_CODES.caller_id_name_unusable);
  };

  const carriers: CarrierRow[] = [];
  scan('carriers', `SELECT id, tenant_id, name, type, direction, status, origin, remote_host, remote_port, transport,
    strip_prefix, add_prefix, caller_id_format, identity_mode, attestation_header, updated_at FROM carriers`, (r) => {
    const row = carrierRow(r);
    carriers.push(row);
    const profile = profileCarrier(row);
    if (!profile.ok && profile.reason === 'carrier_invalid_name') add('error', 'carriers', r.id, 'name', 'carrier_invalid_name', 'not usable as a FreeSWITCH gateway name');
    if (parseNumberRules(row.stripPrefix, row.addPrefix) === undefined) {
      add('error', 'carriers', r.id, 'strip_prefix/add_prefix', 'carrier_invalid_config', 'a prefix rule outside +digits (max 15)');
    }
    if (row.tenantId === null && row.origin !== 'platform') add('warning', 'carriers', r.id, 'origin', 'platform_carrier_origin', CHECK_CODES.platform_carrier_origin);
    if (attestationHeaderProblem(row)) add('error', 'carriers', r.id, 'attestation_header', 'attestation_header_invalid', CHECK_CODES.attestation_header_invalid);
  });
  const profiles = new Map<string, CarrierProfile>(carriers.map((c) => [c.id, profileCarrier(c)]));

  const routes: RouteRow[] = [];
  scan('outbound_routes', `SELECT id, tenant_id, match_type, prefix, regex, carrier_id, priority, strip_prefix, add_prefix,
    updated_at FROM outbound_routes`, (r) => {
    const row = routeRow(r);
    routes.push(row);
    if (row.matchType === 'regex') {
      const compiled = compileRouteRegex(row.regex);
      if (!compiled.ok) add('error', 'outbound_routes', r.id, 'regex', compiled.reason, compiled.reason === 'regex_unsafe' ? 'the pattern can backtrack catastrophically (or is too long) and is never evaluated' : 'the pattern does not compile');
    }
    if (!profiles.has(row.carrierId)) {
      add('error', 'outbound_routes', r.id, 'carrier_id', 'dangling_reference', 'no carrier has this ID');
      return;
    }
    const reason = carrierRejectReason(profiles.get(row.carrierId), row.tenantId);
    if (reason !== null) add(WARNING_REASONS.has(reason) ? 'warning' : 'error', 'outbound_routes', r.id, 'carrier_id', reason, `the route's carrier can never be used: ${reason}`);
  });
  // The router's own verdict on route rows (match type, prefix, priority) via the index it builds.
  const index = buildRouteIndex({ carriers, routes, phoneNumbers: [] });
  for (const tenantId of new Set(routes.map((r) => r.tenantId))) {
    for (const s of index.unmatchableRoutes(tenantId)) {
      if (s.reason === 'route_invalid') add('error', 'outbound_routes', s.routeId, 'match_type/prefix/priority', 'route_invalid', 'the route can never match');
    }
  }
  for (const row of routes) {
    if (parseNumberRules(row.stripPrefix, row.addPrefix) === undefined) add('error', 'outbound_routes', row.id, 'strip_prefix/add_prefix', 'route_invalid', 'a prefix rule outside +digits (max 15)');
  }

  scan('phone_numbers', 'SELECT id, tenant_id, number, carrier_id, capabilities FROM phone_numbers', (r) => {
    const row: Pick<PhoneNumberRow, 'number' | 'carrierId'> = { number: textOrNull(r.number) ?? '', carrierId: textOrNull(r.carrier_id) };
    if (toE164Digits(row.number) === null) add('warning', 'phone_numbers', r.id, 'number', 'invalid_phone_number', CHECK_CODES.invalid_phone_number);
    if (row.carrierId !== null && !profiles.has(row.carrierId)) add('error', 'phone_numbers', r.id, 'carrier_id', 'dangling_reference', 'no carrier has this ID');
  });

  scan('campaigns', 'SELECT id, tenant_id, name, status, stir_shaken_attestation, metadata FROM campaigns', (r) => {
    nameFinding('campaigns', r);
    const ref = readForcedCarrier(textOrNull(r.metadata));
    if (ref.kind === 'invalid') add('error', 'campaigns', r.id, 'metadata', 'metadata_invalid', 'not a JSON object with a string carrier_id; calls fall back to routes');
    else if (ref.kind === 'carrier') {
      const profile = profiles.get(ref.carrierId);
      if (profile === undefined) add('error', 'campaigns', r.id, 'metadata.carrier_id', 'dangling_reference', 'no carrier has this ID; calls fall back to routes');
      else {
        const reason = carrierRejectReason(profile, textOrNull(r.tenant_id) ?? '');
        if (reason !== null) add('warning', 'campaigns', r.id, 'metadata.carrier_id', reason, `the forced carrier is not used (${reason}); calls fall back to routes`);
      }
    }
  });

  const listTenants = new Map<string, string>();
  scan('lead_lists', 'SELECT id, tenant_id, name, caller_id FROM lead_lists', (r) => {
    listTenants.set(textOrNull(r.id) ?? '', textOrNull(r.tenant_id) ?? '');
    nameFinding('lead_lists', r);
    if (toE164Digits(textOrNull(r.caller_id)) === null) add('error', 'lead_lists', r.id, 'caller_id', 'invalid_caller_id', 'missing or not a valid E.164 number: every call of the list fails');
  });

  scan('leads', 'SELECT id, tenant_id, lead_list_id, primary_phone FROM leads', (r) => {
    const listTenant = listTenants.get(textOrNull(r.lead_list_id) ?? '');
    if (listTenant === undefined) add('error', 'leads', r.id, 'lead_list_id', 'dangling_reference', 'no lead list has this ID');
    else if (listTenant !== textOrNull(r.tenant_id)) add('error', 'leads', r.id, 'tenant_id', 'tenant_mismatch', 'the lead and its lead list belong to different tenants');
    if (toE164Digits(textOrNull(r.primary_phone)) === null) add('error', 'leads', r.id, 'primary_phone', 'invalid_destination', 'missing or not a valid E.164 number');
  });

  report.ok = report.errors === 0;
  return report;
}

/** True when the identity plan would refuse the carrier's attestation_header (the router's own rule, via planIdentity). */
function attestationHeaderProblem(row: CarrierRow): boolean {
  const plan = planIdentity({
    carrier: { identityMode: 'header', attestationHeader: row.attestationHeader },
    level: 'A',
    callerIdDigits: '12125550100',
    tenantOwnsCallerId: true,
    defaults: { mode: 'header', header: 'P-Attestation-Indicator' },
    verifyOwnership: false,
  });
  return plan.problems.some((p) => p.field === 'attestation_header');
}

/** Why a stored value is unsafe text, or null. Integers and NULL are fine; REAL in a text column is odd but harmless. */
function textProblem(value: unknown, max: number): string | null {
  if (Buffer.isBuffer(value)) return 'a BLOB in a text column';
  if (typeof value !== 'string') return null;
  if (UNSAFE_CHARS_RE.test(value)) return 'control characters or invalid UTF-8';
  if (value.length > max) return `longer than ${max} characters`;
  return null;
}

function carrierRow(r: Raw): CarrierRow {
  return {
    id: textOrNull(r.id) ?? '', tenantId: textOrNull(r.tenant_id), name: textOrNull(r.name) ?? '', type: textOrNull(r.type) ?? '',
    direction: textOrNull(r.direction) ?? '', status: textOrNull(r.status) ?? '', origin: textOrNull(r.origin) ?? '',
    remoteHost: textOrNull(r.remote_host), remotePort: intOrNull(r.remote_port), transport: textOrNull(r.transport),
    stripPrefix: textOrNull(r.strip_prefix), addPrefix: textOrNull(r.add_prefix), callerIdFormat: textOrNull(r.caller_id_format),
    identityMode: textOrNull(r.identity_mode), attestationHeader: textOrNull(r.attestation_header), updatedAt: textOrNull(r.updated_at),
  };
}

function routeRow(r: Raw): RouteRow {
  return {
    id: textOrNull(r.id) ?? '', tenantId: textOrNull(r.tenant_id) ?? '', matchType: textOrNull(r.match_type) ?? '',
    prefix: textOrNull(r.prefix), regex: textOrNull(r.regex), carrierId: textOrNull(r.carrier_id) ?? '',
    priority: intOrNull(r.priority) ?? Number.NaN, stripPrefix: textOrNull(r.strip_prefix), addPrefix: textOrNull(r.add_prefix),
    updatedAt: textOrNull(r.updated_at),
  };
}
