/**
 * Every statement the daemon runs on the replica, prepared once per handle, returning camelCase rows.
 *
 * The replica is written by jobs we do not control and SQLite columns are loosely typed, so a TEXT column may
 * hold an INTEGER, REAL, BLOB or invalid UTF-8. Mapping never throws on odd types: numbers become their
 * decimal string, BLOBs become `<blob:HEX>` (never a valid ID, number, gateway name or JSON, so validators
 * reject it and `explain` shows what was stored), invalid UTF-8 arrives as U+FFFD (better-sqlite3's decode)
 * which validators reject too. Integer columns holding non-integers map to NaN for the router to reject.
 */
import type Database from 'better-sqlite3';
import type {
  CallRecords, CampaignRow, CarrierRow, LeadListRow, LeadRow, PhoneNumberRow, RouteRow,
} from '../routing/types.js';

export interface ReplicaQueries {
  /** The campaign, the lead and the lead's lead list; each undefined when absent. */
  callRecords(campaignId: string, leadId: string): CallRecords;
  /**
   * {@link callRecords} plus `PRAGMA data_version`: the records are exactly the state that data version names.
   * For the store's hot path, which needs both per call. Campaigns and lead lists are served from small
   * in-memory maps filled at one data version and emptied as soon as a read shows another one, so a commit by
   * another connection is seen by the very next call; the lead is read from the file every time. The rows
   * returned are frozen (a campaign or lead list object is shared by the calls that read it at one version).
   */
  versionedCallRecords(campaignId: string, leadId: string): { dataVersion: number; records: CallRecords };
  carriers(): CarrierRow[];
  /** Ordered by tenant, priority, ID (the router re-sorts; this keeps output stable). */
  routes(): RouteRow[];
  phoneNumbers(): PhoneNumberRow[];
  /** Greatest `updated_at` over carriers and outbound routes, as stored; null when none is set. */
  newestUpdatedAt(): string | null;
  /** `PRAGMA data_version`: changes whenever another connection commits to the file. */
  dataVersion(): number;
  /** `PRAGMA user_version`. */
  schemaVersion(): number;
  /** Row count of outbound_routes (cheap check for an emptied table). */
  routeCount(): number;
}

type Raw = Record<string, unknown>;

