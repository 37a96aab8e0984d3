import t, { type Test } from 'tap';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { OutboundConnection, prepareCommand, prepareExecute, type EslTimers } from '../../src/esl/connection.js';

/** Timers that count what is still armed. */
function countingTimers(): EslTimers & { active: () => number } {
  const live = new Set<unknown>();
  return {
    setTimeout(fn, ms) {
      const h = setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      clearTimeout(h as ReturnType<typeof setTimeout>);
    },
    active: () => live.size,
  };
}

const CONNECT_REPLY =
  'Event-Name: CHANNEL_DATA\nUnique-ID: u-1\nvariable_g2d_campaign_id: c%201\nContent-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n';
const reply = (text: string) => `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
const jsonEvent = (obj: Record<string, string>) => {
  const body = JSON.stringify(obj);
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
};

/** A socket pair: `daemonSide` wrapped by the connection, `peer` plays FreeSWITCH and collects what it receives. */
async function pair(t: Test, opts: { connectTimeoutMs?: number; maxFrameBytes?: number } = {}) {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection');
  const peer = connect(port, '127.0.0.1');
  const [daemonSide] = (await accepted) as [Socket];
  server.close();
  const timers = countingTimers();
  const errors: unknown[] = [];
  const conn = new OutboundConnection(daemonSide, {
    maxFrameBytes: opts.maxFrameBytes ?? 65536,
    connectTimeoutMs: opts.connectTimeoutMs ?? 2000,
    commandTimeoutMs: 2000,
    timers,
    onListenerError: (e) => errors.push(e),
    newUuid: (() => {
      let n = 0;
      return () => `ev-${++n}`;
    })(),
  });
  let received = '';
  const waiters: Array<() => void> = [];
  peer.on('data', (c) => {
    received += c.toString();
    waiters.splice(0).forEach((w) => w());
  });
  peer.on('error', () => {});
  const receivedUntil = async (needle: string) => {
    while (!received.includes(needle)) await new Promise<void>((r) => waiters.push(r));
  };
  t.teardown(() => {
    peer.destroy();
    conn.destroy();
  });
  return { conn, peer, daemonSide, timers, errors, receivedUntil, received: () => received };
}

/** `pair`, past the connect exchange (the peer answers with CONNECT_REPLY). */
async function connectedPair(t: Test, opts: Parameters<typeof pair>[1] = {}) {
  const p = await pair(t, opts);
  const connecting = p.conn.connect(1000);
  await p.receivedUntil('connect\n\n');
  p.peer.write(CONNECT_REPLY);
  await connecting;
  return p;
}

function assertClean(t: Test, p: Awaited<ReturnType<typeof pair>>) {
  t.equal(p.timers.active(), 0, 'no timer left');
  for (const ev of ['data', 'close', 'error']) t.equal(p.daemonSide.listenerCount(ev), 0, `no ${ev} listener left`);
}

t.test('the callback forms: each result once, synchronously with its reply; a throwing callback is reported, not raised', async (t) => {
  const p = await connectedPair(t);
  const results: unknown[] = [];
  const eventUuid = p.conn.postExecute('bridge', 'sofia/gateway/gw/1', 1000, (r) => {
    results.push(r);
    throw new Error('thrown by the callback');
  });
  p.conn.post(prepareCommand('linger', ['20']), 1000, (r) => results.push(r));
  await p.receivedUntil('linger 20\n\n');
  t.same(results, [], 'nothing before the replies');
  p.peer.write(reply('+OK') + reply('+OK will linger 20 seconds'));
  while (results.length < 2) await new Promise<void>((r) => p.daemonSide.once('data', () => r()));
  t.same(results, [{ ok: true, eventUuid, replyText: '+OK' }, { ok: true, replyText: '+OK will linger 20 seconds' }], 'both, in order, as the replies were read');
  t.equal(p.errors.length, 1, 'the throw was reported');
  t.equal(p.conn.isClosed, false, 'and the connection goes on');
  const refused: unknown[] = [];
  p.conn.postExecute('set', 'a=1\napi status', 1000, (r) => refused.push(r));
  t.match(refused, [{ ok: false, code: 'unsafe_command' }], 'a refused frame: the callback at once');
  let closes = 0;
  p.conn.onClosed(() => closes++);
  p.conn.shut(1000);
  p.peer.end();
  await p.conn.closed;
  t.equal(closes, 1, 'onClosed ran once');
  p.conn.onClosed(() => closes++);
  t.equal(closes, 2, 'and at once when already closed');
  const late: unknown[] = [];
  p.conn.postExit(1000, (r) => late.push(r));
  t.same(late, [{ ok: false, code: 'closed' }], 'a command after the close: closed, at once');
  assertClean(t, p);
});

t.test('connect, then pipelined commands: one write per tick, replies matched in FIFO order', async (t) => {
  const p = await pair(t);
  const chunks: string[] = [];
  p.peer.on('data', (c: Buffer) => chunks.push(c.toString()));
  const connecting = p.conn.connect(1000);
  await p.receivedUntil('connect\n\n');
  p.peer.write(CONNECT_REPLY);
  const c = await connecting;
  t.equal(c.ok && c.channel.uuid, 'u-1');
  t.equal(c.ok && c.channel.variables.get('g2d_campaign_id'), 'c 1');
  chunks.length = 0;
  const a = p.conn.command('linger', ['20'], 1000);
  const b = p.conn.command('myevents', ['json'], 1000);
  await p.receivedUntil('myevents json\n\n');
  t.same(chunks, ['linger 20\n\nmyevents json\n\n'], 'both written before any reply, in one write');
  // Both replies in one chunk: each goes to its own command, in order.
  p.peer.write(reply('+OK will linger 20 seconds') + reply('-ERR nope'));
  t.same(await a, { ok: true, replyText: '+OK will linger 20 seconds' });
  t.same(await b, { ok: false, code: 'command_failed', replyText: '-ERR nope' });
  const ex = p.conn.execute('bridge', 'sofia/gateway/gw/1', { timeoutMs: 1000 });
  await p.receivedUntil('Event-UUID: ev-1\n\n');
  // The reply and the completion arrive in one chunk: the completion must not be lost.
  p.peer.write(reply('+OK') + jsonEvent({ 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Application-UUID': 'ev-1', 'Application-Response': '_none_' }));
  const q = await ex;
  t.same(q, { ok: true, eventUuid: 'ev-1', replyText: '+OK' });
  const done = await p.conn.waitForExecuteComplete('ev-1', 1000);
  t.equal(done.ok && done.event.headers.get('Application-Response'), '_none_');
  const unsafe = await p.conn.execute('set', 'a=1\napi status', { timeoutMs: 1000 });
  t.equal(unsafe.ok === false && unsafe.code, 'unsafe_command');
  t.notOk(p.received().includes('api status'), 'nothing written');
  p.peer.end();
  const closed = await p.conn.closed;
  t.equal(closed.reason, 'remote_closed');
  assertClean(t, p);
});

t.test('prepared commands: built once, sent by many connections; a refused one writes nothing', async (t) => {
  const linger = prepareCommand('linger', ['20']);
  const unsafe = prepareCommand('filter', ['Unique-ID', 'u-1\n\napi status']);
  for (const round of [1, 2]) {
    const p = await connectedPair(t);
    const chunks: string[] = [];
    p.peer.on('data', (c: Buffer) => chunks.push(c.toString()));
    const refused = p.conn.send(unsafe, 1000);
    const a = p.conn.send(linger, 1000);
    const b = p.conn.command('filter', ['Unique-ID', 'u-1'], 1000);
    t.same(await refused, { ok: false, code: 'unsafe_command', detail: 'CR, LF or NUL in an argument' }, `round ${round}: refused`);
    await p.receivedUntil('filter Unique-ID u-1\n\n');
    t.same(chunks, ['linger 20\n\nfilter Unique-ID u-1\n\n'], `round ${round}: one write, the refused frame not in it`);
    p.peer.write(reply('+OK will linger 20 seconds') + reply('+OK filter added. [Unique-ID]=[u-1]'));
    t.same(await a, { ok: true, replyText: '+OK will linger 20 seconds' });
    t.same(await b, { ok: true, replyText: '+OK filter added. [Unique-ID]=[u-1]' });
    p.peer.end();
    await p.conn.closed;
    assertClean(t, p);
  }
});

t.test('a command written in the tick that closes still leaves, before our FIN', async (t) => {
  const p = await connectedPair(t);
  const ended = once(p.peer, 'end');
  const exiting = p.conn.exit(1000);
  const closing = p.conn.close(1000);
  await ended;
  t.ok(p.received().endsWith('connect\n\nexit\n\n'), 'exit written, then the FIN');
  t.same(await exiting, { ok: false, code: 'closed', detail: 'closing' }, 'its reply is no longer awaited');
  p.peer.end();
  t.equal((await closing).reason, 'closed');
  assertClean(t, p);
});

t.test('a reply timeout poisons the connection; queued work resolves closed', async (t) => {
  const p = await connectedPair(t);
  const a = p.conn.command('linger', ['20'], 50);
  const b = p.conn.command('myevents', ['json'], 5000);
  const w = p.conn.waitForEvent(() => true, 5000);
  t.same(await a, { ok: false, code: 'timeout' });
  t.equal((await b).ok === false && (await b as { code: string }).code, 'closed');
  t.same(await w, { ok: false, code: 'closed' });
  t.equal((await p.conn.closed).reason, 'timeout');
  t.equal((await p.conn.command('exit')).ok, false, 'no command after close');
  // A late reply must never reach anything.
  p.peer.write(reply('+OK will linger'));
  assertClean(t, p);
});

t.test('protocol violations close the session with a code', async (t) => {
  const rows: Array<[string, string, string, { maxFrameBytes?: number }?]> = [
    ['garbage line', 'this is not a header\n\n', 'protocol_error'],
    ['reply with nothing in flight', reply('+OK'), 'protocol_error'],
    ['bad json event', 'Content-Length: 3\nContent-Type: text/event-json\n\n{x}', 'protocol_error'],
    ['missing content type', 'Foo: bar\n\n', 'protocol_error'],
    ['oversize body', 'Content-Length: 999999\nContent-Type: text/event-json\n\n', 'frame_too_large', { maxFrameBytes: 4096 }],
  ];
  for (const [name, bytes, reason, opts] of rows) {
    const p = await connectedPair(t, opts);
    p.peer.write(bytes);
    t.equal((await p.conn.closed).reason, reason, name);
    assertClean(t, p);
  }
});

t.test('silence before the connect reply, and a stall mid-frame, are closed', async (t) => {
  const silent = await pair(t, { connectTimeoutMs: 50 });
  t.equal((await silent.conn.closed).reason, 'timeout');
  assertClean(t, silent);
  const stall = await pair(t, { connectTimeoutMs: 80 });
  const connecting = stall.conn.connect(5000);
  await stall.receivedUntil('connect');
  stall.peer.write(CONNECT_REPLY);
  t.equal((await connecting).ok, true);
  stall.peer.write('Content-Length: 100\nContent-Type: text/event-json\n\n{"Event-Na');
  t.equal((await stall.conn.closed).reason, 'timeout');
  assertClean(t, stall);
});

t.test('a silent connect: one timer when the connect timer bounds it no later, its own deadline when that comes first', async (t) => {
  const covered = await pair(t, { connectTimeoutMs: 60 });
  const late = covered.conn.connect(60);
  t.equal(covered.timers.active(), 1, 'the connect timer alone');
  t.same(await late, { ok: false, code: 'closed', detail: 'no connect reply in time' }, 'ended by the connect timer');
  t.equal((await covered.conn.closed).reason, 'timeout');
  assertClean(t, covered);
  const sooner = await pair(t, { connectTimeoutMs: 5000 });
  const early = sooner.conn.connect(40);
  t.equal(sooner.timers.active(), 2, 'the connect timer and the shorter deadline');
  t.same(await early, { ok: false, code: 'timeout' }, 'ended by its own deadline');
  t.equal((await sooner.conn.closed).reason, 'timeout');
  assertClean(t, sooner);
});

t.test('a prepared execute: built once, no Event-UUID, the reply as a command result', async (t) => {
  const multiset = prepareExecute('multiset', 'a=1 b=2');
  const unsafe = prepareExecute('set', 'a=1\n\napi status');
  const p = await connectedPair(t);
  const results: unknown[] = [];
  p.conn.postPrepared(unsafe, 1000, (r) => results.push(r));
  t.match(results, [{ ok: false, code: 'unsafe_command' }], 'refused at once, nothing written');
  p.conn.postPrepared(multiset, 1000, (r) => results.push(r));
  await p.receivedUntil('a=1 b=2\n\n');
  t.ok(p.received().endsWith('connect\n\nsendmsg\ncall-command: execute\nexecute-app-name: multiset\nexecute-app-arg: a=1 b=2\n\n'), 'the frame, without Event-UUID');
  p.peer.write(reply('+OK'));
  while (results.length < 2) await new Promise<void>((r) => p.daemonSide.once('data', () => r()));
  t.same(results[1], { ok: true, replyText: '+OK' });
  p.peer.end();
  await p.conn.closed;
  assertClean(t, p);
});

t.test('events, notices, listener errors, backlog and afterSeq', async (t) => {
  const p = await connectedPair(t);
  p.conn.onEvent(() => {
    throw new Error('listener bug');
  });
  const seen: string[] = [];
  p.conn.onEvent((e) => seen.push(`${e.seq}:${e.name}`));
  const notices: string[] = [];
  p.conn.onNotice((n) => notices.push(`${n.disposition}:${n.lingerSeconds}`));
  p.peer.write(jsonEvent({ 'Event-Name': 'CHANNEL_BRIDGE', 'Bridge-B-Unique-ID': 'b-1' }));
  const bridge = await p.conn.waitForEvent((e) => e.name === 'CHANNEL_BRIDGE', 1000);
  t.equal(bridge.ok && bridge.event.headers.get('Bridge-B-Unique-ID'), 'b-1');
  const mark = p.conn.eventSeq;
  const none = await p.conn.waitForEvent((e) => e.name === 'CHANNEL_BRIDGE', 30, { afterSeq: mark });
  t.same(none, { ok: false, code: 'timeout' }, 'afterSeq skips the backlog');
  p.peer.write(
    jsonEvent({ 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Hangup-Cause': 'NORMAL_CLEARING' }) +
      'Content-Type: text/disconnect-notice\nControlled-Session-UUID: u-1\nContent-Disposition: linger\nChannel-Name: x\nLinger-Time: 20\nContent-Length: 0\n\n',
  );
  const linger = await p.conn.waitForNotice('linger', 1000);
  t.equal(linger.ok && linger.notice.lingerSeconds, 20);
  t.same(seen, ['1:CHANNEL_BRIDGE', '2:CHANNEL_HANGUP_COMPLETE']);
  t.equal(p.errors.length, 2, 'both listener throws reported, none escaped');
  const exit = p.conn.exit(1000);
  await p.receivedUntil('exit\n\n');
  p.peer.write(reply('+OK bye') + 'Content-Type: text/disconnect-notice\nControlled-Session-UUID: u-1\nContent-Disposition: disconnect\nContent-Length: 4\n\nbye\n');
  p.peer.end();
  t.same(await exit, { ok: true, replyText: '+OK bye' });
  const closed = await p.conn.closed;
  t.equal(closed.disconnectNotice, true);
  t.same(notices, ['linger:20', 'disconnect:undefined']);
  assertClean(t, p);
});

t.test('close() is graceful and destroy() idempotent', async (t) => {
  const p = await connectedPair(t);
  p.peer.on('end', () => p.peer.end());
  const info = await p.conn.close(1000);
  t.equal(info.reason, 'closed');
  p.conn.destroy();
  assertClean(t, p);
});
