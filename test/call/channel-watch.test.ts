import t from 'tap';
import type { EslEvent } from '../../src/esl/channel-data.js';
import type { DisconnectNotice, OutboundConnection } from '../../src/esl/connection.js';
import { ChannelWatch } from '../../src/call/channel-watch.js';

const UUID = 'a1b2c3d4-0000-4000-8000-000000000001';

/** The four members ChannelWatch uses, driven by hand (the session's tests drive the real one over TCP). */
function stubConnection(): { conn: OutboundConnection; event(e: Record<string, string>): void; notice(n: DisconnectNotice): void } {
  const events = new Set<(e: EslEvent) => void>();
  const notices = new Set<(n: DisconnectNotice) => void>();
  let seq = 0;
  const conn = {
    onEvent: (l: (e: EslEvent) => void) => (events.add(l), () => events.delete(l)),
    onNotice: (l: (n: DisconnectNotice) => void) => (notices.add(l), () => notices.delete(l)),
    onClosed: () => {},
    isClosed: false,
  } as unknown as OutboundConnection;
  return {
    conn,
    event: (h) => {
      const e: EslEvent = { name: h['Event-Name']!, seq: ++seq, headers: new Map(Object.entries(h)) };
      for (const l of events) l(e);
    },
    notice: (n) => {
      for (const l of notices) l(n);
    },
  };
}

t.test('what tells the watch the A-leg is gone (CHANNEL_HANGUP is not subscribed)', async (t) => {
  const rows: Array<[string, Record<string, string>, boolean]> = [
    ['the bridge completion after the hangup (Answer-State: hangup)', { 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': UUID, Application: 'bridge', 'Answer-State': 'hangup' }, true],
    ['a failed bridge while the A-leg is up (ringing)', { 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': UUID, Application: 'bridge', 'Answer-State': 'ringing' }, false],
    ['CHANNEL_BRIDGE (answered)', { 'Event-Name': 'CHANNEL_BRIDGE', 'Unique-ID': UUID, 'Answer-State': 'answered' }, false],
    ['CHANNEL_HANGUP_COMPLETE', { 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': UUID, 'Answer-State': 'hangup' }, true],
    ['CHANNEL_HANGUP sent anyway', { 'Event-Name': 'CHANNEL_HANGUP', 'Unique-ID': UUID }, true],
    ["another channel's event saying hangup", { 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': 'other', 'Answer-State': 'hangup' }, false],
  ];
  for (const [name, headers, gone] of rows) {
    const c = stubConnection();
    const w = new ChannelWatch(c.conn, UUID, Date.now);
    c.event(headers);
    t.equal(w.aLegGone, gone, name);
    w.dispose();
  }
  const c = stubConnection();
  const w = new ChannelWatch(c.conn, UUID, Date.now);
  c.notice({ disposition: 'linger', lingerSeconds: 20, headers: new Map() });
  t.equal(w.aLegGone, true, 'the linger notice');
  w.dispose();
});

t.test('the session is told of every change, and the completion is kept', async (t) => {
  const c = stubConnection();
  let changes = 0;
  const w = new ChannelWatch(c.conn, UUID, Date.now, () => changes++);
  c.event({ 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': UUID, Application: 'bridge', 'Application-UUID': 'x', 'Answer-State': 'hangup' });
  t.equal(changes, 1, 'the bridge completion');
  t.equal(w.aLegGone, true);
  t.ok(w.completion('x'), 'the completion is kept');
  c.event({ 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': 'other', 'Application-UUID': 'y' });
  t.equal(changes, 1, "another channel's event is no change");
  c.notice({ disposition: 'linger', lingerSeconds: 20, headers: new Map() });
  t.equal(changes, 2, 'the linger notice');
  w.dispose();
  c.event({ 'Event-Name': 'CHANNEL_HANGUP_COMPLETE', 'Unique-ID': UUID });
  t.equal(changes, 2, 'nothing after dispose');
  t.equal(w.completion('x'), undefined, 'dispose forgets the events');
});
