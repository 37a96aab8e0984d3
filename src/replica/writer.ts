/**
 * A typed writer for replica files: the demo generator, test fixtures and benchmarks fill replicas through it
 * so no raw SQL leaks outside this module. Production replicas are written by sync jobs callrouter does not
 * own; this writer only mirrors what they do (WAL mode, upserts by ID).
 */
import Database from 'better-sqlite3';
import { migrateDb } from './migrate.js';
import type {
  CampaignRow, CarrierRow, LeadListRow, LeadRow, PhoneNumberRow, RouteRow,
} from '../routing/types.js';

export type CarrierInput = Partial<CarrierRow> & { id: string; name: string };
export type RouteInput = Partial<RouteRow> & { id: string; tenantId: string; carrierId: string };
export type PhoneNumberInput = Partial<PhoneNumberRow> & { id: string; tenantId: string; number: string };
/** `metadata` may be given as an object; it is stored as JSON text. */
export type CampaignInput = Partial<Omit<CampaignRow, 'metadata'>> & {
  id: string;
  tenantId: string;
  metadata?: string | null | Record<string, unknown>;
};
export type LeadListInput = Partial<LeadListRow> & { id: string; tenantId: string };
export type LeadInput = Partial<LeadRow> & { id: string; tenantId: string; leadListId: string };

/** The replica tables, for `deleteAll`/`deleteById`. */
export type ReplicaTable = 'carriers' | 'outbound_routes' | 'phone_numbers' | 'campaigns' | 'lead_lists' | 'leads';

export interface ReplicaWriterOptions {
  /** `wal` (default, what production sync jobs use) or `delete` (rollback journal, for fault tests). */
  journalMode?: 'wal' | 'delete';
  /** Clock for default `updated_at` values; defaults to Date.now. */
  now?: () => number;
}

