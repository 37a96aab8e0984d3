import t from 'tap';
import { buildRouteIndex } from '../../src/routing/route-index.js';
import { carrier, phoneNumber, route } from './rows.js';

t.test('counts, carriers, tenant numbers', async (t) => {
  const index = buildRouteIndex({
    carriers: [carrier({ id: 'c1' }), carrier({ id: 'c2', status: 'archived' })],
    routes: [route({ id: 'r1', prefix: '1', carrierId: 'c1' }), route({ id: 'r2', prefix: '44', carrierId: 'c1', tenantId: 't2' })],
    phoneNumbers: [
      phoneNumber({ id: 'p1', number: '+1 212 555 0100' }),
      phoneNumber({ id: 'p2', number: 'not a number' }),
      phoneNumber({ id: 'p3', number: '+442071234567', tenantId: 't3' }),
    ],
  });
  t.equal(index.routeCount, 2);
  t.equal(index.carrierCount, 2);
  t.same(index.carrier('c2'), { ok: false, row: carrier({ id: 'c2', status: 'archived' }), reason: 'carrier_archived' });
  t.equal(index.carrier('nope'), undefined);
  t.same([...index.tenantNumbers('t1')], ['12125550100'], 'invalid numbers left out, E.164 digits');
  t.ok(index.isTenantNumber('t3', '442071234567'), 'a tenant with numbers but no routes');
  t.notOk(index.isTenantNumber('t1', '442071234567'), 'numbers are per tenant');
  t.same(index.matchingRoutes('t9', '14155550123'), [], 'unknown tenant');
});

t.test('matching is per tenant and in tenant order, across prefix lengths and regexes', async (t) => {
  const routes = [
    route({ id: 'a', prefix: '1', carrierId: 'c1', priority: 5 }),
    route({ id: 'b', prefix: '14155', carrierId: 'c1', priority: 5 }),
    route({ id: 'c', regex: '^141', carrierId: 'c1', priority: 1 }),
    route({ id: 'd', regex: '0123$', carrierId: 'c1', priority: 9 }),
    route({ id: 'e', regex: '^44', carrierId: 'c1', priority: 0 }),
    route({ id: 'f', prefix: '1', carrierId: 'c1', priority: 0, tenantId: 't2' }),
  ];
  const index = buildRouteIndex({ carriers: [carrier({ id: 'c1' })], routes, phoneNumbers: [] });
  t.same(index.matchingRoutes('t1', '14155550123').map((r) => r.row.id), ['c', 'b', 'a', 'd']);
  t.same(index.matchingRoutes('t2', '14155550123').map((r) => r.row.id), ['f']);
});

t.test('the index is frozen', async (t) => {
  const index = buildRouteIndex({ carriers: [], routes: [], phoneNumbers: [] });
  t.ok(Object.isFrozen(index));
});

t.test('a regex with a leading group of digit alternatives is found once, only where it can match', async (t) => {
  const index = buildRouteIndex({
    carriers: [carrier({ id: 'c1' }), carrier({ id: 'c2' })],
    routes: [
      route({ id: 'alt', regex: '^(?:1|15|44)[0-9]+$', carrierId: 'c1', priority: 5 }),
      route({ id: 'p1', prefix: '1', carrierId: 'c2', priority: 1 }),
    ],
    phoneNumbers: [],
  });
  const ids = (digits: string) => index.matchingRoutes('t1', digits).map((r) => r.row.id);
  t.same(ids('14155550123'), ['p1', 'alt']);
  t.same(ids('15005550006'), ['p1', 'alt'], '15 is covered by 1: still one hit');
  t.same(ids('442071234567'), ['alt']);
  t.same(ids('33123456789'), []);
});
