import t from 'tap';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { once } from 'node:events';
import { buildAllowList, createEslServer, isAllowed, parseListenAddress, peerCheckNeeded, type RefusalReason } from '../../src/esl/server.js';
import { ListenError } from '../../src/errors.js';
import type { OutboundConnection } from '../../src/esl/connection.js';

const base = { maxFrameBytes: 65536, connectTimeoutMs: 2000, commandTimeoutMs: 2000 };

/** Connects and resolves with every byte received before the daemon closed. */
async function probe(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let got = '';
  socket.on('data', (c) => (got += c.toString()));
  await once(socket, 'close');
  return got;
}

t.test('above max_sessions the socket is closed before connect', async (t) => {
  const refused: RefusalReason[] = [];
  const held: OutboundConnection[] = [];
  const server = createEslServer({
    ...base,
    listen: '127.0.0.1:0',
    allowFrom: ['127.0.0.0/8'],
    maxSessions: 1,
    onSession: async (conn) => {
      held.push(conn);
      await conn.closed;
    },
    onRefused: (r) => refused.push(r),
  });
  const { port } = await server.listen();
  t.teardown(() => server.destroyAll());
  const first = connect(port, '127.0.0.1');
  first.on('error', () => {});
  await once(first, 'connect');
  while (server.activeCount() < 1) await new Promise((r) => setImmediate(r));
  t.equal(await probe(port), '', 'refused peer got no connect');
  t.same(refused, ['max_sessions']);
  first.destroy();
  await held[0]!.closed;
  t.equal(server.activeCount(), 0);
  await server.close();
});

t.test('allow_from refuses other peers', async (t) => {
  const refused: RefusalReason[] = [];
  const server = createEslServer({
    ...base,
    listen: '127.0.0.1:0',
    allowFrom: ['10.0.0.0/8'],
    maxSessions: 5,
    onSession: async () => void t.fail('no session expected'),
    onRefused: (r) => refused.push(r),
  });
  const { port } = await server.listen();
  t.equal(await probe(port), '');
  t.same(refused, ['not_allowed']);
  await server.close();
});

t.test('a session that returns without closing is closed for it; a throwing session is reported', async (t) => {
  const errors: unknown[] = [];
  const server = createEslServer({
    ...base,
    listen: '127.0.0.1:0',
    allowFrom: ['127.0.0.1/32'],
    maxSessions: 5,
    onSession: async () => {
      throw new Error('session bug');
    },
    onError: (e) => errors.push(e),
  });
  const { port } = await server.listen();
  await probe(port);
  t.equal(errors.length, 1);
  await server.close();
  t.equal(server.activeCount(), 0);
});

t.test('EADDRINUSE rejects with ListenError (listen settles)', async (t) => {
  const opts = { ...base, allowFrom: ['127.0.0.1/32'], maxSessions: 1, onSession: async () => {} };
  const a = createEslServer({ ...opts, listen: '127.0.0.1:0' });
  const { port } = await a.listen();
  const b = createEslServer({ ...opts, listen: `127.0.0.1:${port}` });
  const err = await b.listen().then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof ListenError);
  t.equal((err as ListenError).code, 'listen_failed');
  await a.close();
});

t.test('address and allow-list helpers', async (t) => {
  t.same(parseListenAddress('127.0.0.1:8084'), { host: '127.0.0.1', port: 8084 });
  t.same(parseListenAddress('[::1]:8084'), { host: '::1', port: 8084 });
  t.throws(() => parseListenAddress('nope'), ListenError);
  t.throws(() => buildAllowList(['300.1.1.1/8']), ListenError);
  const list = buildAllowList(['127.0.0.0/8', '::1/128']);
  t.equal(isAllowed(list, '127.0.0.1'), true);
  t.equal(isAllowed(list, '::ffff:127.0.0.1'), true);
  t.equal(isAllowed(list, '::1'), true);
  t.equal(isAllowed(list, '10.1.1.1'), false);
  t.equal(isAllowed(list, undefined), false);
});

t.test('peerCheckNeeded: skipped only on a loopback listener whose list admits its whole loopback range', async (t) => {
  const rows: [string, string[], boolean][] = [
    ['127.0.0.1', ['127.0.0.0/8', '::1/128'], false],
    ['127.0.0.1', ['0.0.0.0/0'], false],
    ['127.0.0.5', ['127.0.0.0/8'], false],
    ['127.0.0.1', ['127.0.0.1/32'], true], // only part of the range: checked as configured
    ['127.0.0.1', ['127.0.0.0/9', '127.128.0.0/9'], true], // covered, but not by one entry: checked (conservative)
    ['127.0.0.1', ['10.0.0.0/8'], true],
    ['127.0.0.1', ['::1/128'], true],
    ['127.0.0.1', [], true],
    ['::1', ['::1/128'], false],
    ['0:0:0:0:0:0:0:1', ['::/0'], false],
    ['::1', ['127.0.0.0/8'], true],
    ['10.0.0.1', ['0.0.0.0/0'], true], // not loopback: remote peers exist
    ['0.0.0.0', ['0.0.0.0/0'], true],
    ['::', ['::/0'], true],
    ['localhost', ['127.0.0.0/8'], true], // a name, not an address: checked
  ];
  for (const [host, allow, needed] of rows) t.equal(peerCheckNeeded(host, allow), needed, `${host} ${JSON.stringify(allow)}`);
});

/** The host's first non-loopback IPv4 address (a local peer can connect to 127.0.0.1 from it), if any. */
function localNonLoopbackIPv4(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
}

t.test('a loopback listener admitting all of 127.0.0.0/8 takes a local peer whatever its source; a narrower list still refuses', async (t) => {
  const local = localNonLoopbackIPv4();
  const sessions: string[] = [];
  const refused: RefusalReason[] = [];
  const make = (name: string, allowFrom: string[]) => createEslServer({
    ...base,
    listen: '127.0.0.1:0',
    allowFrom,
    maxSessions: 5,
    onSession: async (conn) => {
      sessions.push(name);
      conn.destroy();
    },
    onRefused: (r) => refused.push(r),
  });
  const wide = make('wide', ['127.0.0.0/8']);
  const narrow = make('narrow', ['127.0.0.1/32']);
  const wideAt = await wide.listen();
  const narrowAt = await narrow.listen();
  t.teardown(() => Promise.all([wide.close(), narrow.close()]));
  const from = async (port: number, localAddress: string): Promise<void> => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    socket.on('error', () => {});
    await once(socket, 'close');
  };
  await from(wideAt.port, '127.0.0.2');
  t.same(sessions, ['wide'], 'wide list: 127.0.0.2 gets a session');
  await from(narrowAt.port, '127.0.0.2');
  t.same(refused, ['not_allowed'], 'narrow list: 127.0.0.2 is refused');
  if (local === undefined) {
    t.comment('no non-loopback IPv4 address on this host: the other-source case is not run');
    return;
  }
  await from(wideAt.port, local);
  t.same(sessions, ['wide', 'wide'], `wide list: a local peer from ${local} gets a session`);
  await from(narrowAt.port, local);
  t.same(refused, ['not_allowed', 'not_allowed'], `narrow list: ${local} is refused`);
  t.same(sessions, ['wide', 'wide'], 'the narrow listener never ran a session');
});
