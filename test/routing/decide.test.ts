import t from 'tap';
import { decide, type DecideOptions } from '../../src/routing/decide.js';
import { DIAL_STRING_RE } from '../../src/routing/dial-values.js';
import { buildRouteIndex } from '../../src/routing/route-index.js';
import type { CallInput, CarrierRow, RouteRow } from '../../src/routing/types.js';
import { CLI, DEST, INPUT, OPTIONS, carrier, records, route, type RecordsSpec } from './rows.js';

interface World {
  carriers?: CarrierRow[];
  routes?: RouteRow[];
  records?: RecordsSpec;
  input?: Partial<CallInput>;
  options?: Partial<DecideOptions>;
}

const DEFAULT_CARRIERS = [carrier({ id: 'c1' }), carrier({ id: 'c2' }), carrier({ id: 'c3' }), carrier({ id: 'c4' })];
const DEFAULT_ROUTES = [route({ id: 'r1', prefix: '1', carrierId: 'c1' })];

function run(w: World) {
  const index = buildRouteIndex({ carriers: w.carriers ?? DEFAULT_CARRIERS, routes: w.routes ?? DEFAULT_ROUTES, phoneNumbers: [] });
  const d = decide({ ...INPUT, ...w.input }, records(w.records), index, { ...OPTIONS, ...w.options });
  for (const c of d.candidates) if (!DIAL_STRING_RE.test(c.dialString)) throw new Error(`unsafe dial string ${c.dialString}`);
  return d;
}

t.test('call errors: one row per code', async (t) => {
  const rows: [string, World, string][] = [
    ['no campaign', { records: { campaign: null } }, 'campaign_not_found'],
    ['campaign row of another ID', { records: { campaign: { id: 'other' } } }, 'campaign_not_found'],
    ['no lead', { records: { lead: null } }, 'lead_not_found'],
    ['no lead list', { records: { leadList: null } }, 'lead_list_not_found'],
    ['list is not the lead\'s list', { records: { leadList: { id: 'list2' } } }, 'lead_list_not_found'],
    ['lead of another tenant', { records: { lead: { tenantId: 't2' } } }, 'tenant_mismatch'],
    ['list of another tenant', { records: { leadList: { tenantId: 't2' } } }, 'tenant_mismatch'],
    ['claimed tenant differs', { input: { claimedTenantId: 't2' } }, 'tenant_mismatch'],
    ['destination NULL', { records: { lead: { primaryPhone: null } } }, 'invalid_destination'],
    ['destination too short', { records: { lead: { primaryPhone: '+1415555012' } } }, 'invalid_destination'],
    ['destination unknown country code', { records: { lead: { primaryPhone: '+999123456' } } }, 'invalid_destination'],
    ['destination with letters', { records: { lead: { primaryPhone: '+1 415 555 CALL' } } }, 'invalid_destination'],
    ['destination with trunk 0 after CC', { records: { lead: { primaryPhone: '+44 (0)20 7123 4567' } } }, 'invalid_destination'],
    ['caller ID NULL', { records: { leadList: { callerId: null } } }, 'invalid_caller_id'],
    ['caller ID invalid', { records: { leadList: { callerId: '+1000' } } }, 'invalid_caller_id'],
    ['no matching route', { routes: [route({ id: 'r1', prefix: '44', carrierId: 'c1' })] }, 'no_route'],
    ['only route ineligible', { carriers: [carrier({ id: 'c1', status: 'disabled' })] }, 'no_route'],
  ];
  for (const [name, world, code] of rows) {
    const d = run(world);
    t.equal(d.ok, false, name);
    t.equal(d.error?.code, code, name);
    t.same(d.candidates, [], `${name}: no candidates`);
  }
});

