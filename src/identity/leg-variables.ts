/**
 * Turn an identity plan (and a signed PASSporT in `passport` mode) into the channel variables of ONE carrier
 * leg, for that leg's `[...]` block in the bridge dial string.
 *
 * Seen on FreeSWITCH 1.11 (NOTES §8; transcripts 4c_02/4c_18/4c_25/4d_14): any `sip_h_Identity` puts TWO
 * `Identity:` lines on the INVITE; adding `exclude_outgoing_extra_header=^sip_h_Identity$` in the SAME leg
 * block gives exactly one. On the A-leg the exclude does nothing, so both go per leg, never as a `set`.
 * Values with `<`, `>`, `;`, `=`, `^`, `$` went through `[...]` unquoted (4c_25, 4d_14); commas, brackets,
 * braces and pipes would split the dial string, so they are refused, not quoted.
 */
import { isIdentityHeader } from './header-name.js';
import type { SignedPassport } from './passport.js';
import type { IdentityPlan } from './plan.js';

/** One `name=value` for a leg's `[...]` block. */
export type LegVariable = readonly [name: string, value: string];

export type LegVariablesResult =
  | { ok: true; variables: readonly LegVariable[] }
  | { ok: false; code: 'unsafe_dial_value' | 'identity_unavailable'; message: string; variable?: string };

/** The variable that keeps `sip_h_Identity` to one header on the wire (spelled as in transcripts 4c_18/4c_25/4d_14). */
export const IDENTITY_EXCLUDE: LegVariable = ['exclude_outgoing_extra_header', '^sip_h_Identity$'];

const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
/** Printable ASCII without the dial-string delimiters `,` `[` `]` `{` `}` `|`, quotes or backslash. */
const SAFE_VALUE = /^[!#-&(-+\--Z^-z~]+$/;

/**
 * True when `value` can sit inside a `[...]` or `{...}` variable block unquoted: non-empty printable ASCII,
 * none of `, [ ] { } | " ' \`, no whitespace or control bytes, no `^^` (FreeSWITCH's delimiter-change prefix),
 * and never `mod_event_socket` (an ESL frame containing it plus `unload`/`reload` is rewritten into an unload).
 */
export function isSafeLegValue(value: string): boolean {
  return (
    value.length > 0 &&
    value.length <= 2048 &&
    SAFE_VALUE.test(value) &&
    !value.includes('^^') &&
    !value.toLowerCase().includes('mod_event_socket')
  );
}

/**
 * The ordered variables for this leg: `header` mode → `sip_h_<header>=<level>` (plus the exclude when the header
 * is Identity); `passport` → `sip_h_Identity=<header value>` then the exclude; nothing for `none` or no level.
 * A `passport` plan without a PASSporT, or one whose `attest` differs from the plan, is `identity_unavailable`.
 * Never throws.
 */
export function identityLegVariables(plan: IdentityPlan, passport?: SignedPassport): LegVariablesResult {
  if (plan.header === null || plan.level === null || plan.mode === 'none') return { ok: true, variables: [] };

  const variables: LegVariable[] = [];
  if (plan.mode === 'passport') {
    if (passport === undefined) return { ok: false, code: 'identity_unavailable', message: 'passport mode without a signed PASSporT' };
    if (passport.claims.attest !== plan.level) {
      return { ok: false, code: 'identity_unavailable', message: 'PASSporT attest does not match the planned level' };
    }
    variables.push(['sip_h_Identity', passport.headerValue], IDENTITY_EXCLUDE);
  } else {
    const identity = isIdentityHeader(plan.header);
    variables.push([identity ? 'sip_h_Identity' : `sip_h_${plan.header}`, plan.level]);
    if (identity) variables.push(IDENTITY_EXCLUDE);
  }

  for (const [name, value] of variables) {
    if (!SAFE_NAME.test(name)) {
      return { ok: false, code: 'unsafe_dial_value', message: 'identity variable name is not a safe token', variable: name.slice(0, 64) };
    }
    if (!isSafeLegValue(value)) {
      return { ok: false, code: 'unsafe_dial_value', message: 'identity variable value has characters unsafe in a dial string', variable: name };
    }
  }
  return { ok: true, variables };
}
