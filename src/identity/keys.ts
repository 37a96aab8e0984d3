/**
 * PASSporT signing keys, loaded and checked once at start-up (and again on a config reload).
 * `identity.signing` is the global key; `identity.tenants[tenantId]` overrides it for one tenant.
 * Any problem — missing or unreadable file, not PEM, not an EC P-256 private key, an x5u that is not https or
 * would be unsafe in a dial string — throws IdentityKeyError naming the tenant (or "global") and the file, so
 * the daemon exits before it accepts a call. Key material never appears in a message or field.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { IdentityKeyError } from '../errors.js';
import { isSafeLegValue } from './leg-variables.js';

export interface SigningIdentity {
  key: KeyObject;
  x5u: string;
  /** `global`, or the tenant ID whose own key this is (for logs and explain). */
  owner: string;
}

export interface SigningKeys {
  /** The tenant's own key, else the global key, else undefined (then passport mode cannot sign for it). */
  keyFor(tenantId: string | null): SigningIdentity | undefined;
  readonly hasGlobal: boolean;
  /** Tenant IDs with their own key. */
  readonly tenantIds: readonly string[];
}

/** Synchronous file read, injected so tests need no real paths (main passes `fs.readFileSync`). */
export type ReadKeyFile = (path: string) => string | Buffer;

type IdentityConfig = Config['identity'];
type KeyEntry = { key_file: string; x5u: string };

/**
 * Load every configured key. Throws IdentityKeyError (code `identity_key_invalid`, fields `{tenant, file,
 * reason}`) on the first bad one, and when `default_mode` is `passport` but no key is configured at all.
 */
export function loadSigningKeys(identity: IdentityConfig, readFile: ReadKeyFile): SigningKeys {
  const global = identity.signing ? loadOne('global', identity.signing, readFile) : undefined;
  const tenants = new Map<string, SigningIdentity>();
  for (const [tenantId, entry] of Object.entries(identity.tenants)) {
    tenants.set(tenantId, loadOne(tenantId, entry, readFile));
  }
  if (identity.default_mode === 'passport' && global === undefined && tenants.size === 0) {
    throw new IdentityKeyError(
      'identity.default_mode is passport but no signing key is configured (identity.signing or identity.tenants)',
      { tenant: 'global', file: null, reason: 'no_key_configured' },
    );
  }
  const tenantIds = Object.freeze([...tenants.keys()]);
  return Object.freeze({
    keyFor: (tenantId: string | null) => (tenantId !== null ? tenants.get(tenantId) : undefined) ?? global,
    hasGlobal: global !== undefined,
    tenantIds,
  });
}

function loadOne(owner: string, entry: KeyEntry, readFile: ReadKeyFile): SigningIdentity {
  const fail = (reason: string, detail: string, cause?: unknown): never => {
    throw new IdentityKeyError(
      `identity signing key for ${owner === 'global' ? 'global' : `tenant "${owner}"`} (${entry.key_file}): ${detail}`,
      { tenant: owner, file: entry.key_file, reason },
      cause === undefined ? undefined : { cause },
    );
  };

  const x5uProblem = checkX5u(entry.x5u);
  if (x5uProblem !== null) fail('x5u_invalid', x5uProblem);

  let pem: string | Buffer;
  try {
    pem = readFile(entry.key_file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    return fail('unreadable', `cannot read the key file${code ? ` (${code})` : ''}`, err);
  }

  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    // The crypto message can quote the input; keep only its code.
    const code = (err as { code?: string } | null)?.code;
    return fail('not_private_key', `not a PEM private key (or it is encrypted)${code ? ` (${code})` : ''}`);
  }
  if (key.asymmetricKeyType !== 'ec') fail('wrong_key_type', `key type is ${key.asymmetricKeyType ?? 'unknown'}, ES256 needs EC P-256`);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve !== 'prime256v1') fail('wrong_curve', `EC curve is ${curve ?? 'unknown'}, ES256 needs P-256 (prime256v1)`);

  return Object.freeze({ key, x5u: entry.x5u, owner });
}

/**
 * Null when `x5u` is usable: an absolute https URL that can sit unquoted in the dial string and inside the
 * Identity header's `info=<...>` (so no `<`, `>` or `^` either). Otherwise a short reason.
 */
export function checkX5u(x5u: string): string | null {
  let url: URL;
  try {
    url = new URL(x5u);
  } catch {
    return 'x5u is not an absolute URL';
  }
  if (url.protocol !== 'https:') return 'x5u must be an https URL';
  if (!isSafeLegValue(x5u) || /[<>^]/.test(x5u)) {
    return 'x5u has characters that are unsafe in a dial string (, [ ] { } | ^ < > quotes, backslash, spaces or control bytes)';
  }
  return null;
}
