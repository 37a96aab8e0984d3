/**
 * The one pino logger: JSON lines to stdout (journald), secrets redacted, per-call children with fixed keys.
 * Human-readable output uses pino-pretty — a dev dependency — loaded only when asked; when it is missing the
 * logger stays JSON and says so once.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  level: LogLevel;
  /** Pretty output via pino-pretty (dev only). */
  pretty?: boolean;
  /**
   * Loads pino-pretty's factory; tests replace it to simulate a missing package. Default: `require('pino-pretty')`
   * resolved from this module. Must throw when the package is absent.
   */
  loadPretty?: () => (opts: Record<string, unknown>) => DestinationStream;
}

/**
 * Field names censored in every object logged: at its top level, one level down (`carrier.auth_password`, the
 * fields of a serialized `err`), and in `req.headers`. Not in child-logger bindings: callrouter binds only call IDs
 * (callLogger) and component names.
 */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'password', 'secret', 'token', 'authorization', 'cookie', 'private_key', 'privateKey', 'jwk', 'pem',
  'auth_username', 'auth_password', 'authUsername', 'authPassword', 'auth_user', 'auth_secret',
]);

export const REDACTED = '[REDACTED]';

/** Key names that hold secret material. Names ending in _file/_path/_url are where a secret lives, not the secret. */
const SECRET_KEY = /pass(wd|word)?$|secret|token|credential|private|^auth|_auth|auth$|pem$|jwk|key$/i;
const LOCATION_KEY = /(_file|_path|_url|_cron|_header|_mode)$/i;

/** True when a key's value must never be logged. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !LOCATION_KEY.test(key);
}

/**
 * A deep copy of `value` (typically the effective config) fit for the start log line: every value under a
 * secret-looking key is replaced by `[REDACTED]`; file paths such as `identity.signing.key_file` are kept.
 */
export function redactForLog(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactForLog);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : redactForLog(v);
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `o` with `censor(key, value)` applied to its own keys: `o` itself when nothing changed (no copy per line). */
function mapFields(o: Record<string, unknown>, censor: (key: string, value: unknown) => unknown): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const value = o[key];
    const next = censor(key, value);
    if (next === value) continue;
    out ??= { ...o };
    out[key] = next;
  }
  return out ?? o;
}

const censorNested = (key: string, value: unknown): unknown => (SECRET_FIELDS.has(key) ? REDACTED : value);
const censorHeaders = (key: string, value: unknown): unknown =>
  key === 'headers' && isObject(value) ? mapFields(value, censorNested) : censorNested(key, value);
const censorTop = (key: string, value: unknown): unknown => {
  if (SECRET_FIELDS.has(key)) return REDACTED;
  // `err` is censored after pino's serializer has turned the Error into fields (see createLogger).
  if (key === 'err' || !isObject(value)) return value;
  return mapFields(value, key === 'req' ? censorHeaders : censorNested);
};

/** pino's Error serializer, then the serialized fields censored. */
function serializeError(err: Error): unknown {
  const out: unknown = pino.stdSerializers.err(err);
  return isObject(out) ? censorSecrets(out) : out;
}

/**
 * The logged object with every {@link SECRET_FIELDS} value replaced by `[REDACTED]` (see there for where), the
 * object itself when it holds none. Why not pino's `redact` option: its path-based redactor re-parses every path
 * for every value of every line and clones the per-call summary: 136 KB allocated per call at info level
 * (README "Performance").
 */
export function censorSecrets(o: Record<string, unknown>): Record<string, unknown> {
  return mapFields(o, censorTop);
}

function defaultLoadPretty(): (opts: Record<string, unknown>) => DestinationStream {
  const mod = createRequire(import.meta.url)('pino-pretty') as { default?: unknown };
  return (typeof mod === 'function' ? mod : mod.default) as (opts: Record<string, unknown>) => DestinationStream;
}

/**
 * Create the root logger. Writes to `destination`, else to stdout (asynchronous sonic-boom: call
 * `flushLogger` before exit). Pretty output runs pino-pretty in-process (not as a worker transport), so
 * there is no worker thread to drain at shutdown. Never throws for a missing pino-pretty.
 */
export function createLogger(opts: LoggerOptions, destination?: DestinationStream): Logger {
  const base = {
    level: opts.level,
    base: { service: 'callrouter' },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label: string) => ({ level: label }),
      log: censorSecrets,
    },
  };
  let prettyError: string | undefined;
  if (opts.pretty) {
    try {
      const pretty = (opts.loadPretty ?? defaultLoadPretty)();
      // colours only on stdout, where pino-pretty itself checks for a colour terminal
      const stream = destination === undefined ? pretty({ destination: 1, sync: true }) : pretty({ destination, sync: true, colorize: false });
      return pino(base, stream);
    } catch (err) {
      prettyError = (err as Error).message;
    }
  }
  const logger = pino(base, destination ?? pino.destination({ dest: 1, sync: false }));
  if (prettyError !== undefined) {
    logger.warn({ reason: prettyError.split('\n')[0] }, 'log.pretty is set but pino-pretty is not installed; logging JSON');
  }
  return logger;
}

/** The IDs a per-call logger carries. Values are the session's own parsed IDs, never raw header bags. */
export interface CallLogIds {
  callUuid?: string | undefined;
  campaignId?: string | undefined;
  leadId?: string | undefined;
  tenantId?: string | undefined;
}

const MAX_ID = 128;
const id = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, MAX_ID) : undefined);

/** A child logger bound to one call: `call_uuid`, `campaign_id`, `lead_id`, `tenant_id` (absent ones omitted). */
export function callLogger(parent: Logger, ids: CallLogIds): Logger {
  const b: Record<string, string> = {};
  const put = (k: string, v: unknown): void => {
    const s = id(v);
    if (s !== undefined) b[k] = s;
  };
  put('call_uuid', ids.callUuid);
  put('campaign_id', ids.campaignId);
  put('lead_id', ids.leadId);
  put('tenant_id', ids.tenantId);
  return parent.child(b);
}

/** Flush buffered log lines; resolves after the flush or after `timeoutMs` (default 2,000), never rejects. */
export function flushLogger(logger: Logger, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    try {
      logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
