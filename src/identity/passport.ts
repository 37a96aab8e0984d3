/**
 * SHAKEN PASSporT signing (RFC 8225 + RFC 8588) and the RFC 8224 Identity header value.
 *
 * Token: `base64url(header).base64url(claims).base64url(signature)`, JSON with keys in lexicographic order and
 * no whitespace (RFC 8225 §9 canonical form), base64url without padding, ES256 signature as the 64-byte raw
 * R‖S (JWS, RFC 7518 §3.4 — not DER). Header value (RFC 8224 §4.1, `ident-info-uri = LAQUOT absoluteURI
 * RAQUOT`): `<token>;info=<x5u>;alg=ES256;ppt=shaken` — exactly the form seen accepted in transcript 4c_25.
 */
import { sign, type KeyObject } from 'node:crypto';
import type { AttestationLevel } from './plan.js';

export interface PassportHeader {
  alg: 'ES256';
  ppt: 'shaken';
  typ: 'passport';
  x5u: string;
}

export interface PassportClaims {
  attest: AttestationLevel;
  dest: { tn: string[] };
  /** Seconds since the epoch (NumericDate). */
  iat: number;
  orig: { tn: string };
  origid: string;
}

export interface SignedPassport {
  /** The compact JWS. */
  token: string;
  /** The full SIP Identity header value (token plus info/alg/ppt parameters). */
  headerValue: string;
  header: PassportHeader;
  claims: PassportClaims;
}

export interface SignPassportInput {
  level: AttestationLevel;
  /** Caller ID, E.164 digits without `+`. */
  origTn: string;
  /** Dialed destination, E.164 digits without `+` (not the carrier-formatted number). */
  destTn: string;
  /** Seconds since the epoch, from the injected clock. */
  iat: number;
  /** A UUID per call (RFC 8588 §4 origid). */
  origid: string;
  /** P-256 private key (keys.ts validated it at start-up). */
  key: KeyObject;
  /** HTTPS URL of the certificate (keys.ts validated it for the dial string). */
  x5u: string;
}

const TN = /^[1-9]\d{1,14}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Sign one SHAKEN PASSporT. Throws `TypeError` on inputs the caller should already have validated (a bug, not
 * a call-path condition); the per-call wrapper (candidate-identity.ts) turns any throw into `identity_unavailable`.
 */
export function signPassport(input: SignPassportInput): SignedPassport {
  if (!TN.test(input.origTn)) throw new TypeError('origTn must be E.164 digits');
  if (!TN.test(input.destTn)) throw new TypeError('destTn must be E.164 digits');
  if (!Number.isSafeInteger(input.iat) || input.iat < 0) throw new TypeError('iat must be whole seconds');
  if (!UUID.test(input.origid)) throw new TypeError('origid must be a UUID');
  if (input.level !== 'A' && input.level !== 'B' && input.level !== 'C') throw new TypeError('level must be A, B or C');

  const header: PassportHeader = { alg: 'ES256', ppt: 'shaken', typ: 'passport', x5u: input.x5u };
  const claims: PassportClaims = {
    attest: input.level,
    dest: { tn: [input.destTn] },
    iat: input.iat,
    orig: { tn: input.origTn },
    origid: input.origid,
  };
  const signingInput = `${b64url(canonicalJson(header))}.${b64url(canonicalJson(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), { key: input.key, dsaEncoding: 'ieee-p1363' });
  const token = `${signingInput}.${signature.toString('base64url')}`;
  return { token, headerValue: `${token};info=<${input.x5u}>;alg=ES256;ppt=shaken`, header, claims };
}

/**
 * Decode (NOT verify) a PASSporT for display. Accepts a bare token or a full Identity header value.
 * Returns null when it is not three base64url parts with JSON objects in the first two.
 */
export function decodePassport(tokenOrHeaderValue: string): { header: Record<string, unknown>; claims: Record<string, unknown> } | null {
  const token = tokenOrHeaderValue.split(';', 1)[0] ?? '';
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const header = decodeJsonPart(parts[0] ?? '');
  const claims = decodeJsonPart(parts[1] ?? '');
  return header && claims ? { header, claims } : null;
}

function decodeJsonPart(part: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** JSON with object keys sorted lexicographically (by UTF-16 code unit, as RFC 8225 §9 asks) and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
