/**
 * The BUILT daemon's bounds against single hostile peers, one rule per test: a frame over esl.max_frame_bytes
 * closes that session only (a concurrent call completes); a peer that connects and says nothing, stops
 * mid-frame or trickles bytes is closed by the connect/stall timer (esl.connect_timeout_ms = 300 here, command
 * timeout 1500 so the summary line tells which timer fired); one row per fuzz kind with the expected end; a
 * frame split byte by byte and hundreds of frames coalesced in one chunk are read correctly.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { buildReplica } from '../fixtures/replica.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { startDaemon, type DaemonProcess, type LogLine } from '../support/daemon-process.js';
import { FATAL_KINDS, FUZZ_KINDS, fuzzFrame, HARMLESS_KINDS, STALL_KINDS, type FuzzKind } from './support/frame-fuzz.js';
import { CALL_VARS, figures, HOSTILE_ESL, hostileConfig, hostileWorld, waitForIdle } from './support/hostile-daemon.js';
import { createRng } from './support/prng.js';
import { connectReply, replyFrame, runPeer, type PeerEnd } from './support/scripted-peer.js';

const CONNECT_TIMEOUT_MS = 300;
const COMMAND_TIMEOUT_MS = 1500;
const MAX = HOSTILE_ESL.max_frame_bytes;

const dir = t.testdir();
const replica = buildReplica(dir, hostileWorld());
const strict = await startDaemon({
  dir,
  replica,
  config: hostileConfig({ esl: { connect_timeout_ms: CONNECT_TIMEOUT_MS, command_timeout_ms: COMMAND_TIMEOUT_MS } }),
});
t.teardown(() => strict.stop());

/** The summary line of call `uuid` (or of the first call without a UUID after `from` lines). */
function summaryOf(d: DaemonProcess, uuid: string): Promise<LogLine> {
  return d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === uuid, 5000);
}

/** A raw socket to the daemon: what it received, and when it closed (ms after the start). */
function rawPeer(port: number): { socket: Socket; received: () => string; waitFor: (needle: string) => Promise<void>; closedAfterMs: Promise<number> } {
  const start = Date.now();
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  let received = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (c: Buffer) => {
    received += c.toString('latin1');
    waiters.splice(0).forEach((w) => w());
  });
  socket.on('error', () => {});
  const closedAfterMs = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - start)));
  return {
    socket,
    received: () => received,
    async waitFor(needle) {
      while (!received.includes(needle)) await new Promise<void>((r) => waiters.push(r));
    },
    closedAfterMs,
  };
}

t.test('a frame over esl.max_frame_bytes closes that session only; a concurrent call completes', async (t) => {
  const fs = new FakeFreeSwitch({ daemonPort: strict.eslPort, timeScale: 1, gateways: { carrier_a: { type: 'answer', afterMs: 400, hangupAfterMs: 400 } } });
  t.teardown(() => fs.close());
  const normal = fs.startCall({ variables: CALL_VARS });
  const oversized = [
    ['header block over the limit', Buffer.from(`Content-Type: command/reply\n${`X-Pad: ${'p'.repeat(1000)}\n`.repeat(Math.ceil(MAX / 1000) + 1)}\n`)],
    ['Content-Length over the limit (no body)', Buffer.from(`Content-Type: text/event-json\nContent-Length: ${MAX + 1}\n\n`)],
    ['Content-Length over the limit, body sent', Buffer.concat([Buffer.from(`Content-Type: text/event-json\nContent-Length: ${MAX + 100}\n\n`), Buffer.alloc(MAX + 100, 0x7b)])],
  ] as const;
  const results = await Promise.all(
    oversized.map(([, bytes], i) => runPeer(strict.eslPort, { uuid: `big-${i}`, variables: CALL_VARS, inject: { at: 'filter', where: 'instead', chunks: [bytes], then: 'continue' } })),
  );
  for (const [i, [name]] of oversized.entries()) {
    const r = results[i]!;
    t.equal(r.end, 'daemon_closed', `${name}: the daemon closed the session`);
    // The setup went out in one write before the bad frame came back; nothing may follow it (no hangup, no exit).
    t.same(r.commands.map((c) => c.split(' ')[0]), ['connect', 'linger', 'filter', 'filter', 'filter', 'event', 'sendmsg', 'sendmsg'], `${name}: nothing after the bad frame`);
    t.match(await summaryOf(strict, `big-${i}`), { outcome: 'error', code: 'esl_failure', esl_detail: 'filter: closed', esl_close: { reason: 'frame_too_large' } });
    t.comment(`${name}: closed ${r.msAfterInjection} ms after the frame`);
  }
  const record = await normal.done;
  t.equal(record.bridges[0]?.outcome, 'answered', 'the concurrent call was answered');
  t.equal(record.exitReceived, true, 'and ended with exit');
  t.equal(await waitForIdle(strict), 0);
});

