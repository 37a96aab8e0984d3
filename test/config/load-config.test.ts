import t, { type Test } from 'tap';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { ENV_OVERRIDES } from '../../src/config/env.js';
import { ConfigError } from '../../src/errors.js';

const repoFile = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

/** The ConfigError a call throws (fails the test when it does not throw one). */
function configError(t: Test, fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    t.type(err, ConfigError);
    return err as ConfigError;
  }
  t.fail('expected a ConfigError');
  return new ConfigError([]);
}

function writeJson(t: Test, value: unknown): string {
  const file = join(t.testdir(), 'config.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

t.test('no file, no env: the schema defaults, deep-frozen', async (t) => {
  const c = loadConfig({ env: {} });
  t.same(c, ConfigSchema.parse({}));
  t.ok(Object.isFrozen(c));
  t.ok(Object.isFrozen(c.esl.variables));
  t.ok(Object.isFrozen(c.esl.allow_from));
  t.throws(() => {
    (c.esl as { listen: string }).listen = 'x';
  });
});

t.test('precedence: defaults < file < env < overrides', async (t) => {
  const file = writeJson(t, { replica: { path: '/file.db', max_age_seconds: 5 }, log: { level: 'warn' } });
  const c = loadConfig({
    file,
    env: { CALLROUTER_REPLICA_PATH: '/env.db', CALLROUTER_LOG_LEVEL: 'debug', PATH: '/bin' },
    overrides: { 'replica.path': '/flag.db', 'esl.max_sessions': undefined },
  });
  t.equal(c.replica.path, '/flag.db');
  t.equal(c.replica.max_age_seconds, 5);
  t.equal(c.log.level, 'debug');
  t.equal(c.esl.max_sessions, 20000);
});

t.test('env coercion by kind', async (t) => {
  const c = loadConfig({
    env: {
      CALLROUTER_MAX_SESSIONS: ' 42 ',
      CALLROUTER_LOG_PRETTY: 'yes',
      CALLROUTER_ESL_ALLOW_FROM: '10.0.0.0/8, 127.0.0.1/32,',
      CALLROUTER_CONFIG: '/etc/callrouter/config.json',
    },
  });
  t.equal(c.esl.max_sessions, 42);
  t.equal(c.log.pretty, true);
  t.same(c.esl.allow_from, ['10.0.0.0/8', '127.0.0.1/32']);
});

t.test('every env override names a real key and its value kind loads', async (t) => {
  const sample = { string: undefined, int: '1', bool: 'false', list: '127.0.0.1' } as const;
  for (const [name, o] of Object.entries(ENV_OVERRIDES)) {
    const text = sample[o.kind];
    if (text === undefined) continue;
    t.doesNotThrow(() => loadConfig({ env: { [name]: text } }), name);
  }
  const keys = Object.values(ENV_OVERRIDES).map((o) => o.key);
  const defaults = ConfigSchema.parse({}) as unknown as Record<string, Record<string, unknown>>;
  for (const k of keys) {
    const [section, leaf] = k.split('.') as [string, string];
    t.ok(leaf in (defaults[section] ?? {}), `${k} exists`);
  }
});

t.test('every error in one message, each naming its key, the variable or the file', async (t) => {
  const file = writeJson(t, {
    replica: { path: '', pathh: 'typo', watch_cron: 'every minute' },
    esl: { listen: 'nope', max_sessions: 'many' },
    jobs: { stats_cron: '61 * * * * *' },
    bogus: 1,
  });
  const err = configError(t, () =>
    loadConfig({
      file,
      env: { CALLROUTER_MAX_ATTEMPTS: '3x', CALLROUTER_LOG_LEVEL: 'loud', CALLROUTER_LOG_LEVLE: 'x' },
      overrides: { 'metrics.listen': 'bad' },
    }),
  );
  const want = [
    /^replica\.path: /,
    /^replica\.pathh: unknown key$/,
    /^replica\.watch_cron: must be a valid node-cron expression$/,
    /^esl\.listen: must be HOST:PORT/,
    /^esl\.max_sessions: .*number/,
    /^jobs\.stats_cron: must be a valid node-cron expression$/,
    /^bogus: unknown key$/,
    /^CALLROUTER_MAX_ATTEMPTS: must be an integer, got "3x"$/,
    /^log\.level \(from CALLROUTER_LOG_LEVEL\): /,
    /^CALLROUTER_LOG_LEVLE: unknown environment variable/,
    /^metrics\.listen \(from command line\): must be HOST:PORT/,
  ];
  for (const re of want) t.ok(err.issues.some((i) => re.test(i)), `${re} in ${JSON.stringify(err.issues)}`);
  t.equal(err.issues.length, want.length, 'no extra issues');
  for (const i of err.issues) t.ok(err.message.includes(i), 'message carries every issue');
  t.equal(err.code, 'config_invalid');
});

t.test('the ring timeout must leave the progress timeout room to fire first', async (t) => {
  const rows: Array<[number, number, boolean]> = [[45, 6, true], [8, 6, true], [7, 6, false], [6, 6, false], [3, 6, false]];
  for (const [ring, progress, ok] of rows) {
    const overrides = { 'routing.ring_timeout_seconds': ring, 'routing.progress_timeout_seconds': progress };
    if (ok) {
      t.equal(loadConfig({ env: {}, overrides }).routing.ring_timeout_seconds, ring, `${ring}/${progress} accepted`);
    } else {
      const err = configError(t, () => loadConfig({ env: {}, overrides }));
      t.match(err.issues, [/^routing\.ring_timeout_seconds \(from command line\): must be at least progress_timeout_seconds \+ 2 /], `${ring}/${progress} refused`);
    }
  }
});

t.test('range errors from env name the variable', async (t) => {
  const err = configError(t, () => loadConfig({ env: { CALLROUTER_MAX_SESSIONS: '0' } }));
  t.match(err.issues, [/^esl\.max_sessions \(from CALLROUTER_MAX_SESSIONS\): /]);
});

t.test('env coercion errors', async (t) => {
  const rows: [string, string, RegExp][] = [
    ['CALLROUTER_MAX_SESSIONS', '', /is empty/],
    ['CALLROUTER_MAX_SESSIONS', '1e3', /must be an integer/],
    ["CALLROUTER_MAX_SESSIONS", "99999999999999999999", /is out of range/],
    ['CALLROUTER_LOG_PRETTY', 'maybe', /must be true\/false/],
  ];
  for (const [name, text, re] of rows) {
    const err = configError(t, () => loadConfig({ env: { [name]: text } }));
    t.match(err.issues, [new RegExp(`^${name}: ${re.source}`)], `${name}=${text}`);
  }
});

t.test('unknown nested and override keys are errors', async (t) => {
  const err = configError(t, () => loadConfig({ overrides: { 'esl.variables.camp': 'x' } }));
  t.same(err.issues, ['esl.variables.camp (from command line): unknown key']);
});

t.test('missing file, bad JSON, non-object JSON name the file', async (t) => {
  const missing = join(t.testdir(), 'absent.json');
  t.match(configError(t, () => loadConfig({ file: missing })).issues, [`${missing}: cannot read the config file (ENOENT)`]);
  const bad = writeJson(t, '{"replica": ');
  t.match(configError(t, () => loadConfig({ file: bad })).issues, [new RegExp(`^${bad}: not valid JSON`)]);
  const arr = writeJson(t, '[]');
  t.same(configError(t, () => loadConfig({ file: arr })).issues, [`${arr}: the top level must be a JSON object`]);
});

t.test('an env override under a non-object file value is reported, not hidden', async (t) => {
  const file = writeJson(t, { replica: 5 });
  const err = configError(t, () => loadConfig({ file, env: { CALLROUTER_REPLICA_PATH: '/x.db' } }));
  t.ok(err.issues.some((i) => i.startsWith('CALLROUTER_REPLICA_PATH: cannot set replica.path')));
  t.ok(err.issues.some((i) => i.startsWith('replica: ')));
});

t.test('config/default.json holds every key with its default', async (t) => {
  const onDisk = JSON.parse(readFileSync(repoFile('config/default.json'), 'utf8'));
  t.same(onDisk, ConfigSchema.parse({}));
  t.same(loadConfig({ file: repoFile('config/default.json') }), ConfigSchema.parse({}));
});

t.test('config/example.json is valid', async (t) => {
  const c = loadConfig({ file: repoFile('config/example.json') });
  t.equal(c.identity.default_mode, 'passport');
});

t.test('listen: one error for a malformed address, a port error for a big port', async (t) => {
  t.same(configError(t, () => loadConfig({ overrides: { 'esl.listen': 'nope' } })).issues, [
    'esl.listen (from command line): must be HOST:PORT (IPv6 as [addr]:PORT)',
  ]);
  t.same(configError(t, () => loadConfig({ overrides: { 'esl.listen': '[::1]:70000' } })).issues, [
    'esl.listen (from command line): port must be 0..65535',
  ]);
  t.equal(loadConfig({ overrides: { 'esl.listen': '[::1]:0' } }).esl.listen, '[::1]:0');
});
