import t, { type Test } from 'tap';
import { createEslServer } from '../../src/esl/server.js';
import type { OutboundConnection } from '../../src/esl/connection.js';
import { FrameParser } from '../../src/esl/frame-parser.js';
import { FakeFreeSwitch, type CallOptions, type GatewayScript } from './fake-freeswitch.js';
import { parseDialString } from './dial-string.js';
import { hasTranscript, readTranscript } from './transcript.js';
import { startDaemonLike } from './test-daemon.js';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

interface Plan {
  readonly linger?: boolean;
  readonly sets: readonly string[];
  readonly bridges: readonly string[];
}
interface Outcome {
  results: string[];
  events: string[];
  hangupComplete: boolean;
}

async function runDaemon(conn: OutboundConnection, plan: Plan, out: Outcome): Promise<void> {
  const c = await conn.connect(2000);
  if (!c.ok) return;
  if (plan.linger !== false) await conn.command('linger', ['5'], 2000);
  await conn.command('myevents', ['json'], 2000);
  conn.onEvent((e) => out.events.push(e.name));
  for (const arg of plan.sets) {
    const q = await conn.execute('set', arg, { timeoutMs: 2000 });
    if (q.ok) await conn.waitForExecuteComplete(q.eventUuid, 2000);
  }
  for (const dial of plan.bridges) {
    const q = await conn.execute('bridge', dial, { timeoutMs: 2000 });
    if (!q.ok) break;
    const done = await conn.waitForExecuteComplete(q.eventUuid, 5000);
    if (!done.ok) {
      out.results.push(`wait:${done.code}`);
      break;
    }
    const h = done.event.headers;
    out.results.push(`${h.get('variable_originate_disposition')}/${h.get('variable_sip_invite_failure_status') ?? '-'}`);
    if (h.get('Hangup-Cause') || h.get('variable_originate_disposition') === 'SUCCESS') break;
  }
  const hc = await conn.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE', 300);
  out.hangupComplete = hc.ok;
  if (!conn.isClosed) await conn.exit(1000);
}

async function scenario(t: Test, gateways: Record<string, GatewayScript>, plan: Plan, call: CallOptions = {}) {
  const out: Outcome = { results: [], events: [], hangupComplete: false };
  const server = createEslServer({
    listen: '127.0.0.1:0',
    allowFrom: ['127.0.0.0/8'],
    maxSessions: 10,
    maxFrameBytes: 262144,
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    onSession: (conn) => runDaemon(conn, plan, out),
  });
  const { port } = await server.listen();
  const fs = new FakeFreeSwitch({ daemonPort: port, timeScale: 0.01, gateways });
  const record = await fs.call({ variables: { g2d_campaign_id: 'c1' }, ...call });
  server.destroyAll();
  await server.close();
  await fs.close();
  return { out, record };
}

const COF = ['continue_on_fail=true', 'hangup_after_bridge=true'];
const gw = (name: string, number = '+15551234567') => `sofia/gateway/${name}/${number}`;

t.test('gateway scripts give the causes the real switch gives', async (t) => {
  const rows: Array<[string, GatewayScript, string, string]> = [
    ['503', { type: 'fail', status: 503, afterMs: 40 }, gw('g'), 'NORMAL_TEMPORARY_FAILURE/503'],
    ['486', { type: 'fail', status: 486 }, gw('g'), 'USER_BUSY/486'],
    ['404', { type: 'fail', status: 404 }, gw('g'), 'UNALLOCATED_NUMBER/404'],
    ['603', { type: 'fail', status: 603 }, gw('g'), 'CALL_REJECTED/603'],
    ['silent + leg_progress_timeout', { type: 'silent' }, `[leg_progress_timeout=6]${gw('g')}`, 'PROGRESS_TIMEOUT/-'],
    ['ringing beats leg_progress_timeout', { type: 'ring', progress: 180, progressAfterMs: 100 }, `[leg_progress_timeout=6,leg_timeout=9]${gw('g')}`, 'ALLOTTED_TIMEOUT/-'],
    ['ring + leg_timeout', { type: 'ring', progress: 180 }, `[leg_timeout=5]${gw('g')}`, 'ALLOTTED_TIMEOUT/-'],
    ['ring + originate_timeout', { type: 'ring', progress: 180 }, `{originate_timeout=5}${gw('g')}`, 'NO_ANSWER/-'],
    ['silent, Timer B', { type: 'silent' }, gw('g'), 'RECOVERY_ON_TIMER_EXPIRE/408'],
    ['early media then fail', { type: 'fail', status: 486, progress: 183, progressAfterMs: 10, afterMs: 50 }, gw('g'), 'USER_BUSY/486'],
    ['unknown gateway', { type: 'answer' }, gw('nope'), 'INVALID_GATEWAY/-'],
  ];
  for (const [name, script, dial, expected] of rows) {
    const { out, record } = await scenario(t, { g: script }, { sets: COF, bridges: [dial] });
    t.same(out.results, [expected], name);
    t.equal(record.hangupCause, undefined, `${name}: continue_on_fail keeps the A-leg up`);
    if (name === 'early media then fail') t.ok(out.events.includes('CHANNEL_PROGRESS_MEDIA'));
  }
});