t.test('a peer that connects and says nothing is closed after esl.connect_timeout_ms', async (t) => {
  const p = rawPeer(strict.eslPort);
  await p.waitFor('connect\n\n');
  const ms = await p.closedAfterMs;
  t.comment(`silent peer closed after ${ms} ms (connect_timeout_ms ${CONNECT_TIMEOUT_MS})`);
  t.ok(ms >= CONNECT_TIMEOUT_MS - 20, 'not before the bound');
  t.equal(p.received(), 'connect\n\n', 'nothing but connect was sent');
  t.match(await strict.waitForLog((l) => l.msg === 'call' && l['esl_detail'] === 'connect: closed' && l['call_uuid'] === undefined), { outcome: 'error', code: 'esl_failure' });
  t.equal(await waitForIdle(strict), 0);
});

const stalls: Array<[string, string, (p: ReturnType<typeof rawPeer>, uuid: string) => Promise<void>]> = [
  ['half a connect reply', 'connect: closed', async (p, uuid) => {
    await p.waitFor('connect\n\n');
    const reply = connectReply(uuid, CALL_VARS);
    p.socket.write(reply.slice(0, reply.length >> 1));
  }],
  ['half a command reply (after connect)', 'linger: closed', async (p, uuid) => {
    await p.waitFor('connect\n\n');
    p.socket.write(connectReply(uuid, CALL_VARS));
    await p.waitFor('linger');
    p.socket.write('Content-Type: command/re');
  }],
  ['a body cut short (Content-Length 500, 100 bytes sent)', 'linger: closed', async (p, uuid) => {
    await p.waitFor('connect\n\n');
    p.socket.write(connectReply(uuid, CALL_VARS));
    await p.waitFor('linger');
    p.socket.write(`Content-Type: text/event-json\nContent-Length: 500\n\n${'{'.repeat(100)}`);
  }],
  ['a header line trickled one byte every 50 ms', 'linger: closed', async (p, uuid) => {
    await p.waitFor('connect\n\n');
    p.socket.write(connectReply(uuid, CALL_VARS));
    await p.waitFor('linger');
    const timer = setInterval(() => p.socket.write('X'), 50);
    void p.closedAfterMs.then(() => clearInterval(timer));
  }],
];
for (const [name, detail, play] of stalls) {
  t.test(`a peer that stops mid-frame is closed by the stall timer: ${name}`, async (t) => {
    const uuid = `stall-${name.replace(/\W+/g, '-')}`;
    const p = rawPeer(strict.eslPort);
    await play(p, uuid);
    const ms = await p.closedAfterMs;
    t.comment(`${name}: closed ${ms} ms after connecting (stall bound ${CONNECT_TIMEOUT_MS} ms, command timeout ${COMMAND_TIMEOUT_MS} ms)`);
    const summary = await strict.waitForLog((l) => l.msg === 'call' && l['esl_detail'] === detail && (l['call_uuid'] === uuid || detail.startsWith('connect')));
    // `<command>: closed` = the connection was cut under the command (stall timer); a command timeout would say `timeout`.
    t.match(summary, { outcome: 'error', code: 'esl_failure', esl_detail: detail, esl_close: { reason: 'timeout' } });
    t.equal(await waitForIdle(strict), 0);
  });
}

