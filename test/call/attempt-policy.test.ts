import t from 'tap';
import { entryMatches, readAttempt, shouldFailover, type AttemptRecord } from '../../src/call/attempt-policy.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { failoverPolicyFromConfig } from '../../src/call/attempt-policy.js';

const ctx = { attempt: 1, carrierId: 'c1', carrierName: 'carrier_a', routeId: 'r1', durationMs: 20 };
const h = (o: Record<string, string>) => new Map(Object.entries(o));

t.test('readAttempt: what the real switch reports (transcripts 4d_*)', async (t) => {
  const rows: Array<[string, Record<string, string>, Partial<AttemptRecord>]> = [
    ['dead carrier 503', { variable_originate_disposition: 'NORMAL_TEMPORARY_FAILURE', variable_sip_invite_failure_status: '503', variable_last_bridge_proto_specific_hangup_cause: 'sip:503', variable_originate_failed_cause: 'NORMAL_TEMPORARY_FAILURE' }, { sipStatus: 503, cause: 'NORMAL_TEMPORARY_FAILURE', result: 'unavailable', answered: false }],
    ['busy 486', { variable_originate_disposition: 'USER_BUSY', variable_sip_invite_failure_status: '486', variable_last_bridge_proto_specific_hangup_cause: 'sip:486' }, { sipStatus: 486, cause: 'USER_BUSY', result: 'busy' }],
    ['silent carrier, Timer B', { variable_originate_disposition: 'RECOVERY_ON_TIMER_EXPIRE', variable_sip_invite_failure_status: '408' }, { sipStatus: 408, result: 'timeout' }],
    ['progress timeout (no SIP status)', { variable_originate_disposition: 'PROGRESS_TIMEOUT' }, { sipStatus: null, cause: 'PROGRESS_TIMEOUT', result: 'timeout' }],
    ['ring timeout', { variable_originate_disposition: 'NO_ANSWER' }, { cause: 'NO_ANSWER', result: 'no_answer' }],
    ['status only in proto cause', { variable_originate_disposition: 'CALL_REJECTED', variable_last_bridge_proto_specific_hangup_cause: 'sip:603' }, { sipStatus: 603, result: 'rejected' }],
    ['answered: a stale failure status is ignored', { variable_originate_disposition: 'SUCCESS', variable_sip_invite_failure_status: '503', variable_originate_failed_cause: 'NORMAL_TEMPORARY_FAILURE' }, { answered: true, sipStatus: null, cause: 'SUCCESS', result: 'answered' }],
    ['answered: the 200 on the completion', { variable_originate_disposition: 'SUCCESS', variable_last_bridge_proto_specific_hangup_cause: 'sip:200', variable_originate_failed_cause: 'NORMAL_TEMPORARY_FAILURE' }, { answered: true, sipStatus: 200, cause: 'SUCCESS', result: 'answered' }],
    ['answered: a stale non-2xx proto cause is not its status', { variable_originate_disposition: 'SUCCESS', variable_last_bridge_proto_specific_hangup_cause: 'sip:503' }, { answered: true, sipStatus: null, result: 'answered' }],
    ['call accepted', { variable_originate_disposition: 'call accepted' }, { answered: true, result: 'answered' }],
    ['no disposition: originate_failed_cause', { variable_originate_failed_cause: 'GATEWAY_DOWN' }, { cause: 'GATEWAY_DOWN', result: 'unavailable' }],
    ['garbage values', { variable_originate_disposition: 'x\ny', variable_sip_invite_failure_status: '99999' }, { cause: null, sipStatus: null, result: 'other' }],
    ['_undef_', { variable_originate_disposition: '_undef_' }, { cause: null }],
  ];
  for (const [name, headers, want] of rows) t.match(readAttempt(h(headers), ctx), want, name);
  t.match(readAttempt(undefined, ctx, 'ORIGINATOR_CANCEL'), { cause: 'ORIGINATOR_CANCEL', sipStatus: null });
  t.match(readAttempt(h({}), { ...ctx, answered: true, answerDelayMs: 1500 }), { answered: true, answerDelayMs: 1500, result: 'answered' });
});

t.test('entryMatches: cause names, sip:NNN, sip:Nxx; 487 never matches a sip entry', async (t) => {
  const rows: Array<[string, number | null, string | null, boolean]> = [
    ['USER_BUSY', 486, 'USER_BUSY', true],
    ['USER_BUSY', 486, 'NORMAL_CLEARING', false],
    ['sip:503', 503, 'X', true],
    ['sip:503', 502, 'X', false],
    ['sip:5xx', 502, 'X', true],
    ['sip:5xx', 486, 'X', false],
    ['sip:4xx', 487, 'ORIGINATOR_CANCEL', false],
    ['sip:487', 487, 'X', false],
    ['sip:4xx', null, 'X', false],
  ];
  for (const [entry, sipStatus, cause, want] of rows) t.equal(entryMatches(entry, { sipStatus, cause }), want, `${entry} ~ ${sipStatus}/${cause}`);
});

t.test('shouldFailover with the default config', async (t) => {
  const policy = failoverPolicyFromConfig(ConfigSchema.parse({}).routing);
  const a = (o: Partial<AttemptRecord>): AttemptRecord => ({ ...readAttempt(h({}), ctx), ...o });
  const rows: Array<[string, Partial<AttemptRecord>, boolean, string]> = [
    ['503 fails over', { sipStatus: 503, cause: 'NORMAL_TEMPORARY_FAILURE' }, true, 'failover_cause'],
    ['502 (sip:5xx)', { sipStatus: 502, cause: 'NETWORK_OUT_OF_ORDER' }, true, 'failover_cause'],
    ['486 never reaches a second carrier', { sipStatus: 486, cause: 'USER_BUSY' }, false, 'no_failover_cause'],
    ['603 decline', { sipStatus: 603, cause: 'CALL_REJECTED' }, false, 'no_failover_cause'],
    ['ring timeout NO_ANSWER', { cause: 'NO_ANSWER' }, false, 'no_failover_cause'],
    ['PROGRESS_TIMEOUT with the 487 of our CANCEL', { cause: 'PROGRESS_TIMEOUT', sipStatus: 487 }, true, 'failover_cause'],
    ['Timer B 408', { cause: 'RECOVERY_ON_TIMER_EXPIRE', sipStatus: 408 }, true, 'failover_cause'],
    ['no-failover checked first: 503 with cause USER_BUSY', { sipStatus: 503, cause: 'USER_BUSY' }, false, 'no_failover_cause'],
    ['unknown cause stops', { cause: 'SOMETHING_ELSE' }, false, 'not_listed'],
    ['answered never fails over', { answered: true, cause: 'SUCCESS' }, false, 'answered'],
  ];
  for (const [name, o, failover, reason] of rows) t.match(shouldFailover(a(o), policy), { failover, reason }, name);
  t.match(shouldFailover(a({ sipStatus: 503, cause: 'NORMAL_TEMPORARY_FAILURE' }), policy, true), { failover: false, reason: 'caller_hangup' });
});
