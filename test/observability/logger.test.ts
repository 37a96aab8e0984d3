import t from 'tap';
import { Writable } from 'node:stream';
import { callLogger, censorSecrets, createLogger, flushLogger, isSecretKey, REDACTED, redactForLog } from '../../src/observability/logger.js';
import { loadConfig } from '../../src/config/load-config.js';

function sink(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}
const json = (lines: string[]): Record<string, unknown>[] => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('JSON lines with level label, ISO time and service', async (t) => {
  const s = sink();
  const log = createLogger({ level: 'info' }, s.stream);
  log.debug('hidden');
  log.info({ n: 1 }, 'hello');
  await flushLogger(log);
  const [line] = json(s.lines());
  t.match(line, { level: 'info', msg: 'hello', n: 1, service: 'callrouter', time: /^\d{4}-\d\d-\d\dT/ });
  t.equal(s.lines().length, 1);
});

t.test('secret fields are censored in log lines', async (t) => {
  const s = sink();
  const log = createLogger({ level: 'info' }, s.stream);
  log.info({ password: 'p1', carrier: { name: 'c', auth_username: 'u', auth_password: 'p2' }, req: { headers: { authorization: 'Basic x' } } }, 'x');
  const text = s.lines().join('\n');
  t.notMatch(text, /p1|p2|"u"|Basic/);
  const [line] = json(s.lines());
  t.match(line, { password: REDACTED, carrier: { name: 'c', auth_username: REDACTED, auth_password: REDACTED } });
});

t.test('censored everywhere a secret can ride: nested objects, an error\'s fields, req.headers', async (t) => {
  const s = sink();
  const log = createLogger({ level: 'info' }, s.stream);
  const err = Object.assign(new Error('boom'), { token: 't1', detail: { secret: 's1' } });
  log.error({ err }, 'failed');
  log.info({ req: { url: '/x', headers: { cookie: 'c1', host: 'h' } }, headers: { authorization: 'a1' }, list: [{ password: 'kept-in-arrays' }] }, 'r');
  callLogger(log, { callUuid: 'u' }).info({ carrier: { auth_password: 'b1' } }, 'child');
  await flushLogger(log);
  const text = s.lines().join('\n');
  t.notMatch(text, /t1|s1|c1|a1|b1/);
  const [e, r, c] = json(s.lines());
  t.match(e, { err: { type: 'Error', message: 'boom', token: REDACTED, detail: { secret: REDACTED } } });
  t.match(r, { req: { url: '/x', headers: { cookie: REDACTED, host: 'h' } }, headers: { authorization: REDACTED } });
  // The same reach as the path list it replaced (`k`, `*.k`): array elements are not searched.
  t.same(r!['list'], [{ password: 'kept-in-arrays' }]);
  t.match(c, { carrier: { auth_password: REDACTED }, call_uuid: 'u', msg: 'child' }, 'a child logger censors too');
});

t.test('censorSecrets: no copy when nothing is secret; a copy, the input untouched, when something is', async (t) => {
  const clean = { outcome: 'answered', attempts: [{ carrier: 'a' }], identity: { level: 'A' } };
  t.equal(censorSecrets(clean), clean, 'the same object: nothing allocated per call line');
  const input = { carrier: { name: 'c', auth_password: 'p' }, n: 1 };
  const out = censorSecrets(input);
  t.not(out, input);
  t.same(out, { carrier: { name: 'c', auth_password: REDACTED }, n: 1 });
  t.same(input, { carrier: { name: 'c', auth_password: 'p' }, n: 1 }, 'the logged object is not changed');
  t.same(Object.keys(out), ['carrier', 'n'], 'key order kept');
});

t.test('isSecretKey', async (t) => {
  const rows: [string, boolean][] = [
    ['password', true], ['auth_password', true], ['authPassword', true], ['auth_username', true], ['secret', true],
    ['api_token', true], ['private_key', true], ['key', true], ['signing_key', true], ['jwk', true], ['key_pem', true],
    ['key_file', false], ['x5u', false], ['path', false], ['listen', false], ['default_header', false],
    ['default_mode', false], ['max_sessions', false], ['tenants', false], ['watch_cron', false], ['campaign_id', false],
  ];
  for (const [k, want] of rows) t.equal(isSecretKey(k), want, k);
});

t.test('effective config for the start line: key file paths kept, key material never', async (t) => {
  const config = loadConfig({
    overrides: { 'identity.signing': { key_file: '/etc/callrouter/k.pem', x5u: 'https://c.example/c.pem' } },
  });
  const out = redactForLog({ ...config, extra: { private_key: '-----BEGIN', auth_password: 'pw' } }) as Record<string, any>;
  t.equal(out.identity.signing.key_file, '/etc/callrouter/k.pem');
  t.equal(out.identity.signing.x5u, 'https://c.example/c.pem');
  t.equal(out.extra.private_key, REDACTED);
  t.equal(out.extra.auth_password, REDACTED);
  t.same(out.esl, config.esl, 'ordinary keys untouched');
  t.notOk(JSON.stringify(redactForLog(config)).includes(REDACTED), 'the stock config has no secrets');
  t.same(redactForLog([{ token: 'x' }, 1]), [{ token: REDACTED }, 1]);
});

t.test('per-call child loggers carry our IDs only', async (t) => {
  const s = sink();
  const log = createLogger({ level: 'info' }, s.stream);
  const call = callLogger(log, {
    callUuid: 'u-1',
    campaignId: 'camp',
    leadId: 'x'.repeat(500),
    tenantId: undefined,
    ...({ evil: 'field' } as object),
  });
  call.info('in call');
  const [line] = json(s.lines());
  t.match(line, { call_uuid: 'u-1', campaign_id: 'camp', msg: 'in call' });
  t.equal((line!.lead_id as string).length, 128);
  t.notOk('tenant_id' in line!);
  t.notOk('evil' in line!);
});

t.test('pretty output when pino-pretty loads', async (t) => {
  const s = sink();
  const log = createLogger({ level: 'info', pretty: true }, s.stream);
  log.info('pretty line');
  await flushLogger(log);
  const text = s.lines().join('\n');
  t.match(text, /INFO.*pretty line/);
  t.throws(() => JSON.parse(s.lines()[0] ?? ''));
});

t.test('pretty asked but pino-pretty missing: JSON with one warning', async (t) => {
  const s = sink();
  const log = createLogger(
    {
      level: 'info',
      pretty: true,
      loadPretty: () => {
        throw new Error("Cannot find module 'pino-pretty'\nRequire stack: ...");
      },
    },
    s.stream,
  );
  log.info('after');
  const lines = json(s.lines());
  t.match(lines[0], { level: 'warn', msg: /pino-pretty is not installed/, reason: "Cannot find module 'pino-pretty'" });
  t.match(lines[1], { level: 'info', msg: 'after' });
});

t.test('flushLogger resolves on stdout destinations and never rejects', async (t) => {
  const log = createLogger({ level: 'silent' });
  await flushLogger(log, 1000);
  const broken = { flush: () => { throw new Error('x'); } } as unknown as Parameters<typeof flushLogger>[0];
  await flushLogger(broken, 1000);
  t.pass();
});
