/**
 * A realistic demo replica: three tenants, platform and tenant carriers in every status, prefix and regex
 * routes with priorities and ties, campaigns with and without a forced carrier, and thousands of leads with
 * valid E.164 numbers from the fictional ranges (+1 NXX 555 01xx, +44 20 7946 0xxx). Deterministic for a
 * given seed (only `updated_at` follows the injected clock). The first entities have readable IDs that the
 * README's examples use: `camp-acme-routes`, `camp-acme-forced`, `lead-acme-0001`...
 */
import { renameSync, rmSync } from 'node:fs';
import { openReplicaWriter, type CampaignInput, type CarrierInput, type LeadInput, type RouteInput } from './writer.js';

export interface DemoOptions {
  /** Number of generated leads (at least the fixed ones); default 5000. */
  leads?: number;
  /** PRNG seed; default 1. */
  seed?: number;
  /** Clock for `updated_at` (epoch ms); default Date.now. */
  now?: () => number;
}

export interface DemoSummary {
  tenants: number;
  carriers: number;
  routes: number;
  phoneNumbers: number;
  campaigns: number;
  leadLists: number;
  leads: number;
}

export const DEMO_TENANTS = ['tenant-acme', 'tenant-globex', 'tenant-initech'] as const;

const CARRIERS: CarrierInput[] = [
  // Platform carriers: tenant NULL, usable by every tenant.
  { id: 'carrier-platform-us', name: 'platform-us', direction: 'bidirectional', callerIdFormat: '+E164', remoteHost: 'sip.us.carrier.example', remotePort: 5060, transport: 'udp' },
  { id: 'carrier-platform-uk', name: 'platform-uk', callerIdFormat: 'E164', remoteHost: 'sip.uk.carrier.example', remotePort: 5061, transport: 'tls', identityMode: 'header' },
  { id: 'carrier-platform-eu', name: 'platform-eu', type: 'register_trunk', remoteHost: 'sip.eu.carrier.example', remotePort: 5060, transport: 'tcp' },
  { id: 'carrier-platform-legacy', name: 'platform-legacy', status: 'archived', remoteHost: 'old.carrier.example' },
  { id: 'carrier-platform-inbound', name: 'platform-inbound', direction: 'inbound', remoteHost: 'did.carrier.example' },
  // Tenant carriers.
  { id: 'carrier-acme-primary', tenantId: 'tenant-acme', name: 'acme-primary', callerIdFormat: 'national', remoteHost: 'sbc.acme.example', remotePort: 5060, transport: 'udp' },
  { id: 'carrier-acme-backup', tenantId: 'tenant-acme', name: 'acme-backup', direction: 'bidirectional', callerIdFormat: 'E164', addPrefix: '1010', remoteHost: 'backup.acme.example' },
  { id: 'carrier-acme-old', tenantId: 'tenant-acme', name: 'acme-old', status: 'archived', remoteHost: 'legacy.acme.example' },
  { id: 'carrier-acme-webrtc', tenantId: 'tenant-acme', name: 'acme-webrtc', type: 'webrtc', remoteHost: 'webrtc.acme.example' },
  { id: 'carrier-globex-main', tenantId: 'tenant-globex', name: 'globex-main', callerIdFormat: '+E164', remoteHost: 'sip.globex.example', identityMode: 'passport' },
  { id: 'carrier-globex-disabled', tenantId: 'tenant-globex', name: 'globex-disabled', status: 'disabled', remoteHost: 'sip2.globex.example' },
  { id: 'carrier-initech-uk', tenantId: 'tenant-initech', name: 'initech-uk', stripPrefix: '44', addPrefix: '0', callerIdFormat: 'national', remoteHost: 'sbc.initech.example', identityMode: 'none' },
];