t.test('one row per fuzz kind, injected while an answered call is up (nothing in flight)', async (t) => {
  const expected = (kind: FuzzKind): PeerEnd => (HARMLESS_KINDS.has(kind) || ['own_hangup_event', 'linger_notice', 'disconnect_notice'].includes(kind) ? 'exit' : 'daemon_closed');
  const rows = FUZZ_KINDS.map((kind, i) => {
    const uuid = `kind-${kind.replace(/_/g, '-')}`;
    let bytes = fuzzFrame(createRng(1000 + i), kind, { uuid, maxFrameBytes: MAX }).bytes;
    // Deterministically "garbage without a line end": it can only stall.
    if (kind === 'binary' || kind === 'binary_lines') bytes = Buffer.from(bytes.filter((b) => b !== 0x0a).length > 0 ? bytes.filter((b) => b !== 0x0a) : [0xff]);
    const silent = STALL_KINDS.has(kind) || kind === 'binary' || kind === 'binary_lines';
    return { kind, uuid, bytes, silent, want: expected(kind) };
  });
  t.ok(rows.filter((r) => r.want === 'daemon_closed').every((r) => FATAL_KINDS.has(r.kind) || r.silent || r.kind === 'stray_reply'), 'fatal rows are the fatal, stalling and stray-reply kinds');
  const results = await Promise.all(
    rows.map((r) => runPeer(strict.eslPort, {
      uuid: r.uuid, variables: CALL_VARS, talkMs: 800, silentHoldMs: 5000,
      inject: { at: 'answered', where: 'after', chunks: [r.bytes], then: r.silent ? 'silent' : 'continue' },
    })),
  );
  for (const [i, r] of rows.entries()) {
    const res = results[i]!;
    t.equal(res.end, r.want, `${r.kind}${r.silent ? ' (then silent)' : ''}: ${r.want} after ${res.msAfterInjection} ms`);
  }
  t.equal(await waitForIdle(strict), 0);
});

t.test('a frame split byte by byte, and 500 frames coalesced in one chunk, are read correctly', async (t) => {
  const lenientDir = t.testdir();
  const d = await startDaemon({ dir: lenientDir, replica, config: hostileConfig({ esl: { connect_timeout_ms: 10_000 } }) });
  t.teardown(() => d.stop());
  const split = await runPeer(d.eslPort, { uuid: 'byte-by-byte', variables: CALL_VARS, connectReplyByteByByte: true });
  t.equal(split.end, 'exit', 'connect reply one byte per segment: the call completes');
  t.match(await summaryOf(d, 'byte-by-byte'), { outcome: 'answered', campaign_id: 'camp1', lead_id: 'lead1' });

  const noise = fuzzFrame(createRng(7), 'coalesced_noise', { uuid: 'coalesced', maxFrameBytes: MAX });
  const parts: Buffer[] = [];
  let frames = 1; // the real reply at the end
  while (frames < 500) {
    parts.push(noise.bytes);
    frames += noise.frames;
  }
  const burst = Buffer.concat(parts);
  const coalesced = await runPeer(d.eslPort, {
    uuid: 'coalesced', variables: CALL_VARS,
    inject: { at: 'filter', where: 'instead', chunks: [Buffer.concat([burst, Buffer.from(replyFrame('+OK filter added. [Unique-ID]=[coalesced]'))])], then: 'continue' },
  });
  t.ok(frames >= 500, `${frames} frames (${burst.length} bytes) in one chunk`);
  t.equal(coalesced.end, 'exit', 'noise plus the real reply in one chunk: the call completes');
  t.match(await summaryOf(d, 'coalesced'), { outcome: 'answered' });
  t.equal(await waitForIdle(d), 0);
  t.comment(`lenient daemon after: ${JSON.stringify(figures(d))}`);
});
