/**
 * The `bridge` application argument for ONE attempt on ONE carrier. Pure.
 *
 * One carrier per bridge (never a `|` list): the daemon decides failover after each bridge's
 * CHANNEL_EXECUTE_COMPLETE, so every attempt's carrier, SIP status and cause are known, and a callee's 486 can
 * never ring a second carrier (NOTES §9: inside a `|` list it would).
 *
 * Shape (NOTES §6–§8):
 *
 *     {originate_timeout=<ring>}[<identity vars>,leg_progress_timeout=<progress>,
 *       origination_caller_id_number=<cid>,origination_caller_id_name=<name>,sip_cid_type=<type>,<extra>]
 *       sofia/gateway/<gateway>/<number>
 *
 * - `originate_timeout` is read ONLY from the dial string's global `{}` block (a `set` does nothing), so the
 *   ring timeout goes there.
 * - Everything else is per leg in `[]`: `leg_progress_timeout` is a leg variable; `sip_h_Identity` needs
 *   `exclude_outgoing_extra_header` in the SAME block to reach the INVITE once; identity variables come first
 *   (as the identity module asks). `origination_caller_id_*` put the lead list's CLI in the From of the carrier
 *   INVITE (gateways run caller-id-in-from=true; `sip_from_user` does NOT change a gateway call's From).
 *
 * Defence in depth behind the routing validators: EVERY value is checked against a strict character set here.
 * A bad value is `unsafe_dial_value` — never escaped or quoted. The one exception is the caller ID *name*: it
 * comes from free-text replica columns (campaign / lead list names), so a name outside the strict set falls
 * back to the caller ID number and is flagged, instead of failing the call.
 */
import type { Config } from '../config/schema.js';
import { isSafeLegValue, type LegVariable } from '../identity/leg-variables.js';
import { DIAL_NUMBER_RE, GATEWAY_NAME_RE } from '../routing/dial-values.js';

export type CallerIdNameSource = Config['bridge']['caller_id_name'];
export type SipCidType = Config['bridge']['sip_cid_type'];

export interface BridgeArgsInput {
  /** Gateway (carrier) name, number as dialed on it, caller ID as presented to it (candidate values). */
  gateway: string;
  number: string;
  callerId: string;
  /** Identity variables for this leg (identityForCandidate), in order. */
  identity: readonly LegVariable[];
  /** `routing.ring_timeout_seconds` / `routing.progress_timeout_seconds`. */
  ringTimeoutSeconds: number;
  progressTimeoutSeconds: number;
  sipCidType: SipCidType;
  /** `bridge.caller_id_name` and the stored names it may pick from (untrusted). */
  callerIdName: CallerIdNameSource;
  names: { campaign: string | null; leadList: string | null };
  /** `bridge.extra_leg_variables` (appended last; a name this module sets itself is dropped and reported). */
  extraLegVariables: Readonly<Record<string, string>>;
}

/** Why the display name is the number although config asked for a name. */
export type CallerIdNameFallback = 'name_missing' | 'name_unsafe';

export type BridgeArgsResult =
  | {
      ok: true;
      /** The complete `bridge` argument. */
      arg: string;
      /** `{}` and `[]` variables as sent, in order (for logs and tests). */
      globals: readonly LegVariable[];
      leg: readonly LegVariable[];
      endpoint: string;
      /** The display name sent, and why it is the number when a name was asked for (else null). */
      callerIdName: string;
      callerIdNameFallback: CallerIdNameFallback | null;
      /** Extra leg variables left out because this module sets them itself. */
      droppedExtras: readonly string[];
    }
  | { ok: false; code: 'unsafe_dial_value'; field: string; message: string };

/**
 * A caller ID display name: letters, digits, space and `._-`, 1–40 characters, no leading/trailing space.
 * mod_sofia cuts names at `/ : @`; dial-string delimiters (`, [ ] { } |`) and quotes would break the block.
 */
export const CALLER_ID_NAME_RE = /^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,38}[A-Za-z0-9._-])?$/;
const VAR_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
const EXTRA_NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;
const EXTRA_VALUE_RE = /^[A-Za-z0-9_.:+-]{0,256}$/;
const SIP_CID_TYPES: ReadonlySet<string> = new Set(['rpid', 'pid', 'none']);
/** An ESL frame mentioning this (plus unload/reload) is rewritten by FreeSWITCH into a module unload. */
const MOD_EVENT_SOCKET_RE = /mod_event_socket/i;

