import t from 'tap';
import {
  ATTEMPT_RESULTS,
  type AttemptOutcome,
  type AttemptResult,
  CAUSE_RESULTS,
  classifyAttempt,
  Q850_CAUSES,
} from '../../src/observability/attempt-result.js';

// One row per rule; the captured FreeSWITCH pairs (NOTES §5, §9) come first.
const rows: [string, AttemptOutcome, AttemptResult][] = [
  ['dead carrier (ICMP unreachable)', { cause: 'NORMAL_TEMPORARY_FAILURE', sipStatus: 503 }, 'unavailable'],
  ['silent carrier, SIP timer B', { cause: 'RECOVERY_ON_TIMER_EXPIRE', sipStatus: 408 }, 'timeout'],
  ['leg_timeout', { cause: 'ALLOTTED_TIMEOUT' }, 'timeout'],
  ['originate_timeout: our CANCEL gets 487, the cause decides', { cause: 'NO_ANSWER', sipStatus: 487 }, 'no_answer'],
  ['leg_progress_timeout', { cause: 'PROGRESS_TIMEOUT', sipStatus: 487 }, 'timeout'],
  ['486 busy', { cause: 'USER_BUSY', sipStatus: 486 }, 'busy'],
  ['answered flag wins over everything', { answered: true, cause: 'NORMAL_CLEARING', sipStatus: 503 }, 'answered'],
  ['SUCCESS disposition', { cause: 'SUCCESS' }, 'answered'],
  ["'call accepted' disposition", { cause: 'call accepted' }, 'answered'],
  ['SIP 2xx', { sipStatus: 200 }, 'answered'],
  ['SIP 600 busy everywhere', { sipStatus: 600 }, 'busy'],
  ['SIP 480', { cause: 'NO_USER_RESPONSE', sipStatus: 480 }, 'no_answer'],
  ['SIP 504 server timeout', { sipStatus: 504 }, 'timeout'],
  ['SIP 502', { cause: 'DESTINATION_OUT_OF_ORDER', sipStatus: 502 }, 'unavailable'],
  ['SIP 500', { sipStatus: 500 }, 'unavailable'],
  ['SIP 403 forbidden', { cause: 'CALL_REJECTED', sipStatus: 403 }, 'rejected'],
  ['SIP 404', { cause: 'UNALLOCATED_NUMBER', sipStatus: 404 }, 'rejected'],
  ['SIP 407 auth (carrier refuses us)', { sipStatus: 407 }, 'rejected'],
  ['SIP 488 codecs', { cause: 'INCOMPATIBLE_DESTINATION', sipStatus: 488 }, 'rejected'],
  ['SIP 603 decline', { cause: 'CALL_REJECTED', sipStatus: 603 }, 'rejected'],
  ['SIP status beats a contradicting cause', { cause: 'USER_BUSY', sipStatus: 503 }, 'unavailable'],
  ['SIP 1xx is not final', { sipStatus: 183 }, 'other'],
  ['SIP 3xx redirect not followed', { sipStatus: 302 }, 'other'],
  ['nonsense SIP status falls back to the cause', { cause: 'GATEWAY_DOWN', sipStatus: 999 }, 'unavailable'],
  ['non-integer SIP status falls back to the cause', { cause: 'USER_BUSY', sipStatus: Number.NaN }, 'busy'],
  ['Q.850 17 when no cause name', { q850: 17 }, 'busy'],
  ['Q.850 102', { q850: 102 }, 'timeout'],
  ['cause name beats q850', { cause: 'NO_ANSWER', q850: 17 }, 'no_answer'],
  ['unknown Q.850', { q850: 127 }, 'other'],
  ['caller cancelled while ringing', { cause: 'ORIGINATOR_CANCEL', sipStatus: 487 }, 'other'],
  ['unknown cause', { cause: 'MEDIA_TIMEOUT' }, 'other'],
  ['prototype key is not a cause', { cause: 'constructor' }, 'other'],
  ['nothing known', {}, 'other'],
  ['blank cause', { cause: '  ' }, 'other'],
];

for (const [name, input, want] of rows) {
  t.equal(classifyAttempt(input), want, name);
}

t.test('every table value is a declared result; every Q.850 name is in the cause table', async (t) => {
  for (const [cause, r] of Object.entries(CAUSE_RESULTS)) t.ok(ATTEMPT_RESULTS.includes(r), cause);
  for (const name of Object.values(Q850_CAUSES)) t.ok(name in CAUSE_RESULTS, name);
});

t.test('every SIP status 100..699 classifies to a declared result', async (t) => {
  for (let s = 100; s < 700; s++) {
    if (!ATTEMPT_RESULTS.includes(classifyAttempt({ sipStatus: s }))) t.fail(`sip ${s}`);
  }
  t.pass();
});
