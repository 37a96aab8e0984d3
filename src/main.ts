#!/usr/bin/env -S node --initial-old-space-size=128
/**
 * The `callrouter` executable. This is the ONLY module that touches `process` (argv, env, signals, exit):
 * everything else receives what it needs as arguments, so it can be tested in-process.
 *
 * Exit codes: 0 success; 1 runtime failure (start-up failed, grace period expired, second signal, fatal error);
 * 2 bad usage or bad configuration (the message names the key).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { createApp, type App } from './app.js';
import type { CliIo } from './cli/io.js';
import { runExplain } from './cli/explain.js';
import { runReplicaCheck } from './cli/replica-check.js';
import { runReplicaDemo } from './cli/replica-demo.js';
import { runReplicaInit } from './cli/replica-init.js';
import { loadConfig } from './config/load-config.js';
import type { Config } from './config/schema.js';
import { CallrouterError, ConfigError } from './errors.js';
import { missingNodeFlags } from './node-flags.js';
import { createLogger, flushLogger, type Logger } from './observability/logger.js';

// better-sqlite3 is built without URI filenames; the replica falls back to `file:…?immutable=1` when it sits in a
// read-only directory with no -wal (systemd ReadOnlyPaths). SQLite reads this once, at its first connection.
process.env['SQLITE_USE_URI'] ??= '1';

// `callrouter replica check | head`: a closed pipe is the reader's choice, not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const io: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Flags given on the command line, as dotted config keys (they win over env and file). */
function serveOverrides(opts: { replica?: string; listen?: string; metricsListen?: string }): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (opts.replica !== undefined) o['replica.path'] = opts.replica;
  if (opts.listen !== undefined) o['esl.listen'] = opts.listen;
  if (opts.metricsListen !== undefined) o['metrics.listen'] = opts.metricsListen;
  return o;
}

function configFile(flag: string | undefined): string | undefined {
  return flag ?? process.env['CALLROUTER_CONFIG'];
}

/** Loads the config or prints ONE message naming every bad key and exits 2 (before any socket opens). */
function loadOrExit(file: string | undefined, overrides: Record<string, unknown>): Config {
  try {
    return loadConfig({ file, env: process.env, overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`callrouter: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

/** The version in package.json (dist/main.js sits one level below it); 'unknown' when unreadable. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function serve(opts: { config?: string; replica?: string; listen?: string; metricsListen?: string }): Promise<void> {
  const file = configFile(opts.config);
  const overrides = serveOverrides(opts);
  const config = loadOrExit(file, overrides);
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty || process.env['LOG_PRETTY'] === '1' });

  let app: App;
  try {
    app = createApp(config, { logger, readFile: (p) => readFileSync(p), now: Date.now, version: packageVersion() });
    await app.start();
  } catch (err) {
    logger.fatal({ err, code: err instanceof CallrouterError ? err.code : undefined }, 'start-up failed');
    await flushLogger(logger);
    process.exit(1);
  }
  const missing = missingNodeFlags(process.execArgv);
  if (missing.length > 0) {
    logger.warn(
      { missing_node_flags: missing },
      'started without the node flags callrouter runs with: under load V8 runs a full collection every few seconds, delaying the calls that arrive meanwhile (README, Operations)',
    );
  }
  installSignals(app, logger, () => loadConfig({ file, env: process.env, overrides }));
}

/**
 * One owner for signals and fatal errors. SIGTERM/SIGINT: graceful close (exit 0 when every call drained,
 * 1 when the grace timer had to cut calls); a second one exits 1 at once. SIGHUP: reload config and reopen
 * the replica; a bad new config is logged and the old one stays.
 */
function installSignals(app: App, logger: Logger, reloadConfig: () => Config): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      app.destroy();
      void flushLogger(logger, 500).then(() => process.exit(1));
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining calls');
    void app.close().then(
      async ({ drained }) => {
        await flushLogger(logger);
        process.exit(drained ? 0 : 1);
      },
      async (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        await flushLogger(logger);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    if (stopping) return;
    let next: Config;
    try {
      next = reloadConfig();
    } catch (err) {
      logger.error({ err: err instanceof ConfigError ? { message: err.message } : err }, 'SIGHUP: new configuration rejected; keeping the old one');
      return;
    }
    app.reload(next);
  });
  const fatal = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, `${kind}: exiting`);
    app.destroy();
    void flushLogger(logger, 1000).then(() => process.exit(1));
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
}

async function run(code: Promise<number>): Promise<void> {
  process.exitCode = await code;
}

function program(): Command {
  const p = new Command('callrouter')
    .description('Outbound carrier routing for FreeSWITCH campaign dialers (outbound event socket)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  p.command('serve')
    .description('run the daemon: ESL listener, metrics/health HTTP, replica watch')
    .option('--config <file>', 'JSON config file (or CALLROUTER_CONFIG)')
    .option('--replica <path>', 'replica file (config replica.path)')
    .option('--listen <host:port>', 'ESL listener (config esl.listen)')
    .option('--metrics-listen <host:port>', 'metrics/health listener (config metrics.listen)')
    .action(serve);

  const replica = p.command('replica').description('create, fill and check replica files');
  replica
    .command('init')
    .description('create or migrate a replica file to the current schema (idempotent)')
    .requiredOption('--replica <path>', 'replica file')
    .action((o: { replica: string }) => run(runReplicaInit(o, io)));
  replica
    .command('demo')
    .description('write a realistic demo replica')
    .requiredOption('--replica <path>', 'replica file')
    .option('--if-absent', 'keep an existing file')
    .addOption(new Option('--leads <n>', 'number of leads').argParser((v) => Number.parseInt(v, 10)))
    .action((o: { replica: string; ifAbsent?: boolean; leads?: number }) => run(runReplicaDemo(o, io)));
  replica
    .command('check')
    .description('integrity report; exit 1 when there are errors')
    .requiredOption('--replica <path>', 'replica file')
    .option('--json', 'machine-readable report')
    .action((o: { replica: string; json?: boolean }) => run(runReplicaCheck({ replica: o.replica, json: o.json === true }, io)));

  p.command('explain')
    .description('the routing decision for one call, with every route considered')
    .requiredOption('--replica <path>', 'replica file')
    .requiredOption('--campaign <id>', 'campaign ID')
    .requiredOption('--lead <id>', 'lead ID')
    .option('--tenant <id>', 'tenant the call claims (g2d_tenant_id)')
    .option('--config <file>', 'config file (routing and identity settings)')
    .option('--json', 'print the decision object')
    .action((o: { replica: string; campaign: string; lead: string; tenant?: string; config?: string; json?: boolean }) => {
      const file = configFile(o.config);
      const config = file === undefined ? undefined : loadOrExit(file, {});
      return run(runExplain({ replica: o.replica, campaign: o.campaign, lead: o.lead, tenant: o.tenant, json: o.json === true, config }, io));
    });
  return p;
}

program()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    io.err(`callrouter: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