export interface ReplicaWriter {
  /** The read-write connection, for tests that must store values the typed methods cannot (BLOBs, numbers in TEXT). */
  readonly db: Database.Database;
  /** Upserts by ID. Defaults: platform carrier (tenant NULL, origin from tenant), sip_trunk, outbound, active. */
  insertCarrier(p: CarrierInput): void;
  /** Upserts by ID. `matchType` defaults to `regex` when only `regex` is given, else `prefix`; priority 100. */
  insertRoute(p: RouteInput): void;
  insertPhoneNumber(p: PhoneNumberInput): void;
  /** Upserts by ID. `name` defaults to the ID, `status` to `active`. */
  insertCampaign(p: CampaignInput): void;
  /** Upserts by ID. `name` defaults to the ID. */
  insertLeadList(p: LeadListInput): void;
  insertLead(p: LeadInput): void;
  /** Bulk upsert in one transaction with one prepared statement; returns the number of rows written. */
  insertLeads(rows: Iterable<LeadInput>): number;
  deleteAll(table: ReplicaTable): void;
  deleteById(table: ReplicaTable, id: string): void;
  /** Runs `fn` in one write transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

const TABLES: readonly ReplicaTable[] = ['carriers', 'outbound_routes', 'phone_numbers', 'campaigns', 'lead_lists', 'leads'];

/**
 * Opens (creating if absent) a replica read-write and migrates it to SCHEMA_VERSION.
 * Foreign keys are OFF: replicas are untrusted data and fixtures must be able to store dangling references.
 *
 * @throws ReplicaError `replica_schema_newer` for a file newer than this build.
 */
export function openReplicaWriter(path: string, opts: ReplicaWriterOptions = {}): ReplicaWriter {
  const now = opts.now ?? Date.now;
  const db = new Database(path);
  try {
    db.pragma(`journal_mode = ${opts.journalMode === 'delete' ? 'DELETE' : 'WAL'}`);
    db.pragma('foreign_keys = OFF');
    migrateDb(db, path);
  } catch (err) {
    db.close();
    throw err;
  }

  const carrierStmt = db.prepare(`INSERT OR REPLACE INTO carriers
    (id, tenant_id, name, type, direction, status, origin, remote_host, remote_port, transport, strip_prefix,
     add_prefix, caller_id_format, identity_mode, attestation_header, updated_at)
    VALUES (@id, @tenantId, @name, @type, @direction, @status, @origin, @remoteHost, @remotePort, @transport,
     @stripPrefix, @addPrefix, @callerIdFormat, @identityMode, @attestationHeader, @updatedAt)`);
  const routeStmt = db.prepare(`INSERT OR REPLACE INTO outbound_routes
    (id, tenant_id, match_type, prefix, regex, carrier_id, priority, strip_prefix, add_prefix, updated_at)
    VALUES (@id, @tenantId, @matchType, @prefix, @regex, @carrierId, @priority, @stripPrefix, @addPrefix, @updatedAt)`);
  const phoneStmt = db.prepare(`INSERT OR REPLACE INTO phone_numbers (id, tenant_id, number, carrier_id, capabilities)
    VALUES (@id, @tenantId, @number, @carrierId, @capabilities)`);
  const campaignStmt = db.prepare(`INSERT OR REPLACE INTO campaigns
    (id, tenant_id, name, status, stir_shaken_attestation, metadata)
    VALUES (@id, @tenantId, @name, @status, @stirShakenAttestation, @metadata)`);
  const listStmt = db.prepare(`INSERT OR REPLACE INTO lead_lists (id, tenant_id, name, caller_id)
    VALUES (@id, @tenantId, @name, @callerId)`);
  const leadStmt = db.prepare(`INSERT OR REPLACE INTO leads (id, tenant_id, lead_list_id, primary_phone)
    VALUES (@id, @tenantId, @leadListId, @primaryPhone)`);
  const deleteAllStmts = new Map(TABLES.map((t) => [t, db.prepare(`DELETE FROM ${t}`)]));
  const deleteByIdStmts = new Map(TABLES.map((t) => [t, db.prepare(`DELETE FROM ${t} WHERE id = ?`)]));

  const stamp = (): string => new Date(now()).toISOString();
  const lead = (p: LeadInput): Record<string, unknown> => ({
    id: p.id, tenantId: p.tenantId, leadListId: p.leadListId, primaryPhone: p.primaryPhone ?? null,
  });

  const bulkLeads = db.transaction((rows: Iterable<LeadInput>): number => {
    let n = 0;
    for (const r of rows) {
      leadStmt.run(lead(r));
      n++;
    }
    return n;
  });

  return {
    db,
    insertCarrier(p) {
      const tenantId = p.tenantId ?? null;
      carrierStmt.run({
        id: p.id,
        tenantId,
        name: p.name,
        type: p.type ?? 'sip_trunk',
        direction: p.direction ?? 'outbound',
        status: p.status ?? 'active',
        origin: p.origin ?? (tenantId === null ? 'platform' : 'tenant'),
        remoteHost: p.remoteHost ?? null,
        remotePort: p.remotePort ?? null,
        transport: p.transport ?? null,
        stripPrefix: p.stripPrefix ?? null,
        addPrefix: p.addPrefix ?? null,
        callerIdFormat: p.callerIdFormat ?? null,
        identityMode: p.identityMode ?? null,
        attestationHeader: p.attestationHeader ?? null,
        updatedAt: p.updatedAt === undefined ? stamp() : p.updatedAt,
      });
    },
    insertRoute(p) {
      const regexOnly = p.prefix == null && p.regex != null;
      routeStmt.run({
        id: p.id,
        tenantId: p.tenantId,
        matchType: p.matchType ?? (regexOnly ? 'regex' : 'prefix'),
        prefix: p.prefix ?? null,
        regex: p.regex ?? null,
        carrierId: p.carrierId,
        priority: p.priority ?? 100,
        stripPrefix: p.stripPrefix ?? null,
        addPrefix: p.addPrefix ?? null,
        updatedAt: p.updatedAt === undefined ? stamp() : p.updatedAt,
      });
    },
    insertPhoneNumber(p) {
      phoneStmt.run({
        id: p.id, tenantId: p.tenantId, number: p.number, carrierId: p.carrierId ?? null, capabilities: p.capabilities ?? null,
      });
    },
    insertCampaign(p) {
      const metadata = p.metadata == null || typeof p.metadata === 'string' ? (p.metadata ?? null) : JSON.stringify(p.metadata);
      campaignStmt.run({
        id: p.id,
        tenantId: p.tenantId,
        name: p.name ?? p.id,
        status: p.status === undefined ? 'active' : p.status,
        stirShakenAttestation: p.stirShakenAttestation ?? null,
        metadata,
      });
    },
    insertLeadList(p) {
      listStmt.run({ id: p.id, tenantId: p.tenantId, name: p.name ?? p.id, callerId: p.callerId ?? null });
    },
    insertLead(p) {
      leadStmt.run(lead(p));
    },
    insertLeads(rows) {
      return bulkLeads(rows);
    },
    deleteAll(table) {
      deleteAllStmts.get(table)?.run();
    },
    deleteById(table, id) {
      deleteByIdStmts.get(table)?.run(id);
    },
    transaction(fn) {
      return db.transaction(fn)();
    },
    close() {
      if (db.open) db.close();
    },
  };
}
