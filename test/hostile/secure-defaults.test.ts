/**
 * Secure defaults, proven against the running daemon: loopback listeners by default; `esl.allow_from` refuses
 * (and counts) peers outside it; no signing-key material in any log line, metric or frame; and the daemon
 * never needs write access to the replica (run as an unprivileged user against a 0444 file in a 0555
 * directory while a writer keeps the WAL files present: calls work and nothing there is created or changed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t, { type Test } from 'tap';
import { ConfigSchema } from '../../src/config/schema.js';
import { openReplicaWriter } from '../../src/replica/writer.js';
import { FakeFreeSwitch } from '../fake-freeswitch/fake-freeswitch.js';
import { buildReplica, type ReplicaSpec } from '../fixtures/replica.js';
import { DAEMON_ENTRY, REPO_ROOT, startDaemon } from '../support/daemon-process.js';

const VARS = { g2d_campaign_id: 'camp1', g2d_lead_id: 'lead1' };
const ANSWER = { type: 'answer', afterMs: 20, hangupAfterMs: 20 } as const;
const SPEC: ReplicaSpec = {
  carriers: [{ id: 'c_a', name: 'carrier_a' }, { id: 'c_b', name: 'carrier_b' }],
  routes: [{ id: 'r1', prefix: '1', carrierId: 'c_a', priority: 10 }],
  campaigns: [{ id: 'camp1', stirShakenAttestation: 'A' }],
  leadLists: [{ id: 'list1', callerId: '+12125550100' }],
  leads: [{ id: 'lead1', primaryPhone: '+14155550123' }],
};

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('defaults: both listeners on loopback, ESL peers limited to loopback', async (t) => {
  const c = ConfigSchema.parse({});
  t.equal(c.esl.listen, '127.0.0.1:8084');
  t.equal(c.metrics.listen, '127.0.0.1:9464');
  t.same(c.esl.allow_from, ['127.0.0.0/8', '::1/128']);
  const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'config', 'default.json'), 'utf8')) as { esl: { listen: string; allow_from: string[] }; metrics: { listen: string } };
  t.match(shipped.esl.listen, /^127\.0\.0\.1:/, 'config/default.json ESL on loopback');
  t.match(shipped.metrics.listen, /^127\.0\.0\.1:/, 'config/default.json metrics on loopback');
  t.ok(shipped.esl.allow_from.every((cidr) => cidr.startsWith('127.') || cidr === '::1/128'), 'config/default.json allows loopback only');
});

/** Connects from `localAddress`; resolves with what the daemon sent before closing (or within 1 s). */
function probe(port: number, localAddress: string): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    const s: Socket = connect({ host: '127.0.0.1', port, localAddress });
    const timer = setTimeout(() => { s.destroy(); resolve({ data, closed: false }); }, 1000);
    s.on('data', (b) => {
      data += b.toString();
      if (data.includes('\n\n')) { clearTimeout(timer); s.destroy(); resolve({ data, closed: false }); }
    });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve({ data, closed: true }); });
  });
}