t.test('the happy path fills every field', async (t) => {
  const d = run({ input: { claimedTenantId: 't1' } });
  t.same(d, {
    ok: true, error: null, tenantId: 't1', campaignId: 'camp1', leadId: 'lead1', destination: DEST, callerId: CLI,
    attestation: 'A', forcedCarrier: null, source: 'route',
    candidates: [{ carrierId: 'c1', carrierName: 'gw_c1', routeId: 'r1', number: DEST, callerId: CLI, dialString: `sofia/gateway/gw_c1/${DEST}` }],
    skipped: [],
  });
});

t.test('destination and caller ID formatting characters', async (t) => {
  const rows: [string, string | null][] = [
    ['+1 (415) 555-0123', DEST], ['1.415.555.0123', DEST], ['14155550123', DEST], ['+1-415-555-0123', DEST],
    ['++14155550123', null], ['1415+5550123', null], ['+1 415 555 0123 ext 9', null], ['+1\t4155550123', null],
    ['+1/415/555/0123', null], ['', null], ['0014155550123', null],
  ];
  for (const [raw, want] of rows) {
    const d = run({ records: { lead: { primaryPhone: raw } } });
    t.equal(d.destination, want, `destination ${JSON.stringify(raw)}`);
    const c = run({ records: { leadList: { callerId: raw } } });
    t.equal(c.callerId, want, `caller ID ${JSON.stringify(raw)}`);
  }
});

t.test('attestation: only A, B, C', async (t) => {
  for (const [raw, want] of [['A', 'A'], ['B', 'B'], ['C', 'C'], [null, null], ['a', null], ['A\n', null], ['D', null]] as const) {
    t.equal(run({ records: { campaign: { stirShakenAttestation: raw } } }).attestation, want, String(raw));
  }
});

const forced = (carrierId: unknown) => ({ campaign: { metadata: JSON.stringify({ carrier_id: carrierId }) } });

t.test('forced carrier: used, or fallback with the reason', async (t) => {
  const rows: [string, CarrierRow | null, string, RecordsSpec?][] = [
    ['eligible', carrier({ id: 'f' }), 'used'],
    ['bidirectional register trunk', carrier({ id: 'f', direction: 'bidirectional', type: 'register_trunk' }), 'used'],
    ['platform carrier', carrier({ id: 'f', tenantId: null, origin: 'platform' }), 'used'],
    ['missing', null, 'carrier_not_found'],
    ['archived', carrier({ id: 'f', status: 'archived' }), 'carrier_archived'],
    ['disabled', carrier({ id: 'f', status: 'disabled' }), 'carrier_disabled'],
    ['unknown status', carrier({ id: 'f', status: 'Active' }), 'carrier_disabled'],
    ['inbound', carrier({ id: 'f', direction: 'inbound' }), 'carrier_not_outbound'],
    ['unknown direction', carrier({ id: 'f', direction: 'out' }), 'carrier_not_outbound'],
    ['iax2', carrier({ id: 'f', type: 'iax2' }), 'carrier_unsupported_type'],
    ['webrtc', carrier({ id: 'f', type: 'webrtc' }), 'carrier_unsupported_type'],
    ['other tenant', carrier({ id: 'f', tenantId: 't2' }), 'carrier_other_tenant'],
    ['other tenant, archived too', carrier({ id: 'f', tenantId: 't2', status: 'archived' }), 'carrier_other_tenant'],
    ['tenant NULL but origin tenant', carrier({ id: 'f', tenantId: null, origin: 'tenant' }), 'carrier_other_tenant'],
    ['name with space', carrier({ id: 'f', name: 'my gw' }), 'carrier_invalid_name'],
    ['name too long', carrier({ id: 'f', name: 'g'.repeat(65) }), 'carrier_invalid_name'],
    ['bad add_prefix', carrier({ id: 'f', addPrefix: '9,' }), 'carrier_invalid_config'],
    ['bad caller_id_format', carrier({ id: 'f', callerIdFormat: 'e164' }), 'carrier_invalid_config'],
    ['strip makes the number empty', carrier({ id: 'f', stripPrefix: DEST }), 'invalid_number'],
  ];
  for (const [name, row, outcome] of rows) {
    const carriers = [...DEFAULT_CARRIERS, ...(row === null ? [] : [row])];
    const d = run({ carriers, records: forced('f') });
    t.same(d.forcedCarrier, { carrierId: 'f', outcome }, name);
    t.equal(d.ok, true, `${name}: a forced failure never fails the call`);
    if (outcome === 'used') {
      t.equal(d.source, 'forced', name);
      t.same(d.candidates.map((c) => [c.carrierId, c.routeId]), [['f', null]], `${name}: forced carrier is the only candidate`);
    } else {
      t.equal(d.source, 'route', name);
      t.same(d.candidates.map((c) => c.carrierId), ['c1'], `${name}: fell back to routes`);
    }
  }
});

