import t, { type Test } from 'tap';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { createOpsServer, type OpsServerOptions } from '../../src/observability/http-server.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Probe } from '../../src/observability/probes.js';
import { ListenError } from '../../src/errors.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, method = 'GET', agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function start(t: Test, over: Partial<OpsServerOptions> = {}) {
  const server = createOpsServer({
    listen: '127.0.0.1:0',
    metrics: createMetrics({ activeSessions: () => 2 }, { defaultMetrics: false }),
    liveness: {},
    readiness: {},
    ...over,
  });
  t.teardown(() => server.close());
  const { port } = await server.listen();
  return { server, port };
}

t.test('/metrics serves the registry as Prometheus text', async (t) => {
  const { port } = await start(t);
  const r = await get(port, '/metrics');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(r.body, /^callrouter_active_sessions 2$/m);
  t.equal((await get(port, '/metrics?x=1')).status, 200, 'query strings are ignored');
});

t.test('/healthz: 200 when the loop is fine, 503 with reasons when stalled', async (t) => {
  let ok = true;
  const loop: Probe = () => (ok ? { ok: true, detail: { event_loop_max_delay_ms: 3 } } : { ok: false, reason: 'event loop blocked 5000 ms (limit 2000 ms)' });
  const { port } = await start(t, { liveness: { event_loop: loop } });
  let r = await get(port, '/healthz');
  t.equal(r.status, 200);
  t.same(JSON.parse(r.body), { status: 'ok', checks: { event_loop: { ok: true, detail: { event_loop_max_delay_ms: 3 } } } });
  ok = false;
  r = await get(port, '/healthz');
  t.equal(r.status, 503);
  t.match(JSON.parse(r.body), { status: 'unhealthy', reasons: ['event_loop: event loop blocked 5000 ms (limit 2000 ms)'] });
});

t.test('/readyz: 503 naming every failing probe; a throwing probe fails too', async (t) => {
  const state = { esl: false, replica: true };
  const { port } = await start(t, {
    readiness: {
      esl: () => (state.esl ? { ok: true } : { ok: false, reason: 'ESL listener is not listening' }),
      replica: () => (state.replica ? { ok: true } : { ok: false, reason: 'replica is not open' }),
    },
  });
  let r = await get(port, '/readyz');
  t.equal(r.status, 503);
  t.match(r.headers['content-type'], /^application\/json/);
  t.same(JSON.parse(r.body), {
    status: 'not_ready',
    reasons: ['esl: ESL listener is not listening'],
    checks: { esl: { ok: false, reason: 'ESL listener is not listening' }, replica: { ok: true } },
  });
  state.esl = true;
  r = await get(port, '/readyz');
  t.equal(r.status, 200);
  t.same(JSON.parse(r.body), { status: 'ready', checks: { esl: { ok: true }, replica: { ok: true } } });

  const { port: p2 } = await start(t, { readiness: { replica: () => { throw new Error('SQLITE_CORRUPT'); } } });
  r = await get(p2, '/readyz');
  t.equal(r.status, 503);
  t.same(JSON.parse(r.body).reasons, ['replica: probe failed: SQLITE_CORRUPT']);
});

t.test('other paths 404, other methods 405, HEAD has no body', async (t) => {
  const { port } = await start(t);
  for (const p of ['/', '/foo', '/metrics/x', '/healthz/', '//readyz']) t.equal((await get(port, p)).status, 404, p);
  const post = await get(port, '/metrics', 'POST');
  t.equal(post.status, 405);
  t.equal(post.headers.allow, 'GET, HEAD');
  const head = await get(port, '/readyz', 'HEAD');
  t.equal(head.status, 200);
  t.equal(head.body, '');
});

t.test('malformed requests get 400 and the server keeps serving', async (t) => {
  const { port } = await start(t);
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write('GARBAGE\r\n\r\n');
  let text = '';
  sock.setEncoding('utf8');
  sock.on('data', (c: string) => (text += c));
  await once(sock, 'close');
  t.match(text, /^HTTP\/1\.1 400 /);
  t.equal((await get(port, '/healthz')).status, 200);
});

t.test('a failing render is a 500, not a crash', async (t) => {
  const { port } = await start(t, { metrics: { contentType: 'text/plain', render: () => Promise.reject(new Error('x')) } });
  t.equal((await get(port, '/metrics')).status, 500);
  t.equal((await get(port, '/healthz')).status, 200);
});

t.test('listen rejects with ListenError when the port is taken', async (t) => {
  const { port } = await start(t);
  const second = createOpsServer({ listen: `127.0.0.1:${port}`, metrics: createMetrics({}, { defaultMetrics: false }), liveness: {}, readiness: {} });
  const err = await second.listen().then(() => null, (e: unknown) => e);
  t.type(err, ListenError);
  t.match(err, { code: 'listen_failed', fields: { address: `127.0.0.1:${port}`, errno: 'EADDRINUSE' } });
  await second.close();
});

t.test('close() closes idle keep-alive sockets and cuts hung requests; idempotent', async (t) => {
  let release: (() => void) | undefined;
  const hung = new Promise<string>((resolve) => (release = () => resolve('')));
  let hang = false;
  let entered: (() => void) | undefined;
  const inRender = new Promise<void>((resolve) => (entered = resolve));
  const server = createOpsServer({
    listen: '127.0.0.1:0',
    metrics: { contentType: 'text/plain', render: () => (hang ? (entered?.(), hung) : Promise.resolve('ok\n')) },
    liveness: {},
    readiness: {},
    closeTimeoutMs: 50,
  });
  const { port } = await server.listen();
  t.not(server.address(), null);
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  t.equal((await get(port, '/metrics', 'GET', agent)).status, 200);
  hang = true;
  const pending = get(port, '/metrics').catch((e: unknown) => e);
  await inRender;
  const closed = server.close();
  t.equal(server.close(), closed, 'same promise');
  await closed;
  t.type(await pending, Error, 'the hung request was cut');
  t.equal(server.address(), null);
  release?.();
});
