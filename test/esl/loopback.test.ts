import t from 'tap';
import { createEslServer } from '../../src/esl/server.js';
import type { OutboundConnection } from '../../src/esl/connection.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';

const EVENTS = ['CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_BRIDGE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE'];

/** A test-only daemon: two bridge attempts, the pattern the session layer will implement. */
async function drive(conn: OutboundConnection, log: string[]): Promise<void> {
  const c = await conn.connect(2000);
  if (!c.ok) return void log.push(`connect:${c.code}`);
  log.push(`campaign=${c.channel.variables.get('g2d_campaign_id')}`);
  log.push((await conn.command('linger', ['20'], 2000)).ok ? 'linger' : 'linger-failed');
  // Without the filter the real switch also sends the B-leg's events here (transcript 4a_no_myevents_json).
  const filtered = (await conn.command('filter', ['Unique-ID', conn.channel!.uuid], 2000)).ok;
  const subscribed = (await conn.command('event', ['json', ...EVENTS], 2000)).ok;
  log.push(filtered && subscribed ? 'events' : 'events-failed');
  for (const arg of ['continue_on_fail=true', 'hangup_after_bridge=true']) {
    const q = await conn.execute('set', arg, { timeoutMs: 2000 });
    if (!q.ok) return void log.push(`set:${q.code}`);
    const done = await conn.waitForExecuteComplete(q.eventUuid, 2000);
    log.push(done.ok ? `set ${arg}` : `set-wait:${done.code}`);
  }
  for (const gw of ['carrier_b', 'carrier_a']) {
    const mark = conn.eventSeq;
    const q = await conn.execute('bridge', `{origination_caller_id_number=+15550001111}sofia/gateway/${gw}/+15551234567`, { timeoutMs: 2000 });
    if (!q.ok) return void log.push(`bridge:${q.code}`);
    const done = await conn.waitForExecuteComplete(q.eventUuid, 5000);
    if (!done.ok) return void log.push(`bridge-wait:${done.code}`);
    const disposition = done.event.headers.get('variable_originate_disposition');
    log.push(`${gw}:${disposition}:${done.event.headers.get('variable_sip_invite_failure_status') ?? '-'}`);
    const bridged = await conn.waitForEvent((e) => e.name === 'CHANNEL_BRIDGE', 10, { afterSeq: mark });
    if (bridged.ok) log.push('bridged');
    if (disposition === 'SUCCESS') break;
  }
  const complete = await conn.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE', 2000);
  log.push(complete.ok ? `hangup_complete:${complete.event.headers.get('Hangup-Cause')}` : `hc:${complete.code}`);
  const linger = await conn.waitForNotice('linger', 2000);
  log.push(linger.ok ? `linger-notice:${linger.notice.lingerSeconds}` : `ln:${linger.code}`);
  const bye = await conn.exit(2000);
  log.push(bye.ok ? bye.replyText : `exit:${bye.code}`);
  const closed = await conn.closed;
  log.push(`closed:${closed.reason}:${closed.disconnectNotice}`);
}

t.test('daemon built from server+connection drives the fake through failover', async (t) => {
  const log: string[] = [];
  const sessions: Promise<void>[] = [];
  const server = createEslServer({
    listen: '127.0.0.1:0',
    allowFrom: ['127.0.0.0/8', '::1/128'],
    maxSessions: 10,
    maxFrameBytes: 262144,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    onSession: (conn) => {
      const p = drive(conn, log);
      sessions.push(p);
      return p;
    },
  });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  const fs = new FakeFreeSwitch({
    daemonPort: port,
    timeScale: 0.01,
    gateways: {
      carrier_b: { type: 'fail', status: 503, afterMs: 40 },
      carrier_a: { type: 'answer', afterMs: 100, progress: 180, progressAfterMs: 50, hangupAfterMs: 2000 },
    },
  });
  t.teardown(() => fs.close());
  const record = await fs.call({ variables: { g2d_campaign_id: 'c1', g2d_lead_id: 'l1' } });
  await Promise.all(sessions);
  t.same(log, [
    'campaign=c1',
    'linger',
    'events',
    'set continue_on_fail=true',
    'set hangup_after_bridge=true',
    'carrier_b:NORMAL_TEMPORARY_FAILURE:503',
    'carrier_a:SUCCESS:-',
    'bridged',
    'hangup_complete:NORMAL_CLEARING',
    'linger-notice:20',
    '+OK bye',
    'closed:remote_closed:true',
  ]);
  t.same(record.attemptedGateways, ['carrier_b', 'carrier_a']);
  t.same(record.commands, ['connect', 'linger 20', `filter Unique-ID ${record.uuid}`, `event json ${EVENTS.join(' ')}`, 'sendmsg', 'sendmsg', 'sendmsg', 'sendmsg', 'exit']);
  t.equal(record.bridges[0]!.parsed.globals['origination_caller_id_number'], '+15550001111');
  t.equal(record.bridges[1]!.outcome, 'answered');
  t.equal(record.hangupCause, 'NORMAL_CLEARING');
  t.equal(record.exitReceived, true);
  t.equal(record.executes.every((e) => e.eventUuid && !e.eventLock && !e.nestedInBridge), true);
  t.equal(record.frames.every((f) => !/\r/.test(f.raw ?? '')), true);
  t.equal(server.activeCount(), 0);
});