t.test('| failover, fail_on_single_reject, originate_timeout stop', async (t) => {
  const gateways: Record<string, GatewayScript> = {
    busy: { type: 'fail', status: 486 },
    ring: { type: 'ring', progress: 180 },
    ok: { type: 'answer', afterMs: 20, hangupAfterMs: 50 },
  };
  const a = await scenario(t, gateways, { sets: COF, bridges: [`[sip_h_X-Leg=1]${gw('busy')}|[sip_h_X-Leg=2]${gw('ok')}`] });
  t.same(a.out.results, ['SUCCESS/-']);
  t.same(a.record.attemptedGateways, ['busy', 'ok']);
  t.equal(a.record.bridges[0]!.legs[1]!.vars['sip_h_X-Leg'], '2');
  t.equal(a.record.hangupCause, 'NORMAL_CLEARING', 'hangup_after_bridge');
  const b = await scenario(t, gateways, { sets: COF, bridges: [`{fail_on_single_reject=USER_BUSY,originate_timeout=1}${gw('busy')}|${gw('ok')}`] });
  t.same(b.out.results, ['USER_BUSY/486']);
  t.same(b.record.attemptedGateways, ['busy']);
  const c = await scenario(t, gateways, { sets: COF, bridges: [`{originate_timeout=1}${gw('ring')}|${gw('ok')}`] });
  t.same(c.out.results, ['NO_ANSWER/-']);
  t.same(c.record.attemptedGateways, ['ring']);
  const d = await scenario(t, gateways, { sets: COF, bridges: [`{originate_timeout=1,originate_continue_on_timeout=true}${gw('ring')}|${gw('ok')}`] });
  t.same(d.out.results, ['SUCCESS/-']);
});

t.test('A-leg semantics: continue_on_fail from set only; linger decides what is delivered', async (t) => {
  const gateways: Record<string, GatewayScript> = { dead: { type: 'fail', status: 503 } };
  const noCof = await scenario(t, gateways, { sets: [], bridges: [`{continue_on_fail=true}${gw('dead')}`, gw('dead')] });
  t.same(noCof.out.results, ['NORMAL_TEMPORARY_FAILURE/503'], 'the second bridge never runs');
  t.equal(noCof.record.hangupCause, 'NORMAL_TEMPORARY_FAILURE');
  t.equal(noCof.out.hangupComplete, true, 'with linger the HANGUP_COMPLETE arrives');
  const noLinger = await scenario(t, gateways, { linger: false, sets: [], bridges: [gw('dead')] });
  t.same(noLinger.out.results, ['wait:closed'], 'without linger the bridge completion is lost');
  t.equal(noLinger.out.hangupComplete, false);
  t.equal(noLinger.record.exitReceived, false);
});

t.test('caller hangup and TCP drop at each step', async (t) => {
  const gateways: Record<string, GatewayScript> = { ok: { type: 'answer', afterMs: 50 } };
  const plan = { sets: COF, bridges: [gw('ok')] };
  for (const step of ['connect', 'connected', 'set', 'bridge', 'answered'] as const) {
    const hung = await scenario(t, gateways, plan, { hangupAt: step, hangupCause: 'ORIGINATOR_CANCEL' });
    t.equal(hung.record.hangupCause, 'ORIGINATOR_CANCEL', `hangup at ${step}`);
    const dropped = await scenario(t, gateways, plan, { dropAt: step });
    t.equal(dropped.record.closedBy, 'fs', `drop at ${step}`);
  }
  const lingerDrop = await scenario(t, { ok: { type: 'answer', hangupAfterMs: 10 } }, plan, { dropAt: 'linger' });
  t.equal(lingerDrop.record.closedBy, 'fs');
  t.equal(lingerDrop.record.hangupCause, 'NORMAL_CLEARING');
});

t.test('daemon closing before connect lets the dialplan continue', async (t) => {
  const server = createEslServer({
    listen: '127.0.0.1:0', allowFrom: ['10.0.0.0/8'], maxSessions: 1, maxFrameBytes: 4096, connectTimeoutMs: 1000, commandTimeoutMs: 1000,
    onSession: async () => {},
  });
  const { port } = await server.listen();
  const fs = new FakeFreeSwitch({ daemonPort: port });
  const record = await fs.call();
  t.equal(record.connectReceived, false);
  t.equal(record.closedBy, 'daemon');
  t.equal(record.dialplanContinued, true);
  await server.close();
});