t.test('forced carrier: metadata forms', async (t) => {
  const rows: [string, string | null, unknown][] = [
    ['NULL', null, null],
    ['empty', '', null],
    ['whitespace', '  ', null],
    ['no carrier_id', '{"x":1}', null],
    ['carrier_id null', '{"carrier_id":null}', null],
    ['carrier_id empty', '{"carrier_id":""}', null],
    ['not JSON', '{carrier_id:c1', { carrierId: null, outcome: 'metadata_invalid' }],
    ['array', '["c1"]', { carrierId: null, outcome: 'metadata_invalid' }],
    ['string', '"c1"', { carrierId: null, outcome: 'metadata_invalid' }],
    ['carrier_id a number', '{"carrier_id":7}', { carrierId: null, outcome: 'metadata_invalid' }],
    ['huge', JSON.stringify({ carrier_id: 'c2', pad: 'x'.repeat(70_000) }), { carrierId: null, outcome: 'metadata_invalid' }],
    ['proto key', '{"__proto__":{"carrier_id":"c2"}}', null],
    ['valid', '{"carrier_id":"c2"}', { carrierId: 'c2', outcome: 'used' }],
  ];
  for (const [name, metadata, want] of rows) {
    const d = run({ records: { campaign: { metadata } } });
    t.same(d.forcedCarrier, want, name);
    t.equal(d.ok, true, name);
  }
});

t.test('forced carrier with failover: routes follow, minus the forced carrier', async (t) => {
  const routes = [
    route({ id: 'r1', prefix: '1', carrierId: 'c2', priority: 10 }),
    route({ id: 'r2', prefix: '1', carrierId: 'c1', priority: 20 }),
    route({ id: 'r3', prefix: '1', carrierId: 'c3', priority: 30 }),
    route({ id: 'r4', prefix: '1', carrierId: 'c4', priority: 40 }),
  ];
  const off = run({ routes, records: forced('c1') });
  t.same(off.candidates.map((c) => c.carrierId), ['c1']);
  t.same(off.skipped, [], 'routes are not considered without failover');
  const on = run({ routes, records: forced('c1'), options: { forcedFailoverToRoutes: true } });
  t.same(on.candidates.map((c) => [c.carrierId, c.routeId]), [['c1', null], ['c2', 'r1'], ['c3', 'r3']]);
  t.same(on.skipped.map((s) => [s.routeId, s.reason]), [['r2', 'duplicate_carrier'], ['r4', 'max_attempts']]);
  t.equal(on.source, 'forced');
});

