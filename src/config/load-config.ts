/**
 * Builds the one effective configuration: schema defaults ← JSON file ← environment ← command line, validated
 * once against `ConfigSchema` and deep-frozen. Every problem is collected and reported together in one
 * `ConfigError`, each naming its dotted key (and the variable or flag it came from).
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type Config, ConfigSchema } from './schema.js';
import { coerceEnv, ENV_OVERRIDES } from './env.js';

/** Variables with the `CALLROUTER_` prefix that are not config keys but are read by `src/main.ts`. */
export const ENV_RESERVED: readonly string[] = ['CALLROUTER_CONFIG'];

export interface LoadConfigOptions {
  /** Path of the JSON config file; omit to run on defaults (plus env and overrides). */
  file?: string | undefined;
  /** The environment (main passes `process.env`); only `CALLROUTER_*` names are looked at. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Command-line values by dotted key (`{ 'replica.path': '/tmp/r.db' }`); they win over everything. */
  overrides?: Readonly<Record<string, unknown>>;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Load, merge, validate and freeze the configuration.
 * @throws ConfigError with `issues` (one string per problem, each starting with the dotted key, the variable
 *   name or the file) — e.g. `esl.max_sessions (from CALLROUTER_MAX_SESSIONS): Too small: expected number to be >=1`.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const issues: string[] = [];
  const sources = new Map<string, string>();
  const root: Json = opts.file === undefined ? {} : readConfigFile(opts.file);

  for (const [name, text] of Object.entries(opts.env ?? {})) {
    if (!name.startsWith('CALLROUTER_') || text === undefined) continue;
    const o = ENV_OVERRIDES[name];
    if (o === undefined) {
      if (!ENV_RESERVED.includes(name)) issues.push(`${name}: unknown environment variable (not a config override)`);
      continue;
    }
    const r = coerceEnv(text, o.kind);
    if (!r.ok) issues.push(`${name}: ${r.error}`);
    else if (setPath(root, o.key, r.value)) sources.set(o.key, name);
    else issues.push(`${name}: cannot set ${o.key}: a parent key in the file is not an object`);
  }
  for (const [key, value] of Object.entries(opts.overrides ?? {})) {
    if (value === undefined) continue;
    if (setPath(root, key, value)) sources.set(key, 'command line');
    else issues.push(`${key} (from command line): a parent key is not an object`);
  }

  const parsed = ConfigSchema.safeParse(root);
  if (!parsed.success) issues.push(...formatIssues(parsed.error.issues, sources));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  return deepFreeze(parsed.data);
}

function readConfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([`${file}: cannot read the config file (${code})`], { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${file}: not valid JSON (${(err as Error).message})`], { cause: err });
  }
  if (!isObject(value)) throw new ConfigError([`${file}: the top level must be a JSON object`]);
  return value;
}

/** Set `a.b.c` in `root`, creating missing objects; false when a parent exists but is not an object. */
function setPath(root: Json, dotted: string, value: unknown): boolean {
  const parts = dotted.split('.');
  let cur = root;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === undefined) cur = cur[p] = {};
    else if (isObject(next)) cur = next;
    else return false;
  }
  cur[parts[parts.length - 1] as string] = value;
  return true;
}

function formatIssues(zodIssues: readonly z.core.$ZodIssue[], sources: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const i of zodIssues) {
    const path = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push(`${label(path ? `${path}.${k}` : k, sources)}: unknown key`);
    } else {
      out.push(`${label(path || '(root)', sources)}: ${i.message}`);
    }
  }
  return out;
}

/** `key`, or `key (from VAR)` when the key (or a parent of it, for unknown keys) came from env or flags. */
function label(key: string, sources: ReadonlyMap<string, string>): string {
  for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const src = sources.get(k);
    if (src !== undefined) return `${key} (from ${src})`;
  }
  return key;
}

/** Freeze every nested object and array so no component can change the shared config after start. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
