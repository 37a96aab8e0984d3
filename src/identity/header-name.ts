/**
 * Which SIP header names may carry the attestation level. The name becomes a channel variable
 * (`sip_h_<name>`) and then a header line on the carrier INVITE, so it comes from untrusted replica data
 * (`carriers.attestation_header`) or config and must be checked before it goes near a dial string.
 */

/** A SIP header token as FreeSWITCH passes it through `sip_h_*`: letter first, letters/digits/hyphens. */
const HEADER_TOKEN = /^[A-Za-z][A-Za-z0-9-]{1,63}$/;

/**
 * Headers mod_sofia builds itself (or that route, authenticate or describe the body). A second copy added as
 * an extra header breaks the INVITE or changes who is called/billed, so they are never an attestation header.
 * Single-letter compact forms (f, t, v, i, m ...) are excluded by the two-character minimum above.
 */
const RESERVED = new Set(
  [
    'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type',
    'Content-Encoding', 'Content-Disposition', 'Route', 'Record-Route', 'Authorization', 'Proxy-Authorization',
    'WWW-Authenticate', 'Proxy-Authenticate', 'Expires', 'Allow', 'Supported', 'Require', 'Proxy-Require',
    'Unsupported', 'Event', 'Allow-Events', 'Subscription-State', 'Refer-To', 'Referred-By', 'Replaces',
    'P-Asserted-Identity', 'P-Preferred-Identity', 'Remote-Party-ID', 'Privacy', 'Diversion', 'Session-Expires',
    'Min-SE', 'Accept', 'User-Agent', 'Identity-Info', 'RSeq', 'RAck', 'Path', 'Security-Client',
  ].map((h) => h.toLowerCase()),
);

/** Why a header name was refused (stable values, shown by `explain`). */
export type HeaderNameProblem = 'header_name_invalid' | 'header_name_reserved';

/**
 * The canonical spelling of a usable attestation header name, or the problem with it.
 * `Identity` in any case comes back as `Identity`: the exclude regex that keeps it to one header on the wire
 * (`^sip_h_Identity$`, NOTES §8) matches that spelling only.
 */
export function checkHeaderName(name: string): { ok: true; name: string } | { ok: false; problem: HeaderNameProblem } {
  if (!HEADER_TOKEN.test(name)) return { ok: false, problem: 'header_name_invalid' };
  const lower = name.toLowerCase();
  if (RESERVED.has(lower)) return { ok: false, problem: 'header_name_reserved' };
  if (lower === 'identity') return { ok: true, name: 'Identity' };
  return { ok: true, name };
}

/** True when the (already checked) header name is the RFC 8224 Identity header. */
export function isIdentityHeader(name: string): boolean {
  return name.toLowerCase() === 'identity';
}