/** Prepares every statement on `db` once. Statements throw SQLite errors (busy, corrupt) to the caller. */
export function createQueries(db: Database.Database): ReplicaQueries {
  // The call path's rows in one statement: every statement is its own read transaction, and on a 1M-lead file
  // starting one (shared-memory lock, file-size check, unlock: three syscalls) costs more than the B-tree
  // descents, so one join instead of three lookups roughly halves a lookup. The one-row source makes the
  // campaign and the lead independent (either may be missing); `c.id`/`l.id`/`ll.id` are non-NULL exactly
  // when the row was found, since each was matched with `=`. Positional (`.raw()`): no per-row key objects.
  const records = db.prepare<[string, string], unknown[]>(`SELECT ${CALL_COLUMNS}
    FROM (SELECT 1) LEFT JOIN campaigns AS c ON c.id = ? LEFT JOIN leads AS l ON l.id = ?
    LEFT JOIN lead_lists AS ll ON ll.id = l.lead_list_id`).raw();
  // The same plus data_version: the pragma's table function runs inside this statement's read transaction.
  const versioned = db.prepare<[string, string], unknown[]>(`SELECT ${CALL_COLUMNS},
    (SELECT data_version FROM pragma_data_version) AS data_version
    FROM (SELECT 1) LEFT JOIN campaigns AS c ON c.id = ? LEFT JOIN leads AS l ON l.id = ?
    LEFT JOIN lead_lists AS ll ON ll.id = l.lead_list_id`).raw();
  // The hot path's usual statement: the lead alone (one B-tree descent instead of three) plus data_version,
  // which says whether the cached campaign and lead list still describe the state this lead was read in.
  const versionedLead = db.prepare<[string], unknown[]>(`SELECT ${LEAD_COLUMNS},
    (SELECT data_version FROM pragma_data_version) AS data_version
    FROM (SELECT 1) LEFT JOIN leads AS l ON l.id = ?`).raw();
  const cache = createRowCache();
  // Only for a lead_list_id that is not stored as text (see toCallRecords).
  const leadList = db.prepare<[string], Raw>('SELECT id, tenant_id, name, caller_id FROM lead_lists WHERE id = ?');
  const listById = (id: string): LeadListRow | undefined => {
    const row = leadList.get(id);
    return row === undefined ? undefined : mapLeadList(row);
  };
  const carriers = db.prepare<[], Raw>(`SELECT id, tenant_id, name, type, direction, status, origin, remote_host,
    remote_port, transport, strip_prefix, add_prefix, caller_id_format, identity_mode, attestation_header, updated_at
    FROM carriers ORDER BY id`);
  const routes = db.prepare<[], Raw>(`SELECT id, tenant_id, match_type, prefix, regex, carrier_id, priority,
    strip_prefix, add_prefix, updated_at FROM outbound_routes ORDER BY tenant_id, priority, id`);
  const phoneNumbers = db.prepare<[], Raw>(
    'SELECT id, tenant_id, number, carrier_id, capabilities FROM phone_numbers ORDER BY id',
  );
  // max() over mixed types orders by SQLite's type order; CAST keeps the comparison textual.
  const newest = db.prepare<[], { v: unknown }>(`SELECT max(v) AS v FROM (
    SELECT max(CAST(updated_at AS TEXT)) AS v FROM carriers UNION ALL SELECT max(CAST(updated_at AS TEXT)) FROM outbound_routes)`);
  const routeCount = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbound_routes');
  // Prepared once: db.pragma() would compile a statement on every call, and data_version is on the hot path.
  const dataVersion = db.prepare<[], unknown>('PRAGMA data_version').pluck();
  const userVersion = db.prepare<[], unknown>('PRAGMA user_version').pluck();

  return {
    callRecords(campaignId, leadId) {
      return toCallRecords(records.get(campaignId, leadId), listById);
    },
    versionedCallRecords(campaignId, leadId) {
      const campaign = cache.campaigns.get(campaignId);
      if (campaign !== undefined) {
        const row = versionedLead.get(leadId);
        const dataVersion = Number(row?.[LEAD_COLUMN_COUNT]);
        if (row !== undefined && dataVersion === cache.version) {
          // Same data version as the cached rows: lead + cache is one consistent state (no commit between).
          if (isMissing(row[0])) return { dataVersion, records: { campaign: campaign ?? undefined, lead: undefined, leadList: undefined } };
          const listId = row[2];
          const leadList = typeof listId === 'string' ? cache.leadLists.get(listId) : undefined;
          if (leadList !== undefined) {
            return { dataVersion, records: { campaign: campaign ?? undefined, lead: mapLead(row, 0), leadList: leadList ?? undefined } };
          }
        }
      }
      // A miss or another data version: everything from one statement, and the maps refilled at its version.
      const row = versioned.get(campaignId, leadId);
      const dataVersion = Number(row?.[CALL_COLUMN_COUNT]);
      const records = toCallRecords(row, listById);
      if (dataVersion !== cache.version) cache.reset(dataVersion);
      cache.remember(cache.campaigns, campaignId, records.campaign);
      // Only a text lead_list_id came from the join (see toCallRecords); other types are rare and not kept.
      if (row !== undefined && typeof row[8] === 'string' && records.lead !== undefined) cache.remember(cache.leadLists, row[8], records.leadList);
      return { dataVersion, records };
    },
    carriers: () => carriers.all().map(mapCarrier),
    routes: () => routes.all().map(mapRoute),
    phoneNumbers: () => phoneNumbers.all().map(mapPhoneNumber),
    newestUpdatedAt: () => textOrNull(newest.get()?.v),
    dataVersion: () => Number(dataVersion.get()),
    schemaVersion: () => Number(userVersion.get()),
    routeCount: () => Number(routeCount.get()?.n ?? 0),
  };
}

/** The joined call-path columns, in the positions {@link toCallRecords} reads. */
const CALL_COLUMNS = `c.id, c.tenant_id, c.name, c.status, c.stir_shaken_attestation, c.metadata,
    l.id, l.tenant_id, l.lead_list_id, l.primary_phone, ll.id, ll.tenant_id, ll.name, ll.caller_id`;
const CALL_COLUMN_COUNT = 14;
/** The lead's columns alone, in the order of {@link mapLead}. */
const LEAD_COLUMNS = 'l.id, l.tenant_id, l.lead_list_id, l.primary_phone';
const LEAD_COLUMN_COUNT = 4;

/**
 * Campaigns and lead lists by ID (null: not found), all read at `version`. Bounded: a call with a new ID past
 * the cap evicts the oldest entry (a dialer runs a few hundred campaigns and lists; a flood of unknown IDs
 * costs a miss each, as without the maps). Emptied wholesale by {@link RowCache.reset} on another version.
 */
interface RowCache {
  version: number;
  readonly campaigns: Map<string, CampaignRow | null>;
  readonly leadLists: Map<string, LeadListRow | null>;
  reset(version: number): void;
  remember<T extends object>(map: Map<string, T | null>, id: string, row: T | undefined): void;
}

/** Entries per map: far above a node's live campaigns/lists, small enough to bound memory (~1 MB). */
export const ROW_CACHE_ENTRIES = 4096;

