/**
 * Environment-variable overrides for the most commonly tuned keys. Each variable names exactly one config key
 * and a value kind; coercion is strict (`"12x"` is an error naming the variable, never silently a default).
 * The map is passed in by `src/main.ts` — nothing here reads `process.env`.
 */

/** How the text of an environment variable becomes a config value. */
export type EnvKind = 'string' | 'int' | 'bool' | 'list';

export interface EnvOverride {
  /** The dotted config key the variable sets. */
  readonly key: string;
  readonly kind: EnvKind;
}

/** Every supported variable → the key it overrides. README's configuration table is generated from this too. */
export const ENV_OVERRIDES: Readonly<Record<string, EnvOverride>> = {
  CALLROUTER_REPLICA_PATH: { key: 'replica.path', kind: 'string' },
  CALLROUTER_REPLICA_MAX_AGE_SECONDS: { key: 'replica.max_age_seconds', kind: 'int' },
  CALLROUTER_ESL_LISTEN: { key: 'esl.listen', kind: 'string' },
  CALLROUTER_ESL_ALLOW_FROM: { key: 'esl.allow_from', kind: 'list' },
  CALLROUTER_MAX_SESSIONS: { key: 'esl.max_sessions', kind: 'int' },
  CALLROUTER_METRICS_LISTEN: { key: 'metrics.listen', kind: 'string' },
  CALLROUTER_MAX_ATTEMPTS: { key: 'routing.max_attempts', kind: 'int' },
  CALLROUTER_IDENTITY_MODE: { key: 'identity.default_mode', kind: 'string' },
  CALLROUTER_LOG_LEVEL: { key: 'log.level', kind: 'string' },
  CALLROUTER_LOG_PRETTY: { key: 'log.pretty', kind: 'bool' },
  CALLROUTER_GRACE_SECONDS: { key: 'shutdown.grace_seconds', kind: 'int' },
};

/** The environment variable that overrides `key`, if any. */
export function envVarFor(key: string): string | undefined {
  for (const [name, o] of Object.entries(ENV_OVERRIDES)) if (o.key === key) return name;
  return undefined;
}

export type CoerceResult = { ok: true; value: unknown } | { ok: false; error: string };

const INT = /^[+-]?\d+$/;
const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/**
 * Turn one variable's text into a value of `kind`. Surrounding whitespace is ignored; an empty value is an
 * error (unset the variable to use the file/default instead). Lists are comma-separated, empty items dropped.
 */
export function coerceEnv(text: string, kind: EnvKind): CoerceResult {
  const t = text.trim();
  if (t === '') return { ok: false, error: 'is empty (unset it to use the configured value)' };
  switch (kind) {
    case 'string':
      return { ok: true, value: t };
    case 'int': {
      if (!INT.test(t)) return { ok: false, error: `must be an integer, got ${JSON.stringify(text)}` };
      const n = Number(t);
      if (!Number.isSafeInteger(n)) return { ok: false, error: `is out of range: ${JSON.stringify(text)}` };
      return { ok: true, value: n };
    }
    case 'bool': {
      const l = t.toLowerCase();
      if (TRUE.has(l)) return { ok: true, value: true };
      if (FALSE.has(l)) return { ok: true, value: false };
      return { ok: false, error: `must be true/false (or 1/0, yes/no, on/off), got ${JSON.stringify(text)}` };
    }
    case 'list':
      return { ok: true, value: t.split(',').map((s) => s.trim()).filter((s) => s !== '') };
  }
}