const OWN_LEG_NAMES: ReadonlySet<string> = new Set([
  'leg_progress_timeout', 'origination_caller_id_number', 'origination_caller_id_name', 'sip_cid_type',
  'originate_timeout', 'sip_h_identity', 'exclude_outgoing_extra_header',
]);

const unsafe = (field: string, message: string): BridgeArgsResult => ({ ok: false, code: 'unsafe_dial_value', field, message });

const isTimeout = (n: number, max: number): boolean => Number.isInteger(n) && n >= 1 && n <= max;

/** Builds the argument. Never throws. */
export function buildBridgeArgs(input: BridgeArgsInput): BridgeArgsResult {
  if (!GATEWAY_NAME_RE.test(input.gateway)) return unsafe('gateway', 'gateway name outside the strict set');
  if (!DIAL_NUMBER_RE.test(input.number)) return unsafe('number', 'dialed number outside the strict set');
  if (!DIAL_NUMBER_RE.test(input.callerId)) return unsafe('caller_id', 'caller ID outside the strict set');
  if (!isTimeout(input.ringTimeoutSeconds, 3600)) return unsafe('originate_timeout', 'ring timeout is not a positive integer');
  if (!isTimeout(input.progressTimeoutSeconds, 3600)) return unsafe('leg_progress_timeout', 'progress timeout is not a positive integer');
  if (!SIP_CID_TYPES.has(input.sipCidType)) return unsafe('sip_cid_type', 'sip_cid_type is not rpid, pid or none');

  for (const [name, value] of input.identity) {
    if (!VAR_NAME_RE.test(name)) return unsafe('identity', 'identity variable name outside the strict set');
    if (!isSafeLegValue(value)) return unsafe(name, 'identity variable value outside the strict set');
  }

  const { name, fallback } = displayName(input);

  const leg: LegVariable[] = [
    ...input.identity,
    ['leg_progress_timeout', String(input.progressTimeoutSeconds)],
    ['origination_caller_id_number', input.callerId],
    ['origination_caller_id_name', name],
    ['sip_cid_type', input.sipCidType],
  ];
  const droppedExtras: string[] = [];
  for (const [extraName, value] of Object.entries(input.extraLegVariables)) {
    if (!EXTRA_NAME_RE.test(extraName)) return unsafe('extra_leg_variables', 'extra leg variable name outside the strict set');
    if (!EXTRA_VALUE_RE.test(value)) return unsafe(extraName, 'extra leg variable value outside the strict set');
    if (OWN_LEG_NAMES.has(extraName.toLowerCase())) droppedExtras.push(extraName);
    else leg.push([extraName, value]);
  }
  const globals: LegVariable[] = [['originate_timeout', String(input.ringTimeoutSeconds)]];
  const endpoint = `sofia/gateway/${input.gateway}/${input.number}`;
  const block = (vars: readonly LegVariable[]): string => vars.map(([k, v]) => `${k}=${v}`).join(',');
  const arg = `{${block(globals)}}[${block(leg)}]${endpoint}`;
  if (MOD_EVENT_SOCKET_RE.test(arg)) return unsafe('bridge', 'argument mentions mod_event_socket');
  return { ok: true, arg, globals, leg, endpoint, callerIdName: name, callerIdNameFallback: fallback, droppedExtras };
}

function displayName(input: BridgeArgsInput): { name: string; fallback: CallerIdNameFallback | null } {
  if (input.callerIdName === 'number') return { name: input.callerId, fallback: null };
  const stored = input.callerIdName === 'campaign' ? input.names.campaign : input.names.leadList;
  if (stored === null || stored === '') return { name: input.callerId, fallback: 'name_missing' };
  if (!isUsableCallerIdName(stored)) return { name: input.callerId, fallback: 'name_unsafe' };
  return { name: stored, fallback: null };
}

/**
 * True when a stored campaign / lead list name can be sent as the caller ID display name (else the number is
 * shown and the call is flagged). `callrouter replica check` reports names failing this.
 */
export function isUsableCallerIdName(stored: string): boolean {
  return CALLER_ID_NAME_RE.test(stored) && !MOD_EVENT_SOCKET_RE.test(stored);
}