type Route = Omit<RouteInput, 'id'>;
const ROUTES: [string, Route][] = [
  // tenant-acme: NYC to its backup trunk first, toll-free by regex, US on its primary with platform fallbacks
  // (one tie at priority 20, one archived and one inbound-only carrier that the router skips).
  ['route-acme-tollfree', { tenantId: 'tenant-acme', regex: '^1(800|888|877|866)[0-9]{7}$', carrierId: 'carrier-platform-us', priority: 1 }],
  ['route-acme-nyc', { tenantId: 'tenant-acme', prefix: '1212', carrierId: 'carrier-acme-backup', priority: 5 }],
  ['route-acme-us', { tenantId: 'tenant-acme', prefix: '1', carrierId: 'carrier-acme-primary', priority: 10 }],
  ['route-acme-us-legacy', { tenantId: 'tenant-acme', prefix: '1', carrierId: 'carrier-platform-legacy', priority: 15 }],
  ['route-acme-us-platform', { tenantId: 'tenant-acme', prefix: '1', carrierId: 'carrier-platform-us', priority: 20 }],
  ['route-acme-us-backup', { tenantId: 'tenant-acme', prefix: '1', carrierId: 'carrier-acme-backup', priority: 20 }],
  ['route-acme-us-inbound', { tenantId: 'tenant-acme', prefix: '1', carrierId: 'carrier-platform-inbound', priority: 30 }],
  ['route-acme-uk', { tenantId: 'tenant-acme', prefix: '44', carrierId: 'carrier-platform-uk', priority: 10 }],
  ['route-acme-london', { tenantId: 'tenant-acme', prefix: '4420', carrierId: 'carrier-platform-uk', priority: 10, stripPrefix: '44', addPrefix: '0' }],
  ['route-acme-fr', { tenantId: 'tenant-acme', prefix: '33', carrierId: 'carrier-platform-eu', priority: 10 }],
  // tenant-globex: a disabled carrier ahead of the live one, UK cities by regex.
  ['route-globex-us-disabled', { tenantId: 'tenant-globex', prefix: '1', carrierId: 'carrier-globex-disabled', priority: 5 }],
  ['route-globex-us', { tenantId: 'tenant-globex', prefix: '1', carrierId: 'carrier-globex-main', priority: 10 }],
  ['route-globex-us-platform', { tenantId: 'tenant-globex', prefix: '1', carrierId: 'carrier-platform-us', priority: 50 }],
  ['route-globex-uk-cities', { tenantId: 'tenant-globex', regex: '^44(20|161)[0-9]{6,8}$', carrierId: 'carrier-platform-uk', priority: 10 }],
  ['route-globex-fr', { tenantId: 'tenant-globex', prefix: '33', carrierId: 'carrier-platform-eu', priority: 10 }],
  // tenant-initech: UK on its own trunk (national dialing) with a platform fallback; US by regex.
  ['route-initech-uk', { tenantId: 'tenant-initech', prefix: '44', carrierId: 'carrier-initech-uk', priority: 10 }],
  ['route-initech-uk-platform', { tenantId: 'tenant-initech', prefix: '44', carrierId: 'carrier-platform-uk', priority: 20 }],
  ['route-initech-us', { tenantId: 'tenant-initech', regex: '^1[2-9][0-9]{9}$', carrierId: 'carrier-platform-us', priority: 10, stripPrefix: '1' }],
];

const CAMPAIGNS: CampaignInput[] = [
  { id: 'camp-acme-routes', tenantId: 'tenant-acme', name: 'Acme renewals', stirShakenAttestation: 'A', metadata: null },
  { id: 'camp-acme-forced', tenantId: 'tenant-acme', name: 'Acme priority (forced carrier)', stirShakenAttestation: 'B', metadata: { carrier_id: 'carrier-acme-backup', dialer: 'predictive' } },
  { id: 'camp-acme-archived', tenantId: 'tenant-acme', name: 'Acme legacy (forced to an archived carrier)', stirShakenAttestation: 'C', metadata: { carrier_id: 'carrier-acme-old' } },
  { id: 'camp-acme-noattest', tenantId: 'tenant-acme', name: 'Acme survey', stirShakenAttestation: null, metadata: {} },
  { id: 'camp-globex-forced-platform', tenantId: 'tenant-globex', name: 'Globex outreach', stirShakenAttestation: 'A', metadata: { carrier_id: 'carrier-platform-us' } },
  { id: 'camp-globex-routes', tenantId: 'tenant-globex', name: 'Globex follow-up', stirShakenAttestation: 'B', metadata: null },
  { id: 'camp-initech-uk', tenantId: 'tenant-initech', name: 'Initech UK', stirShakenAttestation: null, metadata: null, status: 'paused' },
];

const LEAD_LISTS = [
  { id: 'list-acme-nyc', tenantId: 'tenant-acme', name: 'Acme New York', callerId: '+12125550100' },
  { id: 'list-acme-uk', tenantId: 'tenant-acme', name: 'Acme London', callerId: '+442079460000' },
  { id: 'list-globex-us', tenantId: 'tenant-globex', name: 'Globex Chicago', callerId: '+13125550100' },
  { id: 'list-initech-uk', tenantId: 'tenant-initech', name: 'Initech Manchester', callerId: '+441614960000' },
];

