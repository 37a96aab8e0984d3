/**
 * What the session reads from the connect reply: the campaign, lead and tenant channel variables (validated:
 * they become log fields and replica keys), and whether the socket app runs `async full`.
 */
import type { Config } from '../config/schema.js';
import { ownString } from '../esl/channel-data.js';
import type { CallInput } from '../routing/types.js';

const CHANNEL_VALUE_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;
/** A channel UUID the session may put in a command (`filter Unique-ID <uuid>`). */
export const CHANNEL_UUID_RE = /^[A-Za-z0-9-]{1,64}$/;

type ChannelInput = { ok: true; value: CallInput } | { ok: false; code: 'missing_channel_variable' | 'invalid_channel_variable' };

/** Reads campaign, lead and (optional) tenant from the channel variables named in config `esl.variables`. */
export function readChannelInput(
  variables: ReadonlyMap<string, string>,
  names: Config['esl']['variables'],
): ChannelInput {
  const campaignId = variables.get(names.campaign_id) ?? '';
  const leadId = variables.get(names.lead_id) ?? '';
  const tenant = variables.get(names.tenant_id) ?? '';
  if (campaignId === '' || leadId === '') return { ok: false, code: 'missing_channel_variable' };
  if (!CHANNEL_VALUE_RE.test(campaignId) || !CHANNEL_VALUE_RE.test(leadId)) return { ok: false, code: 'invalid_channel_variable' };
  if (tenant !== '' && !CHANNEL_VALUE_RE.test(tenant)) return { ok: false, code: 'invalid_channel_variable' };
  // Own copies: these outlive the connect reply they were sliced from (see ownString).
  return { ok: true, value: { campaignId: ownString(campaignId), leadId: ownString(leadId), claimedTenantId: tenant === '' ? undefined : ownString(tenant) } };
}

const MODE_VALUE_RE = /^[a-z-]{1,32}$/;

/**
 * Null when the connect reply says the socket app runs `async full` (FreeSWITCH sends `Socket-Mode: async|static`
 * and `Control: full|single-channel`, transcript 4a_handshake_json); otherwise both flags for the log, each only
 * when it looks like such a word.
 */
export function socketModeRefusal(headers: ReadonlyMap<string, string>): { socket_mode: string | null; control: string | null } | null {
  const socketMode = headers.get('Socket-Mode') ?? null;
  const control = headers.get('Control') ?? null;
  if (socketMode === 'async' && control === 'full') return null;
  const shown = (v: string | null): string | null => (v === null || MODE_VALUE_RE.test(v) ? v : '(malformed)');
  return { socket_mode: shown(socketMode), control: shown(control) };
}