t.test('route order: priority, then longer prefix, then id; regex counts as prefix length 0', async (t) => {
  const rows: [string, RouteRow[], string[]][] = [
    ['priority wins over length', [
      route({ id: 'a', prefix: '1415', carrierId: 'c1', priority: 20 }),
      route({ id: 'b', prefix: '1', carrierId: 'c2', priority: 10 }),
    ], ['c2', 'c1']],
    ['tie: longest prefix first', [
      route({ id: 'a', prefix: '1', carrierId: 'c1' }),
      route({ id: 'b', prefix: '1415', carrierId: 'c2' }),
      route({ id: 'c', prefix: '+141', carrierId: 'c3' }),
    ], ['c2', 'c3', 'c1']],
    ['tie: then id', [
      route({ id: 'b', prefix: '14', carrierId: 'c1' }),
      route({ id: 'a', prefix: '14', carrierId: 'c2' }),
    ], ['c2', 'c1']],
    ['regex after prefixes of equal priority', [
      route({ id: 'a', regex: '^1[0-9]{10}$', carrierId: 'c1' }),
      route({ id: 'b', prefix: '1', carrierId: 'c2' }),
    ], ['c2', 'c1']],
    ['regex before prefixes of lower priority', [
      route({ id: 'a', regex: '^1[0-9]{10}$', carrierId: 'c1', priority: 1 }),
      route({ id: 'b', prefix: '1', carrierId: 'c2' }),
    ], ['c1', 'c2']],
  ];
  for (const [name, routes, want] of rows) t.same(run({ routes }).candidates.map((c) => c.carrierId), want, name);
});

t.test('route matching', async (t) => {
  const rows: [string, RouteRow, boolean, string?][] = [
    ['prefix matches', route({ id: 'r', prefix: '1415', carrierId: 'c1' }), true],
    ['leading + in the prefix ignored', route({ id: 'r', prefix: '+1415', carrierId: 'c1' }), true],
    ['prefix does not match', route({ id: 'r', prefix: '1416', carrierId: 'c1' }), false],
    ['prefix longer than the number', route({ id: 'r', prefix: `${DEST}0`, carrierId: 'c1' }), false],
    ['whole-number prefix', route({ id: 'r', prefix: DEST, carrierId: 'c1' }), true],
    ['anchored regex', route({ id: 'r', regex: '^1415[0-9]{7}$', carrierId: 'c1' }), true],
    ['regex with alternation', route({ id: 'r', regex: '^44|^1415', carrierId: 'c1' }), true],
    ['unanchored regex matches anywhere', route({ id: 'r', regex: '5550', carrierId: 'c1' }), true],
    ['regex does not match', route({ id: 'r', regex: '^44', carrierId: 'c1' }), false],
    ['regex never sees the +', route({ id: 'r', regex: '^\\+1', carrierId: 'c1' }), false],
    ['regex quantified first digit', route({ id: 'r', regex: '^14?15', carrierId: 'c1' }), true],
    ['invalid regex', route({ id: 'r', regex: '^(14', carrierId: 'c1' }), false, 'regex_invalid'],
    ['unsafe regex', route({ id: 'r', regex: '^(1+)+$', carrierId: 'c1' }), false, 'regex_unsafe'],
    ['backreference', route({ id: 'r', regex: '^(1)\\1', carrierId: 'c1' }), false, 'regex_unsafe'],
    ['lookbehind', route({ id: 'r', regex: '(?<=1)4', carrierId: 'c1' }), false, 'regex_unsafe'],
    ['regex too long', route({ id: 'r', regex: `^1${'[0-9]?'.repeat(60)}`, carrierId: 'c1' }), false, 'regex_unsafe'],
    ['unknown match_type', route({ id: 'r', matchType: 'exact', prefix: '1', carrierId: 'c1' }), false, 'route_invalid'],
    ['prefix route without prefix', route({ id: 'r', matchType: 'prefix', carrierId: 'c1' }), false, 'route_invalid'],
    ['empty prefix is not a catch-all', route({ id: 'r', prefix: '', carrierId: 'c1' }), false, 'route_invalid'],
    ['prefix with letters', route({ id: 'r', prefix: '1a', carrierId: 'c1' }), false, 'route_invalid'],
    ['other tenant route never matches', route({ id: 'r', prefix: '1', carrierId: 'c1', tenantId: 't2' }), false],
  ];
  for (const [name, row, matches, unmatchable] of rows) {
    const d = run({ routes: [row], options: { reportUnmatchable: true } });
    t.equal(d.ok, matches, name);
    if (unmatchable !== undefined) t.same(d.skipped, [{ routeId: 'r', carrierId: 'c1', reason: unmatchable }], `${name}: reported`);
    const quiet = run({ routes: [row] });
    if (!matches) t.same(quiet.skipped, [], `${name}: not reported on the call path`);
  }
});