/** The fixed leads the README uses; generated leads follow with the same ID scheme. */
const FIXED_LEADS: Omit<LeadInput, 'tenantId'>[] = [
  { id: 'lead-acme-0001', leadListId: 'list-acme-nyc', primaryPhone: '+12125550101' },
  { id: 'lead-acme-0002', leadListId: 'list-acme-nyc', primaryPhone: '+1 (646) 555-0102' },
  { id: 'lead-acme-0003', leadListId: 'list-acme-uk', primaryPhone: '+442079460103' },
  { id: 'lead-acme-0004', leadListId: 'list-acme-nyc', primaryPhone: '+18005550104' },
  { id: 'lead-acme-0005', leadListId: 'list-acme-uk', primaryPhone: '+33142685300' },
  { id: 'lead-globex-0001', leadListId: 'list-globex-us', primaryPhone: '+13125550101' },
  { id: 'lead-globex-0002', leadListId: 'list-globex-us', primaryPhone: '+442079460102' },
  { id: 'lead-initech-0001', leadListId: 'list-initech-uk', primaryPhone: '+441614960101' },
];

/**
 * Writes the demo replica to `path` atomically (a temporary file renamed over it, as a sync job should) and
 * returns what it wrote. Replaces an existing file.
 */
export function writeDemoReplica(path: string, opts: DemoOptions = {}): DemoSummary {
  const total = Math.max(opts.leads ?? 5000, FIXED_LEADS.length);
  const random = mulberry32(opts.seed ?? 1);
  const tmp = `${path}.demo-tmp`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`]) rmSync(f, { force: true });

  const w = openReplicaWriter(tmp, { now: opts.now ?? Date.now });
  let phoneNumbers = 0;
  try {
    w.transaction(() => {
      for (const c of CARRIERS) w.insertCarrier(c);
      for (const [id, r] of ROUTES) w.insertRoute({ id, ...r });
      for (const c of CAMPAIGNS) w.insertCampaign(c);
      for (const l of LEAD_LISTS) w.insertLeadList(l);
      // Inbound DID inventory: plays no part in outbound routing, present because real replicas have it.
      for (const [i, l] of LEAD_LISTS.entries()) {
        w.insertPhoneNumber({ id: `did-${i + 1}`, tenantId: l.tenantId, number: l.callerId, carrierId: i === 0 ? 'carrier-platform-inbound' : 'carrier-platform-us', capabilities: 'voice' });
        phoneNumbers++;
      }
    });
    w.insertLeads(leads(total, random));
    w.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    w.close();
  }
  renameSync(tmp, path);
  return {
    tenants: DEMO_TENANTS.length,
    carriers: CARRIERS.length,
    routes: ROUTES.length,
    phoneNumbers,
    campaigns: CAMPAIGNS.length,
    leadLists: LEAD_LISTS.length,
    leads: total,
  };
}

function* leads(total: number, random: () => number): Generator<LeadInput> {
  const counters = new Map<string, number>();
  for (const l of FIXED_LEADS) {
    const list = LEAD_LISTS.find((x) => x.id === l.leadListId);
    const tenantId = list?.tenantId ?? 'tenant-acme';
    counters.set(tenantId, (counters.get(tenantId) ?? 0) + 1);
    yield { ...l, tenantId };
  }
  const width = Math.max(4, String(total).length);
  for (let n = FIXED_LEADS.length; n < total; n++) {
    // 60% acme, 25% globex, 15% initech.
    const r = random();
    const list = r < 0.45 ? LEAD_LISTS[0] : r < 0.6 ? LEAD_LISTS[1] : r < 0.85 ? LEAD_LISTS[2] : LEAD_LISTS[3];
    if (list === undefined) continue;
    const seq = (counters.get(list.tenantId) ?? 0) + 1;
    counters.set(list.tenantId, seq);
    const tenant = list.tenantId.replace(/^tenant-/, '');
    yield { id: `lead-${tenant}-${String(seq).padStart(width, '0')}`, tenantId: list.tenantId, leadListId: list.id, primaryPhone: phoneFor(list.id, random) };
  }
}

/** A valid number in a fictional range near the list's home; a few carry formatting characters. */
function phoneFor(listId: string, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const d2 = String(Math.floor(random() * 100)).padStart(2, '0');
  const d3 = String(Math.floor(random() * 1000)).padStart(3, '0');
  const formatted = random() < 0.02;
  if (listId === 'list-acme-uk' || listId === 'list-initech-uk') {
    if (listId === 'list-initech-uk' && random() < 0.5) return formatted ? `+44 161 496 0${d3}` : `+441614960${d3}`;
    return formatted ? `+44 20 7946 0${d3}` : `+442079460${d3}`;
  }
  const area = listId === 'list-globex-us' ? pick(['312', '773', '312']) : pick(['212', '646', '718', '917', '800']);
  return formatted ? `+1 (${area}) 555-01${d2}` : `+1${area}55501${d2}`;
}

/** Small seeded PRNG (mulberry32): deterministic demo data without a dependency. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
