/**
 * Which `command/reply` answers which command. The connection pipelines commands and matches replies first-in
 * first-out; checking that each reply is one its command can receive turns a missing or extra reply (a broken
 * or hostile peer) into an immediate protocol error instead of a silent shift of every later reply onto the
 * wrong command. Texts as the real switch sends them (NOTES §4; mod_event_socket): only the stable start is
 * checked, so a version that adds detail after it still matches.
 */
import type { EslCommandName } from './command.js';

/** What a command's reply must look like (`connect` is answered by the channel dump, checked elsewhere). */
export type ReplyShape = { readonly exact: string } | { readonly prefix: string };

const SHAPES: Readonly<Record<Exclude<EslCommandName, 'connect'>, ReplyShape>> = {
  linger: { prefix: '+OK will linger' },
  nolinger: { prefix: '+OK will not linger' },
  myevents: { prefix: '+OK Events Enabled' },
  event: { prefix: '+OK event listener enabled' },
  nixevent: { prefix: '+OK events nixed' },
  noevents: { prefix: '+OK no longer listening for events' },
  filter: { prefix: '+OK filter added' },
  resume: { exact: '+OK' },
  exit: { prefix: '+OK bye' },
  sendmsg: { exact: '+OK' },
};

/** The reply shape of `command`. */
export function replyShapeOf(command: Exclude<EslCommandName, 'connect'>): ReplyShape {
  return SHAPES[command];
}

/**
 * True when `replyText` can answer a command of `shape`: its success text, or any `-ERR ...` (a refusal is the
 * command's own answer; the caller reports it as `command_failed`).
 */
export function replyAnswers(shape: ReplyShape, replyText: string): boolean {
  if (replyText.startsWith('-ERR')) return true;
  return 'exact' in shape ? replyText.trimEnd() === shape.exact : replyText.startsWith(shape.prefix);
}
