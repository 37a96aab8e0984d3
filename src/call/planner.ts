/**
 * The `plan` dependency of the call handler, built from the replica store: look the call's rows up, then run
 * the pure {@link planCall}. The only I/O is the store lookup (synchronous SQLite).
 */
import type { ReplicaStore } from '../replica/store.js';
import { planCall, type CallPlan, type CallPlanOptions } from '../routing/call-plan.js';
import type { RouteIndex } from '../routing/route-index.js';
import type { CallInput } from '../routing/types.js';

/** What the handler's `plan` returns: the plan (its decision may carry a call error), or no data to plan with. */
export type PlanLookup =
  | { ok: true; plan: CallPlan }
  | { ok: false; code: 'replica_unavailable'; message: string };

/** `(input) => PlanLookup` over `store`. Never throws (the store's lookup does not). */
export function createCallPlanner(
  store: Pick<ReplicaStore<RouteIndex>, 'lookup'>,
  options: CallPlanOptions,
): (input: CallInput) => PlanLookup {
  return (input) => {
    const found = store.lookup(input.campaignId, input.leadId);
    if (!found.ok) return { ok: false, code: 'replica_unavailable', message: found.message };
    return { ok: true, plan: planCall(input, found.records, found.index, options) };
  };
}
