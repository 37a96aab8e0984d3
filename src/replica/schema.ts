/**
 * The replica schema: a contract with the sync jobs that fill the file. Column names are fixed by the
 * specification; the daemon only reads. Enumerated columns deliberately have no CHECK constraints: the
 * writer is not ours, so the daemon validates every value itself and `callrouter replica check` reports
 * the rows that would fail — a constraint here would only hide what production data can contain.
 *
 * The version lives in `PRAGMA user_version`. Each entry of MIGRATIONS moves the file from version i to i+1.
 */

export const SCHEMA_VERSION = 1;

/** Tables and the columns the daemon requires; used to validate a replica it did not create. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  carriers: [
    'id', 'tenant_id', 'name', 'type', 'direction', 'status', 'origin', 'remote_host', 'remote_port', 'transport',
    'strip_prefix', 'add_prefix', 'caller_id_format', 'identity_mode', 'attestation_header', 'updated_at',
  ],
  outbound_routes: [
    'id', 'tenant_id', 'match_type', 'prefix', 'regex', 'carrier_id', 'priority', 'strip_prefix', 'add_prefix',
    'updated_at',
  ],
  phone_numbers: ['id', 'tenant_id', 'number', 'carrier_id', 'capabilities'],
  campaigns: ['id', 'tenant_id', 'name', 'status', 'stir_shaken_attestation', 'metadata'],
  lead_lists: ['id', 'tenant_id', 'name', 'caller_id'],
  leads: ['id', 'tenant_id', 'lead_list_id', 'primary_phone'],
};

const V1 = `
CREATE TABLE IF NOT EXISTS carriers (
  id TEXT PRIMARY KEY,
  tenant_id TEXT,                       -- NULL for platform carriers
  name TEXT NOT NULL,                   -- becomes sofia/gateway/<name>
  type TEXT NOT NULL,                   -- sip_trunk | register_trunk | iax2 | webrtc
  direction TEXT NOT NULL,              -- inbound | outbound | bidirectional
  status TEXT NOT NULL,                 -- active | disabled | archived
  origin TEXT NOT NULL,                 -- platform | tenant
  remote_host TEXT,
  remote_port INTEGER,
  transport TEXT,
  strip_prefix TEXT,
  add_prefix TEXT,
  caller_id_format TEXT,                -- NULL | E164 | +E164 | national
  identity_mode TEXT,                   -- NULL (config default) | header | passport | none
  attestation_header TEXT,              -- NULL (config default) | SIP header name for the level
  updated_at TEXT
);
CREATE INDEX IF NOT EXISTS carriers_tenant ON carriers(tenant_id);

CREATE TABLE IF NOT EXISTS outbound_routes (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  match_type TEXT NOT NULL,             -- prefix | regex
  prefix TEXT,
  regex TEXT,
  carrier_id TEXT NOT NULL REFERENCES carriers(id) ON DELETE RESTRICT,
  priority INTEGER NOT NULL DEFAULT 100, -- lower is tried first
  strip_prefix TEXT,
  add_prefix TEXT,
  updated_at TEXT
);
CREATE INDEX IF NOT EXISTS outbound_routes_tenant ON outbound_routes(tenant_id, priority);
CREATE INDEX IF NOT EXISTS outbound_routes_carrier ON outbound_routes(carrier_id);

CREATE TABLE IF NOT EXISTS phone_numbers (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  number TEXT NOT NULL,
  carrier_id TEXT REFERENCES carriers(id) ON DELETE SET NULL,
  capabilities TEXT
);
CREATE INDEX IF NOT EXISTS phone_numbers_tenant ON phone_numbers(tenant_id);

CREATE TABLE IF NOT EXISTS campaigns (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT,
  stir_shaken_attestation TEXT,         -- NULL | A | B | C
  metadata TEXT                         -- JSON object, e.g. {"carrier_id":"..."}
);

CREATE TABLE IF NOT EXISTS lead_lists (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  caller_id TEXT                        -- the presented CLI
);

CREATE TABLE IF NOT EXISTS leads (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  lead_list_id TEXT NOT NULL REFERENCES lead_lists(id),
  primary_phone TEXT
);
`;

/** MIGRATIONS[i] takes a file at user_version i to i+1. */
export const MIGRATIONS: readonly string[] = [V1];