function createRowCache(): RowCache {
  return {
    version: Number.NaN,
    campaigns: new Map(),
    leadLists: new Map(),
    reset(version) {
      this.version = version;
      this.campaigns.clear();
      this.leadLists.clear();
    },
    remember(map, id, row) {
      if (map.size >= ROW_CACHE_ENTRIES && !map.has(id)) {
        const oldest = map.keys().next();
        if (oldest.done !== true) map.delete(oldest.value);
      }
      // Frozen: the object is handed to every call that hits it until the next data version.
      map.set(id, row === undefined ? null : Object.freeze(row));
    },
  };
}

/**
 * Maps one joined row. The lead list comes from the join only when `lead_list_id` is stored as text — then
 * the join compares exactly what `WHERE id = ?` with the mapped ID would. Any other stored type (NULL, number,
 * BLOB) is looked up by its mapped text, as the separate query always did, so odd types behave identically.
 */
function toCallRecords(row: unknown[] | undefined, listById: (id: string) => LeadListRow | undefined): CallRecords {
  if (row === undefined) return { campaign: undefined, lead: undefined, leadList: undefined };
  const campaign: CampaignRow | undefined = isMissing(row[0]) ? undefined : {
    id: text(row[0]),
    tenantId: text(row[1]),
    name: text(row[2]),
    status: textOrNull(row[3]),
    stirShakenAttestation: textOrNull(row[4]),
    metadata: textOrNull(row[5]),
  };
  if (isMissing(row[6])) return { campaign, lead: undefined, leadList: undefined };
  const lead = mapLead(row, 6);
  let leadList: LeadListRow | undefined;
  if (typeof row[8] !== 'string') leadList = listById(lead.leadListId);
  else if (!isMissing(row[10])) {
    leadList = { id: text(row[10]), tenantId: text(row[11]), name: text(row[12]), callerId: textOrNull(row[13]) };
  }
  return { campaign, lead, leadList };
}

/** The lead's four columns starting at `at` (the joined row or the lead-only row). */
function mapLead(row: unknown[], at: number): LeadRow {
  return { id: text(row[at]), tenantId: text(row[at + 1]), leadListId: text(row[at + 2]), primaryPhone: textOrNull(row[at + 3]) };
}

/** A LEFT JOIN found no row (an ID matched with `=` is never NULL). */
function isMissing(v: unknown): boolean {
  return v === null || v === undefined;
}

/** A stored value as text; null/undefined become ''. Exported for tests. */
export function text(v: unknown): string {
  return textOrNull(v) ?? '';
}

export function textOrNull(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `<blob:${v.toString('hex')}>`;
  return String(v);
}

/** A stored value as an integer-valued number; anything else is NaN (null stays null). */
export function intOrNull(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\s*-?\d{1,15}\s*$/.test(v)) return Number(v);
  return Number.NaN;
}

function mapCarrier(r: Raw): CarrierRow {
  return {
    id: text(r.id),
    tenantId: textOrNull(r.tenant_id),
    name: text(r.name),
    type: text(r.type),
    direction: text(r.direction),
    status: text(r.status),
    origin: text(r.origin),
    remoteHost: textOrNull(r.remote_host),
    remotePort: intOrNull(r.remote_port),
    transport: textOrNull(r.transport),
    stripPrefix: textOrNull(r.strip_prefix),
    addPrefix: textOrNull(r.add_prefix),
    callerIdFormat: textOrNull(r.caller_id_format),
    identityMode: textOrNull(r.identity_mode),
    attestationHeader: textOrNull(r.attestation_header),
    updatedAt: textOrNull(r.updated_at),
  };
}

function mapRoute(r: Raw): RouteRow {
  return {
    id: text(r.id),
    tenantId: text(r.tenant_id),
    matchType: text(r.match_type),
    prefix: textOrNull(r.prefix),
    regex: textOrNull(r.regex),
    carrierId: text(r.carrier_id),
    priority: intOrNull(r.priority) ?? Number.NaN,
    stripPrefix: textOrNull(r.strip_prefix),
    addPrefix: textOrNull(r.add_prefix),
    updatedAt: textOrNull(r.updated_at),
  };
}

function mapPhoneNumber(r: Raw): PhoneNumberRow {
  return {
    id: text(r.id),
    tenantId: text(r.tenant_id),
    number: text(r.number),
    carrierId: textOrNull(r.carrier_id),
    capabilities: textOrNull(r.capabilities),
  };
}



function mapLeadList(r: Raw): LeadListRow {
  return { id: text(r.id), tenantId: text(r.tenant_id), name: text(r.name), callerId: textOrNull(r.caller_id) };
}
