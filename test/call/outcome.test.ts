import t from 'tap';
import { CALL_ERROR_CODES, type CallErrorCode } from '../../src/errors.js';
import {
  DEFAULT_HANGUP_CAUSES, hangupCauseFor, hangupCauseForAttempts, outcomeForAttempts, outcomeForError,
} from '../../src/call/outcome.js';
import { readAttempt } from '../../src/call/attempt-policy.js';

t.test('every error code has a default hangup cause and an outcome', async (t) => {
  for (const code of Object.keys(CALL_ERROR_CODES) as CallErrorCode[]) {
    t.match(DEFAULT_HANGUP_CAUSES[code], /^[A-Z][A-Z0-9_]+$/, code);
    t.ok(['no_route', 'invalid', 'error'].includes(outcomeForError(code)), code);
  }
});

t.test('the documented defaults', async (t) => {
  const rows: Array<[CallErrorCode, string, string]> = [
    ['no_route', 'NO_ROUTE_DESTINATION', 'no_route'],
    ['invalid_destination', 'INVALID_NUMBER_FORMAT', 'invalid'],
    ['invalid_caller_id', 'CALL_REJECTED', 'invalid'],
    ['lead_not_found', 'CALL_REJECTED', 'invalid'],
    ['campaign_not_found', 'CALL_REJECTED', 'invalid'],
    ['tenant_mismatch', 'CALL_REJECTED', 'invalid'],
    ['unsafe_dial_value', 'CALL_REJECTED', 'invalid'],
    ['missing_channel_variable', 'MANDATORY_IE_MISSING', 'invalid'],
    ['invalid_channel_variable', 'INVALID_IE_CONTENTS', 'invalid'],
    ['replica_unavailable', 'NORMAL_TEMPORARY_FAILURE', 'error'],
    ['internal_error', 'NORMAL_TEMPORARY_FAILURE', 'error'],
    ['esl_failure', 'NORMAL_TEMPORARY_FAILURE', 'error'],
    ['identity_unavailable', 'SERVICE_UNAVAILABLE', 'error'],
  ];
  for (const [code, cause, outcome] of rows) {
    t.equal(hangupCauseFor(code), cause, code);
    t.equal(outcomeForError(code), outcome, code);
  }
});

t.test('routing.hangup_causes overrides; a malformed override is ignored', async (t) => {
  t.equal(hangupCauseFor('no_route', { no_route: 'UNALLOCATED_NUMBER' }), 'UNALLOCATED_NUMBER');
  t.equal(hangupCauseFor('no_route', { no_route: 'bad cause' }), 'NO_ROUTE_DESTINATION');
  t.equal(hangupCauseFor('lead_not_found', { no_route: 'UNALLOCATED_NUMBER' }), 'CALL_REJECTED');
});

const at = (cause: string, extra: Record<string, string> = {}) =>
  readAttempt(new Map(Object.entries({ variable_originate_disposition: cause, ...extra })), { attempt: 1, carrierId: 'c', carrierName: 'c', routeId: null, durationMs: 1 });

t.test('outcome after attempts', async (t) => {
  t.equal(outcomeForAttempts([at('NORMAL_TEMPORARY_FAILURE'), at('SUCCESS')], false), 'answered');
  t.equal(outcomeForAttempts([at('SUCCESS')], true), 'answered', 'answered wins over a later hangup');
  t.equal(outcomeForAttempts([at('NORMAL_TEMPORARY_FAILURE')], true), 'caller_hangup');
  t.equal(outcomeForAttempts([at('USER_BUSY')], false), 'busy');
  t.equal(outcomeForAttempts([at('NO_ANSWER')], false), 'no_answer');
  t.equal(outcomeForAttempts([at('CALL_REJECTED')], false), 'rejected');
  t.equal(outcomeForAttempts([at('NORMAL_TEMPORARY_FAILURE'), at('PROGRESS_TIMEOUT')], false), 'failed');
  t.equal(outcomeForAttempts([], false), 'failed');
});

t.test('A-leg cause after every attempt failed is the last attempt cause', async (t) => {
  t.equal(hangupCauseForAttempts([at('NORMAL_TEMPORARY_FAILURE'), at('USER_BUSY')]), 'USER_BUSY');
  t.equal(hangupCauseForAttempts([at('call accepted')]), 'NORMAL_TEMPORARY_FAILURE');
  t.equal(hangupCauseForAttempts([]), 'NORMAL_TEMPORARY_FAILURE');
});