t.test('esl.allow_from: a peer outside the list is closed before connect and counted', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, SPEC);
  const config = { esl: { allow_from: ['127.0.0.2/32'] } };
  const d = await startDaemon({ dir, replica, config });
  t.teardown(() => d.stop());
  const refused = 'callrouter_sessions_refused_total{reason="not_allowed"}';
  t.equal(await d.metric(refused), 0);

  const from1 = await probe(d.eslPort, '127.0.0.1');
  t.same(from1, { data: '', closed: true }, '127.0.0.1 is closed without a byte');
  t.equal(await d.metric(refused), 1, 'counted as not_allowed');
  const line = await d.waitForLog((l) => l.msg === 'esl connection refused: peer not in esl.allow_from');
  t.match(line, { level: 'warn', remote_address: '127.0.0.1' });

  const from2 = await probe(d.eslPort, '127.0.0.2');
  t.match(from2.data, /^connect\n\n/, '127.0.0.2 (allowed) gets the connect command');
  t.equal(await d.metric(refused), 1);

  // Allowing 127.0.0.1 takes a restart: SIGHUP says so instead of silently keeping the old list.
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    replica: { path: replica }, esl: { listen: '127.0.0.1:0', allow_from: ['127.0.0.1/32'] }, metrics: { listen: '127.0.0.1:0' },
  }));
  d.kill('SIGHUP');
  const hup = await d.waitForLog((l) => l.msg === 'SIGHUP: esl listener settings change only on restart');
  t.same(hup['keys'], ['esl.allow_from']);

  const dir2 = join(dir, 'restart');
  mkdirSync(dir2);
  const d2 = await startDaemon({ dir: dir2, replica, config: { esl: { allow_from: ['127.0.0.1/32'] } } });
  t.teardown(() => d2.stop());
  const fs = new FakeFreeSwitch({ daemonPort: d2.eslPort, timeScale: 0.01, gateways: { carrier_a: ANSWER } });
  t.teardown(() => fs.close());
  const rec = await fs.call({ variables: VARS });
  t.equal(rec.bridges[0]?.outcome, 'answered', 'allowed now: a call from 127.0.0.1 is answered');
  t.equal(await d2.metric(refused), 0);
});

t.test('no signing-key material in any log line, metric or frame', async (t) => {
  const dir = t.testdir();
  const replica = buildReplica(dir, SPEC);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keyFile = join(dir, 'signing-key.pem');
  writeFileSync(keyFile, pem, { mode: 0o600 });
  const jwk = privateKey.export({ format: 'jwk' });
  const body = pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  const der = Buffer.from(body.join(''), 'base64');
  const d64 = jwk.d!;
  const secrets = [
    ...body.filter((l) => l.length >= 16).map((l) => ['PEM body line', l] as const),
    ['PEM body', body.join('')] as const,
    ['private scalar (base64url)', d64] as const,
    ['private scalar (hex)', Buffer.from(d64, 'base64url').toString('hex')] as const,
    ['private scalar (base64)', Buffer.from(d64, 'base64url').toString('base64')] as const,
    ['DER (hex)', der.toString('hex').slice(0, 64)] as const,
    ['PEM armour', 'PRIVATE KEY'] as const,
  ];

  const d = await startDaemon({
    dir, replica,
    config: { identity: { default_mode: 'passport', signing: { key_file: keyFile, x5u: 'https://cert.example.com/callrouter.pem' } }, log: { level: 'trace' } },
  });
  t.teardown(() => d.stop());
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: ANSWER } });
  t.teardown(() => fs.close());
  const uuid = randomUUID();
  const rec = await fs.call({ uuid, variables: VARS });
  t.equal(rec.bridges[0]?.outcome, 'answered');
  t.ok(rec.bridges[0]!.legs[0]!.vars['sip_h_Identity'], 'the call carried a signed PASSporT (the key was used)');
  await d.waitForLog((l) => l.msg === 'call' && l['call_uuid'] === uuid);
  d.kill('SIGHUP'); // reload re-reads the key and logs again
  await d.waitForLog((l) => l.msg === 'SIGHUP: configuration reloaded');

  const logs = d.logs.map((l) => JSON.stringify(l)).join('\n') + d.stderr();
  const metrics = (await d.http('/metrics')).body;
  const frames = rec.frames.map((f) => f.raw ?? '').join('\n');
  t.ok(logs.length > 1000 && metrics.length > 1000, `scanned ${d.logs.length} log lines, ${metrics.length} bytes of /metrics, ${rec.frames.length} frames`);
  for (const [what, secret] of secrets) {
    t.notOk(logs.includes(secret), `${what}: not in the logs`);
    t.notOk(metrics.includes(secret), `${what}: not in /metrics`);
    t.notOk(frames.includes(secret), `${what}: not in any ESL frame`);
  }
});

