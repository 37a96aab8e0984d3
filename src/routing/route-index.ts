/**
 * The routing index: carriers, routes and phone numbers arranged for per-call lookups that never scan a
 * tenant's routes. Built off the call path (the replica store rebuilds it when the file changes) and immutable
 * afterwards, so a decision can hold one without locks while a rebuild runs.
 *
 * Per tenant, prefix routes live in a Map keyed by prefix digits; a ≤15-digit number has at most 15 prefixes,
 * so finding every matching prefix route costs at most one lookup per distinct prefix length. Regex routes are
 * compiled here once; an anchored regex with a literal digit prefix (`^44...`, or `^(?:33|49)...` under each) is
 * filed under that prefix and tested only when the number starts with it; the remaining regexes are tested on
 * every call of the tenant.
 */
import type { RouteSkipReason } from '../errors.js';
import { carrierRejectReason, profileCarrier, type CarrierProfile, type UsableCarrier } from './eligibility.js';
import { parseNumberRules, type NumberRules } from './number-rules.js';
import { toE164Digits } from './numbers.js';
import { compileRouteRegex } from './regex-safety.js';
import type { CarrierRow, PhoneNumberRow, RouteRow, SkippedRoute } from './types.js';

const PREFIX_RE = /^\+?[0-9]{1,15}$/;

/** A route that can match, with everything the decision needs precomputed. */
export interface IndexedRoute {
  readonly row: RouteRow;
  /** Position in the tenant's order: priority ascending, longer prefix first (regex = 0), then id. */
  readonly rank: number;
  /** Prefix digits (leading `+` removed); '' for a regex route. */
  readonly prefix: string;
  /** Compiled pattern of a regex route; null for a prefix route. */
  readonly regex: RegExp | null;
  /** The route's strip/add rules; undefined when a value is outside the strict set (`route_invalid`). */
  readonly rules: NumberRules | undefined;
  /** The carrier when it may serve this route's tenant, else null and {@link carrierReason} says why. */
  readonly carrier: UsableCarrier | null;
  readonly carrierReason: RouteSkipReason | null;
}

interface TenantRoutes {
  readonly byPrefix: ReadonlyMap<string, readonly IndexedRoute[]>;
  /** Distinct key lengths in {@link byPrefix}, ascending. */
  readonly prefixLengths: readonly number[];
  readonly unanchoredRegex: readonly IndexedRoute[];
  /** Routes that can never match (bad match_type or prefix, regex invalid or unsafe), in tenant order. */
  readonly unmatchable: readonly SkippedRoute[];
  readonly numbers: ReadonlySet<string>;
}

/** What {@link buildRouteIndex} reads: whole tables, as the replica holds them. */
export interface RouteIndexInput {
  carriers: Iterable<CarrierRow>;
  routes: Iterable<RouteRow>;
  phoneNumbers: Iterable<PhoneNumberRow>;
}

