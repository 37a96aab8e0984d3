/**
 * Spawns the BUILT daemon (`dist/main.js serve`) as a child process, the way systemd runs it, for process-level
 * tests, benchmarks and the soak: ports 0 (the ready line reports the bound addresses), a per-run config file,
 * JSON log lines collected, RSS and open descriptors read from /proc. Used by test/integration/*, scripts/*.
 * No tap import here: scripts use it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../src/node-flags.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const DAEMON_ENTRY = join(REPO_ROOT, 'dist', 'main.js');

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface DaemonOptions {
  /** Config object written to `<dir>/config.json` (merged over ports 0 and the replica path). */
  config?: Record<string, unknown>;
  /** Replica file. */
  replica: string;
  /** Working directory for the config file. */
  dir: string;
  /** Extra environment (CALLROUTER_* overrides, LOG_PRETTY...). */
  env?: Record<string, string>;
  /** Extra CLI args after `serve`. */
  args?: string[];
  /** Max wait for the ready line (default 20 s). */
  readyTimeoutMs?: number;
  /** Extra node flags (e.g. --max-old-space-size), after `nodeFlags`. */
  nodeArgs?: string[];
  /** The node flags production runs with (default NODE_FLAGS, as package.json `start` and the systemd unit). */
  nodeFlags?: readonly string[];
  /** The daemon's entry point (default this checkout's dist/main.js; the bench compares another build's). */
  entry?: string;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly eslPort: number;
  readonly metricsPort: number;
  /** Every JSON log line so far (non-JSON stdout lines are kept as `{level:'raw', msg}`). */
  readonly logs: LogLine[];
  /** Raw stderr text. */
  stderr(): string;
  /** Resolves with the exit code (or null and the signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a log line matching `pred` (already seen ones count); rejects after timeoutMs. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** GET a path on the metrics listener: status and body text. */
  http(path: string): Promise<{ status: number; body: string }>;
  /** Value of one sample line of /metrics (`name{labels}` exactly as exposed), or undefined. */
  metric(sample: string): Promise<number | undefined>;
  /** Resident set size in bytes (from /proc). */
  rss(): number;
  /** Open file descriptors (from /proc). */
  openFds(): number;
  kill(signal?: NodeJS.Signals): void;
  /** SIGKILL if still running (teardown). */
  stop(): Promise<void>;
  /** The config file the daemon was started with (SIGHUP re-reads it). */
  readonly configPath: string;
  /** Rewrites the config file: the start-up base (ports 0, replica) merged with `patch`. Send SIGHUP to apply. */
  writeConfig(patch: Record<string, unknown>): void;
  /** Every sample of /metrics by `name{labels}` (histogram buckets included). */
  scrape(): Promise<Map<string, number>>;
  /** Polls /metrics until `sample` equals `value` (absent counts as undefined); rejects after timeoutMs. */
  waitForMetric(sample: string, value: number, timeoutMs?: number): Promise<void>;
}

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/main.js <args>` to completion (e.g. `replica demo`, `explain`, or a `serve` expected to fail
 * at start-up) with only PATH and `env` in the environment. SIGKILLs it after `timeoutMs` (default 20 s).
 */
export function runCli(args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult> {
  const child = spawn(process.execPath, [DAEMON_ENTRY, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  return new Promise((res) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
  });
}

/** Parses Prometheus exposition text into `name{labels}` → value (comments skipped). */
export function parseMetrics(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** Spawn `node dist/main.js serve --config <dir>/config.json` and wait for `callrouter ready`. */
export async function startDaemon(opts: DaemonOptions): Promise<DaemonProcess> {
  const base = {
    replica: { path: opts.replica },
    esl: { listen: '127.0.0.1:0' },
    metrics: { listen: '127.0.0.1:0' },
    log: { level: 'info' },
  };
  const configPath = join(opts.dir, 'config.json');
  const writeConfig = (patch: Record<string, unknown>): void => {
    writeFileSync(configPath, JSON.stringify(deepMerge(base, patch), null, 2));
  };
  writeConfig(opts.config ?? {});
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? NODE_FLAGS), ...(opts.nodeArgs ?? []), opts.entry ?? DAEMON_ENTRY, 'serve', '--config', configPath, ...(opts.args ?? [])], {
    cwd: opts.dir,
    env: { PATH: process.env['PATH'] ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (text.trim() === '') continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: 'raw', msg: text };
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
  });

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const seen = logs.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const w = {
        pred,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          res(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        rej(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      waiters.add(w);
      void exited.then(() => {
        if (!waiters.has(w)) return;
        waiters.delete(w);
        clearTimeout(timer);
        rej(new Error(`daemon exited before the log line; stderr: ${stderr.slice(-2000)}`));
      });
    });
  };

  const ready = await waitForLog((l) => l.msg === 'callrouter ready', opts.readyTimeoutMs ?? 20_000);
  const portOf = (v: unknown): number => Number(String(v).slice(String(v).lastIndexOf(':') + 1));
  const eslPort = portOf(ready['esl']);
  const metricsPort = portOf(ready['metrics']);
  const pid = child.pid!;

  const http = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`);
    return { status: res.status, body: await res.text() };
  };

  return {
    child,
    pid,
    eslPort,
    metricsPort,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog,
    http,
    async metric(sample) {
      const { body } = await http('/metrics');
      for (const line of body.split('\n')) {
        if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
      }
      return undefined;
    },
    rss: () => readRssBytes(pid),
    openFds: () => readdirSync(`/proc/${pid}/fd`).length,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    configPath,
    writeConfig,
    async scrape() {
      return parseMetrics((await http('/metrics')).body);
    },
    async waitForMetric(sample, value, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: number | undefined;
      for (;;) {
        last = parseMetrics((await http('/metrics')).body).get(sample);
        if (last === value) return;
        if (Date.now() > deadline) throw new Error(`${sample} is ${last}, not ${value}, after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

/** RSS of a process in bytes (VmRSS from /proc/<pid>/status). */
export function readRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