/** Spawns the built daemon as nobody (setpriv), the way systemd runs it with ReadOnlyPaths. */
async function startUnprivileged(t: Test, configPath: string): Promise<{ pid: number; eslPort: number; lines: string[] }> {
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, DAEMON_ENTRY, 'serve', '--config', configPath], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', SQLITE_USE_URI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      const j = JSON.parse(l) as Record<string, unknown>;
      if (j['msg'] === 'callrouter ready') { clearTimeout(timer); resolve(j); }
    });
    void exited.then(() => reject(new Error(`daemon exited; stderr: ${stderr}`)));
  });
  return { pid: child.pid!, eslPort: Number(String(ready['esl']).split(':').pop()), lines };
}

const cannotDropPrivileges =
  process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0 ? 'needs root and setpriv to run the daemon as nobody' : false;

t.test('the daemon never needs write access to the replica', { skip: cannotDropPrivileges }, async (t) => {
  const base = t.testdir();
  chmodSync(base, 0o755);
  const dir = join(base, 'ro');
  mkdirSync(dir);
  const replica = buildReplica(dir, SPEC);
  // The sync job: an open WAL connection keeps replica.db-wal and -shm present throughout.
  const writer = openReplicaWriter(replica);
  t.teardown(() => writer.close());
  writer.insertCarrier({ id: 'c_x', name: 'carrier_x' });
  chmodSync(replica, 0o444);
  chmodSync(dir, 0o555);
  t.teardown(() => { try { chmodSync(dir, 0o755); } catch { /* already removed */ } });
  t.ok(readdirSync(dir).includes('replica.db-wal'), 'the writer keeps the -wal file present');

  const configPath = join(base, 'config.json');
  writeFileSync(configPath, JSON.stringify({ replica: { path: replica }, esl: { listen: '127.0.0.1:0' }, metrics: { listen: '127.0.0.1:0' } }));
  chmodSync(configPath, 0o644);

  const snapshot = (): Record<string, string> => Object.fromEntries(readdirSync(dir).sort().map((name) => {
    const p = join(dir, name);
    const st = statSync(p);
    return [name, `${st.ino}:${st.size}:${st.mtimeMs}:${st.mode.toString(8)}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`];
  }));
  const before = snapshot();

  const d = await startUnprivileged(t, configPath);
  const fs = new FakeFreeSwitch({ daemonPort: d.eslPort, timeScale: 0.01, gateways: { carrier_a: ANSWER, carrier_b: ANSWER } });
  t.teardown(() => fs.close());
  const records = await Promise.all(Array.from({ length: 5 }, () => fs.call({ variables: VARS })));
  t.ok(records.every((r) => r.bridges[0]?.outcome === 'answered'), '5 calls answered by the unprivileged daemon');

  // Every descriptor the daemon holds in that directory is open read-only.
  const fdDir = `/proc/${d.pid}/fd`;
  const held: string[] = [];
  for (const fd of readdirSync(fdDir)) {
    let target: string;
    try { target = readlinkSync(join(fdDir, fd)); } catch { continue; }
    if (!target.startsWith(dir)) continue;
    const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/${d.pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '';
    held.push(`${target.slice(dir.length + 1)}:${(parseInt(flags, 8) & 3) === 0 ? 'O_RDONLY' : 'WRITABLE'}`);
  }
  t.ok(held.length > 0, `the daemon holds the replica open: ${held.join(', ')}`);
  t.ok(held.every((h) => h.endsWith(':O_RDONLY')), 'every descriptor into the replica directory is O_RDONLY');
  t.same(snapshot(), before, 'no file in the replica directory was created or modified by the daemon');

  // The writer keeps working beside it, and the daemon sees its commits.
  chmodSync(dir, 0o755);
  chmodSync(replica, 0o644);
  writer.insertRoute({ id: 'r0', tenantId: 't1', prefix: '1', carrierId: 'c_b', priority: 1 });
  await until('the commit is served', async () => (await fs.call({ variables: VARS })).attemptedGateways[0] === 'carrier_b');
  t.pass('a commit by the writer reaches the unprivileged daemon');
});
