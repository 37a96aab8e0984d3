/**
 * Hostile data in every text column of every table: the call fails with a typed code or the value is skipped,
 * and no candidate ever carries a character outside the strict dial sets.
 */
import t from 'tap';
import { CALL_ERROR_CODES } from '../../src/errors.js';
import { decide } from '../../src/routing/decide.js';
import { DIAL_NUMBER_RE, DIAL_STRING_RE, GATEWAY_NAME_RE } from '../../src/routing/dial-values.js';
import { buildRouteIndex } from '../../src/routing/route-index.js';
import type { CallInput, CampaignRow, LeadListRow, LeadRow } from '../../src/routing/types.js';
import { carrier, phoneNumber, records, route } from './rows.js';

export const HOSTILE_VALUES: readonly string[] = [
  '\r\n', 'gw1\r\napi originate sofia/gateway/x/1 &park', '\n\napi originate loopback/1 &bridge(sofia/gateway/x/1)',
  'unload mod_event_socket', '\0', 'gw1\0', '1\u0000415', 'a,b', 'a|b', '{origination_caller_id_number=1}', '[x=y]',
  '^^:a:b', "'", '"', '<sip:evil@example.com>', '%0A', '%0d%0aapi', 'x'.repeat(10_000), '1'.repeat(10_000),
  '\uD800', '\uFFFD', 'gw\u00e9', '+1415555CALL', '+1+4155550123', '14155550123+', '+', '++', '$${sip_profile}',
  '${var}', 'gw1 ', ' ', '\t', 'gw1/extra', '../etc', '\u2028', '１４１５５５５０１２３',
];
/** A label safe for TAP output (U+2028 and friends would otherwise break the stream). */
const show = (v: string): string =>
  JSON.stringify(v.slice(0, 40)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const SUFFIXES = ['\n', '\r\napi originate x', ',evil', '|x', '\0'];

/** A world where every path produces candidates: forced carrier f (failover on), route r1 → c1, a DID. */
function world() {
  return {
    carriers: [carrier({ id: 'c1', name: 'gw1' }), carrier({ id: 'f', name: 'gwf', callerIdFormat: 'national', stripPrefix: '1', addPrefix: '0' })],
    routes: [route({ id: 'r1', prefix: '1', carrierId: 'c1', stripPrefix: '1', addPrefix: '+1' }), route({ id: 'r2', regex: '^1415', carrierId: 'f' })],
    phoneNumbers: [phoneNumber({ id: 'p1', number: '+12125550100', carrierId: 'c1' })],
    campaign: { ...records().campaign!, metadata: '{"carrier_id":"f"}' } as CampaignRow,
    lead: records().lead! as LeadRow,
    leadList: records().leadList! as LeadListRow,
    input: { campaignId: 'camp1', leadId: 'lead1', claimedTenantId: 't1' } as CallInput,
  };
}
type World = ReturnType<typeof world>;

const TEXT_COLUMNS: Record<string, (w: World, v: string) => void> = {};
const tableColumns: [string, (w: World) => object, string[]][] = [
  ['carriers', (w) => w.carriers[0]!, ['id', 'tenantId', 'name', 'type', 'direction', 'status', 'origin', 'remoteHost', 'transport', 'stripPrefix', 'addPrefix', 'callerIdFormat', 'identityMode', 'attestationHeader', 'updatedAt']],
  ['forced carrier', (w) => w.carriers[1]!, ['id', 'tenantId', 'name', 'type', 'direction', 'status', 'origin', 'stripPrefix', 'addPrefix', 'callerIdFormat']],
  ['outbound_routes', (w) => w.routes[0]!, ['id', 'tenantId', 'matchType', 'prefix', 'regex', 'carrierId', 'stripPrefix', 'addPrefix', 'updatedAt']],
  ['regex route', (w) => w.routes[1]!, ['regex', 'matchType']],
  ['phone_numbers', (w) => w.phoneNumbers[0]!, ['id', 'tenantId', 'number', 'carrierId', 'capabilities']],
  ['campaigns', (w) => w.campaign, ['id', 'tenantId', 'name', 'status', 'stirShakenAttestation', 'metadata']],
  ['lead_lists', (w) => w.leadList, ['id', 'tenantId', 'name', 'callerId']],
  ['leads', (w) => w.lead, ['id', 'tenantId', 'leadListId', 'primaryPhone']],
];
for (const [table, pick, columns] of tableColumns) {
  for (const column of columns) {
    TEXT_COLUMNS[`${table}.${column}`] = (w, v) => {
      (pick(w) as Record<string, unknown>)[column] = v;
    };
  }
}
// A hostile forced carrier ID inside otherwise valid metadata, and hostile channel-variable IDs.
TEXT_COLUMNS['campaigns.metadata.carrier_id'] = (w, v) => { w.campaign.metadata = JSON.stringify({ carrier_id: v }); };
TEXT_COLUMNS['input.claimedTenantId'] = (w, v) => { w.input.claimedTenantId = v; };
TEXT_COLUMNS['IDs everywhere'] = (w, v) => {
  w.input.campaignId = v; w.campaign.id = v; w.input.leadId = `${v}L`; w.lead.id = `${v}L`;
};

function assertSafe(t: { fail(message: string): unknown }, w: World, label: string, value: string): void {
  const index = buildRouteIndex({ carriers: w.carriers, routes: w.routes, phoneNumbers: w.phoneNumbers });
  const d = decide(w.input, { campaign: w.campaign, lead: w.lead, leadList: w.leadList }, index, {
    maxAttempts: 3, forcedFailoverToRoutes: true, reportUnmatchable: true,
  });
  const bad: string[] = [];
  if (!d.ok && (d.error === null || !(d.error.code in CALL_ERROR_CODES))) bad.push('untyped failure');
  if (d.error !== null && d.error.message !== CALL_ERROR_CODES[d.error.code]) bad.push('message is not the fixed text');
  void value;
  for (const c of d.candidates) {
    if (!GATEWAY_NAME_RE.test(c.carrierName)) bad.push(`gateway ${JSON.stringify(c.carrierName)}`);
    if (!DIAL_NUMBER_RE.test(c.number)) bad.push(`number ${JSON.stringify(c.number)}`);
    if (!DIAL_NUMBER_RE.test(c.callerId)) bad.push(`caller ID ${JSON.stringify(c.callerId)}`);
    if (!DIAL_STRING_RE.test(c.dialString)) bad.push(`dial string ${JSON.stringify(c.dialString)}`);
  }
  if (d.destination !== null && !/^[0-9]{1,15}$/.test(d.destination)) bad.push('destination');
  if (d.callerId !== null && !/^[0-9]{1,15}$/.test(d.callerId)) bad.push('caller ID digits');
  if (bad.length > 0) t.fail(`${label}: ${bad.join(', ')}`);
}

t.test('the unmodified world routes through every path', async (t) => {
  const w = world();
  const index = buildRouteIndex({ carriers: w.carriers, routes: w.routes, phoneNumbers: w.phoneNumbers });
  const d = decide(w.input, { campaign: w.campaign, lead: w.lead, leadList: w.leadList }, index, { maxAttempts: 3, forcedFailoverToRoutes: true });
  t.same(d.candidates.map((c) => [c.carrierName, c.number, c.callerId]), [['gwf', '04155550123', '2125550100'], ['gw1', '+14155550123', '12125550100']]);
  t.ok(index.isTenantNumber('t1', '12125550100'));
});

t.test('hostile value x every text column', async (t) => {
  let cases = 0;
  for (const [column, set] of Object.entries(TEXT_COLUMNS)) {
    const values = [...HOSTILE_VALUES];
    for (const suffix of SUFFIXES) values.push(`gw1${suffix}`, `+14155550123${suffix}`, `1${suffix}`, `^1415${suffix}`);
    for (const value of values) {
      const w = world();
      set(w, value);
      assertSafe(t, w, `${column} = ${show(value)}`, value);
      cases += 1;
    }
  }
  t.pass(`${cases} hostile cases stayed typed`);
});

t.test('hostile values never become a forced candidate or a route candidate', async (t) => {
  // A lone `+` is a legitimate add_prefix (dial +E164); every other hostile value must disable the carrier.
  for (const value of HOSTILE_VALUES.filter((v) => v !== '+')) {
    for (const column of ['name', 'stripPrefix', 'addPrefix', 'callerIdFormat', 'type', 'direction', 'status'] as const) {
      const w = world();
      (w.carriers[1] as unknown as Record<string, unknown>)[column] = value;
      const index = buildRouteIndex({ carriers: w.carriers, routes: w.routes, phoneNumbers: w.phoneNumbers });
      const d = decide(w.input, { campaign: w.campaign, lead: w.lead, leadList: w.leadList }, index, { maxAttempts: 3, forcedFailoverToRoutes: true });
      if (d.candidates.some((c) => c.carrierId === 'f')) t.fail(`carrier f used with ${column}=${show(value)}`);
    }
  }
  t.pass();
});

t.test('hostile destination and caller ID are typed errors', async (t) => {
  for (const value of HOSTILE_VALUES) {
    const a = world();
    a.lead.primaryPhone = value;
    const da = decide(a.input, { campaign: a.campaign, lead: a.lead, leadList: a.leadList }, buildRouteIndex({ carriers: a.carriers, routes: a.routes, phoneNumbers: [] }), { maxAttempts: 3, forcedFailoverToRoutes: false });
    t.equal(da.error?.code, 'invalid_destination', `destination ${show(value)}`);
    const b = world();
    b.leadList.callerId = value;
    const db = decide(b.input, { campaign: b.campaign, lead: b.lead, leadList: b.leadList }, buildRouteIndex({ carriers: b.carriers, routes: b.routes, phoneNumbers: [] }), { maxAttempts: 3, forcedFailoverToRoutes: false });
    t.equal(db.error?.code, 'invalid_caller_id', `caller ID ${show(value)}`);
  }
});