t.test('route skips: one row per reason', async (t) => {
  const rows: [string, CarrierRow[], RouteRow[], [string, string][], number?][] = [
    ['carrier missing', [], [route({ id: 'r', prefix: '1', carrierId: 'gone' })], [['r', 'carrier_not_found']]],
    ['carrier archived', [carrier({ id: 'x', status: 'archived' })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'carrier_archived']]],
    ['carrier disabled', [carrier({ id: 'x', status: 'disabled' })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'carrier_disabled']]],
    ['carrier inbound', [carrier({ id: 'x', direction: 'inbound' })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'carrier_not_outbound']]],
    ['carrier iax2', [carrier({ id: 'x', type: 'iax2' })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'carrier_unsupported_type']]],
    ['carrier of t2', [carrier({ id: 'x', tenantId: 't2' })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'carrier_other_tenant']]],
    ['carrier bad name', [carrier({ id: 'x', name: 'a/b' })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'carrier_invalid_name']]],
    ['carrier bad strip', [carrier({ id: 'x', stripPrefix: '1 ' })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'carrier_invalid_config']]],
    ['route bad add', [carrier({ id: 'x' })], [route({ id: 'r', prefix: '1', carrierId: 'x', addPrefix: '9#' })], [['r', 'route_invalid']]],
    ['duplicate carrier', [carrier({ id: 'x' })], [
      route({ id: 'r', prefix: '1', carrierId: 'x', priority: 1 }), route({ id: 's', prefix: '1', carrierId: 'x', priority: 2 }),
    ], [['s', 'duplicate_carrier']]],
    ['max attempts', [carrier({ id: 'x' }), carrier({ id: 'y' })], [
      route({ id: 'r', prefix: '1', carrierId: 'x', priority: 1 }), route({ id: 's', prefix: '1', carrierId: 'y', priority: 2 }),
    ], [['s', 'max_attempts']], 1],
    ['+ in the middle after rules', [carrier({ id: 'x', addPrefix: '9' })], [route({ id: 'r', prefix: '1', carrierId: 'x', addPrefix: '+' })], [['r', 'invalid_number']]],
    ['number too long after rules', [carrier({ id: 'x', addPrefix: '9'.repeat(15) })], [route({ id: 'r', prefix: '1', carrierId: 'x' })], [['r', 'invalid_number']]],
  ];
  for (const [name, carriers, routes, want, maxAttempts] of rows) {
    const d = run({ carriers, routes, options: { maxAttempts: maxAttempts ?? 3 } });
    t.same(d.skipped.map((s) => [s.routeId, s.reason]), want, name);
  }
});

t.test('strip/add order: route strip, route add, carrier strip, carrier add', async (t) => {
  const rows: [string, Partial<RouteRow>, Partial<CarrierRow>, string][] = [
    ['no rules: full E.164, nothing implicit', {}, {}, DEST],
    ['route strip', { stripPrefix: '1' }, {}, '4155550123'],
    ['route strip only when it is a prefix', { stripPrefix: '44' }, {}, DEST],
    ['route add', { addPrefix: '011' }, {}, `011${DEST}`],
    ['route add +', { addPrefix: '+' }, {}, `+${DEST}`],
    ['carrier strip sees the route result', { addPrefix: '9' }, { stripPrefix: '91' }, '4155550123'],
    ['carrier add last', { stripPrefix: '1' }, { addPrefix: '0' }, '04155550123'],
    ['all four', { stripPrefix: '1', addPrefix: '77' }, { stripPrefix: '774', addPrefix: '8' }, '8155550123'],
    ['empty strings are no rules', { stripPrefix: '', addPrefix: '' }, { stripPrefix: '', addPrefix: '' }, DEST],
  ];
  for (const [name, r, c, want] of rows) {
    const d = run({ carriers: [carrier({ id: 'x', ...c })], routes: [route({ id: 'r', prefix: '1', carrierId: 'x', ...r })] });
    t.equal(d.candidates[0]?.number, want, name);
    t.equal(d.candidates[0]?.dialString, `sofia/gateway/gw_x/${want}`, `${name}: dial string`);
  }
  const f = run({ carriers: [...DEFAULT_CARRIERS, carrier({ id: 'f', stripPrefix: '1', addPrefix: '0' })], records: forced('f') });
  t.equal(f.candidates[0]?.number, '04155550123', 'forced carrier: only carrier rules');
});

