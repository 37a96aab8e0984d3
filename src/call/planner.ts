/**
 * The `plan` dependency of the call handler, built from the replica store: look the call's rows up, then run
 * the pure {@link planCall}. The only I/O is the store lookup (synchronous SQLite).
 */
import type { ReplicaStore } from '../replica/store.js';
import { planCall, type CallPlan, type CallPlanOptions } from '../routing/call-plan.js';
import { createNumberCache } from '../routing/numbers.js';
import type { RouteIndex } from '../routing/route-index.js';
import type { CallInput } from '../routing/types.js';

/** What the handler's `plan` returns: the plan (its decision may carry a call error), or no data to plan with. */
export type PlanLookup =
  | { ok: true; plan: CallPlan }
  | { ok: false; code: 'replica_unavailable'; message: string };

/**
 * `(input) => PlanLookup` over `store`. Never throws (the store's lookup does not). Unless `options.decide`
 * brings its own, the planner owns one bounded caller-ID cache (see `createNumberCache`): a campaign presents
 * the same few caller IDs on every call, and validating one costs more than the rest of the decision. The
 * cache memoizes pure functions of its keys, so it never changes a plan and needs no invalidation on reload.
 */
export function createCallPlanner(
  store: Pick<ReplicaStore<RouteIndex>, 'lookup'>,
  options: CallPlanOptions,
): (input: CallInput) => PlanLookup {
  const planOptions: CallPlanOptions = options.decide.numbers !== undefined
    ? options
    : { ...options, decide: { ...options.decide, numbers: createNumberCache() } };
  return (input) => {
    const found = store.lookup(input.campaignId, input.leadId);
    if (!found.ok) return { ok: false, code: 'replica_unavailable', message: found.message };
    return { ok: true, plan: planCall(input, found.records, found.index, planOptions) };
  };
}