t.test('dial string parser', async (t) => {
  const p = parseDialString(
    "{a=1,b='x,y',origination_caller_id_name=Campaign One}[leg_timeout=5,sip_h_X=1]sofia/gateway/ga/+1555|[^^:v=a,b:w=2]sofia/gateway/gb/+1666,error/USER_BUSY",
  );
  t.same(p.globals, { a: '1', b: 'x,y', origination_caller_id_name: 'Campaign One' });
  t.equal(p.groups.length, 2);
  t.same(p.groups[0]![0]!.vars, { leg_timeout: '5', sip_h_X: '1' });
  t.equal(p.groups[0]![0]!.gateway, 'ga');
  t.same(p.groups[1]![0]!.vars, { v: 'a,b', w: '2' });
  t.equal(p.groups[1]![1]!.endpoint, 'error/USER_BUSY');
});

t.test('connect reply header names and order match the capture', { skip: hasTranscript('4a_handshake_json.txt') ? false : 'no transcript' }, async (t) => {
  const real = readTranscript('4a_handshake_json.txt').find((c) => c.direction === 'FS->DAEMON')!;
  const realFrame = new FrameParser({ maxFrameBytes: 1 << 20 }).push(real.bytes).frames[0]!;
  // Play daemon by hand to capture the fake's raw connect reply.
  const { createServer } = await import('node:net');
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const fs = new FakeFreeSwitch({ daemonPort: port });
  const handle = fs.startCall({ variables: { campaign_id: '1', lead_id: '2' } });
  const [sock] = (await once(srv, 'connection')) as [import('node:net').Socket];
  sock.write('connect\n\n');
  const parser = new FrameParser({ maxFrameBytes: 1 << 20 });
  let frame;
  while (!frame) {
    const [chunk] = (await once(sock, 'data')) as [Buffer];
    frame = parser.push(chunk).frames[0];
  }
  t.same([...frame.headers.keys()], [...realFrame.headers.keys()]);
  t.equal(frame.headers.get('Reply-Text'), '%2BOK%0A');
  t.equal(frame.headers.get('variable_current_application_data'), '127.0.0.1%3A8084%20async%20full');
  t.equal(frame.headers.get('Unique-ID'), handle.uuid);
  sock.destroy();
  await handle.done;
  srv.close();
});

t.test('multiset sets every listed A-leg variable (space list and ^^ delimiter)', async (t) => {
  const record = await startDaemonLike(t, async (conn) => {
    await conn.execute('multiset', 'continue_on_fail=true hangup_after_bridge=true', { timeoutMs: 2000 });
    await conn.execute('multiset', '^^:a=1:b=x y', { timeoutMs: 2000 });
    await conn.execute('hangup', 'NORMAL_CLEARING', { timeoutMs: 2000 });
  });
  t.equal(record.variables.get('continue_on_fail'), 'true');
  t.equal(record.variables.get('hangup_after_bridge'), 'true');
  t.equal(record.variables.get('a'), '1');
  t.equal(record.variables.get('b'), 'x y');
  t.same(record.unknownApps, []);
});

t.test('without filter Unique-ID, events of the B-leg reach the socket; with it, only this call', async (t) => {
  const { startDaemonLike } = await import('./test-daemon.js');
  for (const filtered of [false, true]) {
    const uuids = new Set<string>();
    const record = await startDaemonLike(
      t,
      async (conn) => {
        if (filtered) await conn.command('filter', ['Unique-ID', conn.channel!.uuid]);
        await conn.command('event', ['json', 'CHANNEL_HANGUP', 'CHANNEL_EXECUTE_COMPLETE']);
        conn.onEvent((e) => uuids.add(e.headers.get('Unique-ID') ?? ''));
        await conn.execute('multiset', 'continue_on_fail=true', { timeoutMs: 2000 });
        const b = await conn.execute('bridge', 'sofia/gateway/dead/15551230000', { timeoutMs: 2000 });
        if (b.ok) await conn.waitForExecuteComplete(b.eventUuid, 2000);
        await conn.execute('hangup', 'NORMAL_CLEARING', { timeoutMs: 2000 });
        await conn.waitForEvent((e) => e.name === 'CHANNEL_HANGUP' && e.headers.get('Unique-ID') === conn.channel!.uuid, 2000);
      },
      { dead: { type: 'fail', status: 503 } },
    );
    t.equal(uuids.has(record.uuid), true, 'own events arrive');
    t.equal(uuids.size > 1, !filtered, filtered ? 'filtered: only this call' : 'unfiltered: B-leg events leak in');
  }
});

