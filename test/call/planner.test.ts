import t from 'tap';
import { createCallPlanner } from '../../src/call/planner.js';
import { ConfigSchema } from '../../src/config/schema.js';
import type { LookupResult } from '../../src/replica/store.js';
import { callPlanOptionsFromConfig, planCall } from '../../src/routing/call-plan.js';
import { buildRouteIndex, type RouteIndex } from '../../src/routing/route-index.js';
import { carrier, INPUT, records, route } from '../routing/rows.js';

const index = buildRouteIndex({ carriers: [carrier({ id: 'c1', callerIdFormat: 'national' })], routes: [route({ id: 'r1', prefix: '1', carrierId: 'c1' })], phoneNumbers: [] });
const options = callPlanOptionsFromConfig(ConfigSchema.parse({}));

t.test('plans what planCall plans, with its own number cache, leaving the options untouched', async (t) => {
  const rec = records();
  const plan = createCallPlanner({ lookup: (): LookupResult<RouteIndex> => ({ ok: true, records: rec, index }) }, options);
  const first = plan(INPUT);
  const again = plan(INPUT);
  t.same(first, { ok: true, plan: planCall(INPUT, rec, index, options) });
  t.same(again, first, 'the second call (cache warm) plans the same');
  t.equal(options.decide.numbers, undefined, 'the caller\'s options are not mutated');
});

t.test('no replica data → replica_unavailable with the store\'s message', async (t) => {
  const plan = createCallPlanner(
    { lookup: (): LookupResult<RouteIndex> => ({ ok: false, code: 'replica_unavailable', message: 'replica x is closed', cause: 'replica_unavailable' }) },
    options,
  );
  t.same(plan(INPUT), { ok: false, code: 'replica_unavailable', message: 'replica x is closed' });
});