/** An immutable routing index. All lookups are O(destination digits) or O(matching routes). */
export interface RouteIndex {
  readonly routeCount: number;
  readonly carrierCount: number;
  /** The carrier's tenant-independent profile, or undefined when no row has that ID. */
  carrier(carrierId: string): CarrierProfile | undefined;
  /** Every route of `tenantId` that matches `digits` (E.164, no `+`), in tenant order (by `rank`). */
  matchingRoutes(tenantId: string, digits: string): IndexedRoute[];
  /** Routes of `tenantId` that can never match, with the reason (for explain and replica check). */
  unmatchableRoutes(tenantId: string): readonly SkippedRoute[];
  /** The tenant's phone_numbers as E.164 digits (invalid numbers left out). */
  tenantNumbers(tenantId: string): ReadonlySet<string>;
  /** True when `digits` is one of the tenant's phone numbers. */
  isTenantNumber(tenantId: string, digits: string): boolean;
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/** Builds the index. Never throws on bad row data: bad rows become skip reasons. */
export function buildRouteIndex(input: RouteIndexInput): RouteIndex {
  const carriers = new Map<string, CarrierProfile>();
  for (const row of input.carriers) carriers.set(row.id, profileCarrier(row));

  const routesByTenant = new Map<string, RouteRow[]>();
  let routeCount = 0;
  for (const row of input.routes) {
    routeCount += 1;
    let list = routesByTenant.get(row.tenantId);
    if (list === undefined) routesByTenant.set(row.tenantId, (list = []));
    list.push(row);
  }

  const numbersByTenant = new Map<string, Set<string>>();
  for (const row of input.phoneNumbers) {
    const digits = toE164Digits(row.number);
    if (digits === null) continue;
    let set = numbersByTenant.get(row.tenantId);
    if (set === undefined) numbersByTenant.set(row.tenantId, (set = new Set()));
    set.add(digits);
  }

  const tenants = new Map<string, TenantRoutes>();
  for (const tenantId of new Set([...routesByTenant.keys(), ...numbersByTenant.keys()])) {
    tenants.set(
      tenantId,
      indexTenant(tenantId, routesByTenant.get(tenantId) ?? [], carriers, numbersByTenant.get(tenantId) ?? EMPTY_SET),
    );
  }

  return Object.freeze({
    routeCount,
    carrierCount: carriers.size,
    carrier: (carrierId: string) => carriers.get(carrierId),
    matchingRoutes: (tenantId: string, digits: string) => {
      const tenant = tenants.get(tenantId);
      return tenant === undefined ? [] : match(tenant, digits);
    },
    unmatchableRoutes: (tenantId: string) => tenants.get(tenantId)?.unmatchable ?? [],
    tenantNumbers: (tenantId: string) => tenants.get(tenantId)?.numbers ?? EMPTY_SET,
    isTenantNumber: (tenantId: string, digits: string) => tenants.get(tenantId)?.numbers.has(digits) ?? false,
  });
}

function indexTenant(
  tenantId: string,
  rows: RouteRow[],
  carriers: ReadonlyMap<string, CarrierProfile>,
  numbers: ReadonlySet<string>,
): TenantRoutes {
  type Prepared = { row: RouteRow; prefix: string; keys: readonly string[]; regex: RegExp | null };
  const prepared: Prepared[] = [];
  const unmatchable: { row: RouteRow; reason: RouteSkipReason }[] = [];
  for (const row of rows) {
    if (!Number.isSafeInteger(row.priority)) {
      unmatchable.push({ row, reason: 'route_invalid' });
    } else if (row.matchType === 'prefix') {
      if (row.prefix === null || !PREFIX_RE.test(row.prefix)) unmatchable.push({ row, reason: 'route_invalid' });
      else {
        const prefix = row.prefix.startsWith('+') ? row.prefix.slice(1) : row.prefix;
        prepared.push({ row, prefix, keys: [prefix], regex: null });
      }
    } else if (row.matchType === 'regex') {
      const compiled = compileRouteRegex(row.regex);
      if (!compiled.ok) unmatchable.push({ row, reason: compiled.reason });
      else prepared.push({ row, prefix: '', keys: compiled.literalPrefixes, regex: compiled.regex });
    } else {
      unmatchable.push({ row, reason: 'route_invalid' });
    }
  }

  prepared.sort((a, b) => compareRoutes(a.row, a.prefix, b.row, b.prefix));
  const byPrefix = new Map<string, IndexedRoute[]>();
  const unanchoredRegex: IndexedRoute[] = [];
  prepared.forEach((p, rank) => {
    const carrier = carriers.get(p.row.carrierId);
    const carrierReason = carrierRejectReason(carrier, tenantId);
    const route: IndexedRoute = Object.freeze({
      row: p.row,
      rank,
      prefix: p.prefix,
      regex: p.regex,
      rules: parseNumberRules(p.row.stripPrefix, p.row.addPrefix),
      carrier: carrierReason === null && carrier?.ok === true ? carrier.carrier : null,
      carrierReason,
    });
    // A regex with several literal prefixes is filed under each; they are prefix-free, so a number reaches
    // it through at most one (see literalPrefixes).
    for (const key of p.keys) {
      if (key === '') {
        unanchoredRegex.push(route);
        break;
      }
      const list = byPrefix.get(key);
      if (list === undefined) byPrefix.set(key, [route]);
      else list.push(route);
    }
  });

  unmatchable.sort((a, b) => compareRoutes(a.row, '', b.row, ''));
  return {
    byPrefix,
    prefixLengths: [...new Set([...byPrefix.keys()].map((k) => k.length))].sort((a, b) => a - b),
    unanchoredRegex,
    unmatchable: unmatchable.map(({ row, reason }) => Object.freeze({ routeId: row.id, carrierId: row.carrierId, reason })),
    numbers,
  };
}

/** Tenant order: priority ascending, then longer prefix first, then id (code-unit order, locale-free). */
function compareRoutes(a: RouteRow, aPrefix: string, b: RouteRow, bPrefix: string): number {
  if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
  if (aPrefix.length !== bPrefix.length) return bPrefix.length - aPrefix.length;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

function match(tenant: TenantRoutes, digits: string): IndexedRoute[] {
  const found: IndexedRoute[] = [];
  for (const length of tenant.prefixLengths) {
    if (length > digits.length) break;
    const list = tenant.byPrefix.get(digits.slice(0, length));
    if (list === undefined) continue;
    for (const route of list) if (route.regex === null || route.regex.test(digits)) found.push(route);
  }
  for (const route of tenant.unanchoredRegex) if (route.regex !== null && route.regex.test(digits)) found.push(route);
  if (found.length > 1) found.sort(byRank);
  return found;
}

function byRank(a: IndexedRoute, b: IndexedRoute): number {
  return a.rank - b.rank;
}