t.test('after exit the switch reads nothing more: a command behind it is never run', async (t) => {
  // mes.c: `exit` ends the listener loop, then shutdown(SHUT_RDWR) + close (transcript 4b_exit_command_linger:
  // +OK bye, the disconnect notice, EOF; the call then goes on in the dialplan).
  const server = createServer((socket) => {
    socket.on('error', () => {});
    const parser = new FrameParser({ maxFrameBytes: 1 << 20 });
    socket.write('connect\n\n');
    socket.on('data', (chunk: Buffer) => {
      for (const frame of parser.push(chunk).frames) {
        if (frame.headers.has('Socket-Mode')) socket.write('exit\n\nsendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const fs = new FakeFreeSwitch({ daemonPort: port, timeScale: 0.01 });
  t.teardown(async () => {
    await fs.close();
    server.close();
  });
  const rec = await fs.call({ variables: { g2d_campaign_id: 'c1', g2d_lead_id: 'l1' } });
  t.equal(rec.exitReceived, true);
  t.equal(rec.hangupCause, undefined, 'the hangup behind exit never ran');
  t.equal(rec.dialplanContinued, true);
  t.equal(rec.wroteAfterClose, true);
  t.equal(rec.closedBy, 'fs');
});

t.test('state and result headers of the events around a failover and a hangup are the switch\'s', async (t) => {
  // Seen: 4d_03 (sip:503 still on the second attempt's CHANNEL_BRIDGE, sip:200 on its completion; DIALSTATUS the
  // cause name for a 503), 4a_handshake_json (CS_EXECUTE / ACTIVE / state number 10 until the first CHANNEL_STATE,
  // then CS_HANGUP, then CS_REPORTING / HANGUP / 11; variable_hangup_cause only on CHANNEL_HANGUP_COMPLETE).
  const seen: Array<{ name: string; app: string | undefined; h: ReadonlyMap<string, string> }> = [];
  await startDaemonLike(t, async (conn) => {
    conn.onEvent((e) => seen.push({ name: e.name, app: e.headers.get('Application'), h: e.headers }));
    await conn.command('myevents', ['json'], 2000);
    await conn.execute('multiset', 'continue_on_fail=true hangup_after_bridge=true', { timeoutMs: 2000 });
    const first = await conn.execute('bridge', gw('dead'), { timeoutMs: 2000 });
    if (first.ok) await conn.waitForExecuteComplete(first.eventUuid, 5000);
    const second = await conn.execute('bridge', gw('live'), { timeoutMs: 2000 });
    if (second.ok) await conn.waitForEvent((e) => e.name === 'CHANNEL_HANGUP_COMPLETE', 5000);
  }, { dead: { type: 'fail', status: 503 }, live: { type: 'answer', hangupAfterMs: 50 } });

  const bridgeDone = seen.filter((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.app === 'bridge');
  t.equal(bridgeDone.length, 2);
  t.equal(bridgeDone[0]!.h.get('variable_DIALSTATUS'), 'NORMAL_TEMPORARY_FAILURE');
  t.equal(bridgeDone[0]!.h.get('variable_last_bridge_proto_specific_hangup_cause'), 'sip:503');
  const bridged = seen.find((e) => e.name === 'CHANNEL_BRIDGE')!;
  t.equal(bridged.h.get('variable_last_bridge_proto_specific_hangup_cause'), 'sip:503', 'the earlier attempt\'s value until the bridge ends');
  t.equal(bridged.h.get('variable_originate_disposition'), 'SUCCESS');
  t.equal(bridgeDone[1]!.h.get('variable_last_bridge_proto_specific_hangup_cause'), 'sip:200');

  const state = (e: { h: ReadonlyMap<string, string> }): string =>
    ['Channel-State', 'Channel-Call-State', 'Channel-State-Number', 'Answer-State'].map((n) => e.h.get(n)).join(' ');
  const hangup = seen.findIndex((e) => e.name === 'CHANNEL_HANGUP');
  const states = seen.filter((e, i) => i >= hangup && e.name === 'CHANNEL_STATE');
  const complete = seen.find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!;
  t.equal(state(seen[hangup]!), 'CS_EXECUTE ACTIVE 10 hangup');
  t.equal(state(bridgeDone[1]!), 'CS_EXECUTE ACTIVE 10 hangup');
  t.same(states.map(state), ['CS_HANGUP ACTIVE 10 hangup', 'CS_REPORTING HANGUP 11 hangup']);
  t.equal(state(complete), 'CS_REPORTING HANGUP 11 hangup');
  t.same(seen.filter((e) => e.h.has('variable_hangup_cause')).map((e) => e.name), ['CHANNEL_HANGUP_COMPLETE']);
});

