import t from 'tap';
import { planCall, callPlanOptionsFromConfig } from '../../src/routing/call-plan.js';
import { buildRouteIndex } from '../../src/routing/route-index.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { carrier, CLI, INPUT, phoneNumber, records, route } from './rows.js';

const options = callPlanOptionsFromConfig(ConfigSchema.parse({ identity: { verify_caller_id_ownership: true } }));

t.test('per candidate: the decision candidate, its carrier row, and its identity plan', async (t) => {
  const index = buildRouteIndex({
    carriers: [carrier({ id: 'c1', identityMode: 'header', attestationHeader: 'X-Attest' }), carrier({ id: 'c2', identityMode: 'garbage' })],
    routes: [route({ id: 'r1', prefix: '1', carrierId: 'c1', priority: 1 }), route({ id: 'r2', prefix: '1', carrierId: 'c2', priority: 2 })],
    phoneNumbers: [phoneNumber({ id: 'p1', number: `+${CLI}` })],
  });
  const plan = planCall(INPUT, records({ campaign: { name: 'Camp' }, leadList: { name: 'L' } }), index, options);
  t.equal(plan.decision.ok, true);
  t.same(plan.names, { campaign: 'Camp', leadList: 'L' });
  t.equal(plan.tenantOwnsCallerId, true);
  t.same(plan.candidates.map((c) => [c.candidate.carrierId, c.carrier.id, c.identity.mode, c.identity.header, c.identity.level]), [
    ['c1', 'c1', 'header', 'X-Attest', 'A'],
    ['c2', 'c2', 'header', 'P-Attestation-Indicator', 'A'],
  ]);
  t.equal(plan.candidates[1]?.identity.problems[0]?.code, 'identity_mode_invalid');
});

t.test('ownership not verified → A downgraded to B', async (t) => {
  const index = buildRouteIndex({ carriers: [carrier({ id: 'c1' })], routes: [route({ id: 'r1', prefix: '1', carrierId: 'c1' })], phoneNumbers: [] });
  const plan = planCall(INPUT, records(), index, options);
  t.equal(plan.tenantOwnsCallerId, false);
  t.match(plan.candidates[0]?.identity, { level: 'B', requestedLevel: 'A', downgraded: true });
});

t.test('a failed decision has no candidates', async (t) => {
  const index = buildRouteIndex({ carriers: [], routes: [], phoneNumbers: [] });
  const plan = planCall(INPUT, records(), index, options);
  t.equal(plan.decision.error?.code, 'no_route');
  t.same(plan.candidates, []);
  const missing = planCall(INPUT, records({ lead: null }), index, options);
  t.equal(missing.decision.error?.code, 'lead_not_found');
  t.equal(missing.tenantOwnsCallerId, null);
});
