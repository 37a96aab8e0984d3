/**
 * Building daemon → FreeSWITCH frames safely. FreeSWITCH takes every value literally and ends a header line (or
 * the whole command) at the first CR/LF, so a CR, LF or NUL in any value would inject a second command; and a
 * header block mentioning both `unload`/`reload` and `mod_event_socket` is rewritten by FreeSWITCH into an unload
 * of the event socket module (NOTES §3). Such frames are REFUSED here — an error value, nothing to write — as
 * defence in depth behind the routing validators.
 */

/** A frame ready to write (its text), or why it was refused. */
export type BuiltFrame =
  | { readonly ok: true; readonly frame: string }
  | { readonly ok: false; readonly code: 'unsafe_command'; readonly reason: string };

/** Commands the daemon may send (first line). `api`/`bgapi` are deliberately absent. */
export const ALLOWED_COMMANDS = [
  'connect',
  'linger',
  'nolinger',
  'myevents',
  'event',
  'nixevent',
  'noevents',
  'filter',
  'resume',
  'exit',
  'sendmsg',
] as const;
export type EslCommandName = (typeof ALLOWED_COMMANDS)[number];

/** Largest frame we build; execute-app-arg values seen on the real switch are ~1 KiB. */
export const MAX_COMMAND_BYTES = 32 * 1024;

const ALLOWED = new Set<string>(ALLOWED_COMMANDS);
const HEADER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
// eslint-disable-next-line no-control-regex
const LINE_BREAK_OR_NUL_RE = /[\r\n\0]/;
const UNLOAD_RE = /unload|reload/i;
const APP_NAME_RE = /^[A-Za-z0-9_]+$/;
const MOD_EVENT_SOCKET_RE = /mod_event_socket/i;

function refuse(reason: string): BuiltFrame {
  return { ok: false, code: 'unsafe_command', reason };
}

/**
 * Builds `<name> <args...>\n<header>: <value>\n...\n\n`. Args are joined by single spaces; each must be
 * non-empty and free of whitespace-only tricks (CR/LF/NUL refused). Headers keep their order.
 */
export function buildCommand(
  name: EslCommandName,
  args: readonly string[] = [],
  headers: ReadonlyArray<readonly [string, string]> = [],
): BuiltFrame {
  if (!ALLOWED.has(name)) return refuse(`command not allowed: ${String(name).slice(0, 32)}`);
  for (const arg of args) {
    if (typeof arg !== 'string' || arg === '') return refuse('empty argument');
    if (LINE_BREAK_OR_NUL_RE.test(arg)) return refuse('CR, LF or NUL in an argument');
  }
  let text = args.length > 0 ? `${name} ${args.join(' ')}\n` : `${name}\n`;
  for (const [headerName, value] of headers) {
    if (!HEADER_NAME_RE.test(headerName)) return refuse('invalid header name');
    if (typeof value !== 'string') return refuse('header value is not a string');
    if (LINE_BREAK_OR_NUL_RE.test(value)) return refuse(`CR, LF or NUL in header ${headerName}`);
    text += `${headerName}: ${value}\n`;
  }
  return finishFrame(`${text}\n`);
}

/** The frame of a complete command text, unless it is one FreeSWITCH would turn into a module unload, or too big. */
function finishFrame(text: string): BuiltFrame {
  // The literal first: it rules out almost every frame in one pass, the alternation rarely runs.
  if (MOD_EVENT_SOCKET_RE.test(text) && UNLOAD_RE.test(text)) {
    return refuse('frame mentions unload/reload and mod_event_socket');
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_COMMAND_BYTES) return refuse(`frame over ${MAX_COMMAND_BYTES} bytes`);
  return { ok: true, frame: text };
}

/**
 * `sendmsg` executing dialplan app `app` with `arg`, tagged with `eventUuid` when given (FreeSWITCH echoes it as
 * `Application-UUID` on CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE). The argument rides in the
 * `execute-app-arg` header, as on the real switch (a 1 KiB bridge argument with an Identity header worked,
 * transcript 4d_14). No `event-lock`: on `bridge` it makes a later hangup wait (NOTES §4).
 */
export function buildExecute(app: string, arg: string | undefined, eventUuid: string | undefined): BuiltFrame {
  if (!APP_NAME_RE.test(app)) return refuse('invalid application name');
  // The same frame as buildCommand('sendmsg', [], headers) would build, without re-checking the fixed header
  // names on every call (one per bridge attempt).
  let text = `sendmsg\ncall-command: execute\nexecute-app-name: ${app}\n`;
  if (arg !== undefined && arg !== '') {
    if (typeof arg !== 'string') return refuse('header value is not a string');
    if (LINE_BREAK_OR_NUL_RE.test(arg)) return refuse('CR, LF or NUL in header execute-app-arg');
    text += `execute-app-arg: ${arg}\n`;
  }
  // Without one, the switch makes up the Application-UUID itself.
  if (eventUuid === undefined) return finishFrame(`${text}\n`);
  if (typeof eventUuid !== 'string') return refuse('header value is not a string');
  if (LINE_BREAK_OR_NUL_RE.test(eventUuid)) return refuse('CR, LF or NUL in header Event-UUID');
  return finishFrame(`${text}Event-UUID: ${eventUuid}\n\n`);
}

/** `sendmsg` hanging the channel up with `cause` (a cause name such as `NORMAL_CLEARING`). */
export function buildHangup(cause: string): BuiltFrame {
  if (!/^[A-Z0-9_]+$/.test(cause)) return refuse('invalid hangup cause');
  return buildCommand('sendmsg', [], [
    ['call-command', 'hangup'],
    ['hangup-cause', cause],
  ]);
}