t.test('caller-ID formats', async (t) => {
  const rows: [string | null, string, string][] = [
    [null, `+${CLI}`, CLI],
    ['E164', `+${CLI}`, CLI],
    ['+E164', `+${CLI}`, `+${CLI}`],
    ['national', `+${CLI}`, '2125550100'],
    ['national', '+44 20 7123 4567', '02071234567'],
  ];
  for (const [format, cli, want] of rows) {
    const d = run({ carriers: [carrier({ id: 'x', callerIdFormat: format })], routes: [route({ id: 'r', prefix: '1', carrierId: 'x' })], records: { leadList: { callerId: cli } } });
    t.equal(d.candidates[0]?.callerId, want, `${format ?? 'NULL'} ${cli}`);
  }
});

t.test('tenant isolation', async (t) => {
  const carriers = [carrier({ id: 'mine' }), carrier({ id: 'theirs', tenantId: 't2' }), carrier({ id: 'plat', tenantId: null, origin: 'platform' })];
  const routes = [
    route({ id: 'r2', prefix: '1', carrierId: 'theirs', tenantId: 't2', priority: 1 }),
    route({ id: 'r1', prefix: '1', carrierId: 'mine', priority: 5 }),
    route({ id: 'rp', prefix: '1', carrierId: 'plat', priority: 6 }),
  ];
  const d = run({ carriers, routes });
  t.same(d.candidates.map((c) => c.carrierId), ['mine', 'plat'], 'another tenant\'s routes never match; platform carriers serve');
  t.same(d.skipped, []);
  const f = run({ carriers, routes, records: forced('theirs') });
  t.same(f.forcedCarrier, { carrierId: 'theirs', outcome: 'carrier_other_tenant' });
  t.notOk(f.candidates.some((c) => c.carrierId === 'theirs'), 'a forced carrier of another tenant is never used');
  const t2 = run({ carriers, routes, records: { campaign: { tenantId: 't2' }, lead: { tenantId: 't2' }, leadList: { tenantId: 't2' } } });
  t.same(t2.candidates.map((c) => c.carrierId), ['theirs']);
});

t.test('a number cache changes nothing', async (t) => {
  const { createNumberCache } = await import('../../src/routing/numbers.js');
  const numbers = createNumberCache(2);
  const carriers = [carrier({ id: 'x', callerIdFormat: 'national' })];
  const routes = [route({ id: 'r', prefix: '1', carrierId: 'x' })];
  for (const cli of ['+12125550100', '+442071234567', 'junk', '+12125550100', '+33123456789', 'junk']) {
    const spec = { carriers, routes, records: { leadList: { callerId: cli } } };
    t.same(run({ ...spec, options: { numbers } }), run(spec), cli);
  }
  for (const phone of ['+1 (415) 555-0123', '+44 20 7123 4567', '+4402071234567', '1415555012', '+80012345678', 'x', null]) {
    const spec = { carriers, routes, records: { lead: { primaryPhone: phone } } };
    t.same(run({ ...spec, options: { numbers } }), run(spec), `destination ${String(phone)}`);
  }
});
