/**
 * Malformed and unexpected FreeSWITCH → daemon frames, generated from a seeded PRNG, and the ways of cutting
 * them into TCP chunks (coalesced, one per segment, byte by byte, split at random points). Each kind is one
 * thing a broken or hostile peer can send; some are fatal to the session (a framing or protocol error), some
 * are harmless noise the session must ignore (unknown events, log data, blank lines). No tap imports.
 */
import type { Rng } from './prng.js';
import { jsonEventFrame, replyFrame } from './scripted-peer.js';

export const FUZZ_KINDS = [
  'length_negative', 'length_not_a_number', 'length_huge', 'length_over_max', 'length_short', 'length_long',
  'no_blank_line', 'cr_only_lines', 'binary', 'binary_lines', 'truncated_json', 'json_not_object',
  'json_no_event_name', 'json_deep', 'unknown_event', 'foreign_event', 'own_hangup_event', 'unknown_execute_complete',
  'stray_reply', 'linger_notice', 'disconnect_notice', 'unknown_content_type', 'no_content_type',
  'header_without_colon', 'api_response', 'rude_rejection', 'log_data', 'blank_lines', 'header_block_over_max',
  'plain_event_garbage', 'nul_in_headers', 'invalid_utf8_headers', 'coalesced_noise',
] as const;
export type FuzzKind = (typeof FUZZ_KINDS)[number];

/** Kinds the session must survive (the call goes on as if they were never sent). */
export const HARMLESS_KINDS: ReadonlySet<FuzzKind> = new Set<FuzzKind>([
  'unknown_event', 'foreign_event', 'unknown_execute_complete', 'log_data', 'blank_lines', 'coalesced_noise',
  'json_deep', 'plain_event_garbage',
]);

/**
 * Kinds that break the protocol wherever they land (a bad Content-Length, an undecodable event, an unknown or
 * missing Content-Type, a frame over the limit): the daemon must close the session itself.
 */
export const FATAL_KINDS: ReadonlySet<FuzzKind> = new Set<FuzzKind>([
  'length_negative', 'length_not_a_number', 'length_huge', 'length_over_max', 'length_short', 'truncated_json', 'json_not_object',
  'json_no_event_name', 'unknown_content_type', 'no_content_type', 'header_without_colon', 'api_response',
  'rude_rejection', 'header_block_over_max', 'nul_in_headers', 'invalid_utf8_headers',
]);

/**
 * Kinds that leave a partial frame behind (the blank line or part of the body never comes): with the peer
 * silent afterwards, only the daemon's stall timer can end the session.
 */
export const STALL_KINDS: ReadonlySet<FuzzKind> = new Set<FuzzKind>(['length_long', 'no_blank_line', 'cr_only_lines']);

export interface FuzzFrame {
  readonly kind: FuzzKind;
  readonly bytes: Buffer;
  /** How many frames these bytes hold (coalesced_noise packs many). */
  readonly frames: number;
}

export interface FuzzContext {
  /** The session's channel UUID (events "for this call" carry it). */
  readonly uuid: string;
  readonly maxFrameBytes: number;
}

export type Delivery = 'coalesced' | 'separate' | 'byte_by_byte' | 'random_split';

const EVENT_NAMES = ['CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_BRIDGE', 'CHANNEL_ANSWER', 'CUSTOM', 'HEARTBEAT', 'RE_SCHEDULE', 'BACKGROUND_JOB'];

const b = (text: string): Buffer => Buffer.from(text, 'utf8');

function randomText(rng: Rng, min: number, max: number): string {
  const n = rng.int(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x21, 0x7e));
  return s;
}

function eventBody(rng: Rng, uuid: string, name = rng.pick(EVENT_NAMES)): string {
  return JSON.stringify({ 'Event-Name': name, 'Unique-ID': uuid, 'Event-Sequence': String(rng.int(1, 1e6)), 'X-Fuzz': randomText(rng, 0, 40) });
}

/** One frame of `kind`. */
export function fuzzFrame(rng: Rng, kind: FuzzKind, ctx: FuzzContext): FuzzFrame {
  const one = (bytes: Buffer): FuzzFrame => ({ kind, bytes, frames: 1 });
  const body = eventBody(rng, ctx.uuid);
  switch (kind) {
    case 'length_negative':
      return one(b(`Content-Type: text/event-json\nContent-Length: -${rng.int(1, 1e6)}\n\n${body}`));
    case 'length_not_a_number':
      return one(b(`Content-Type: text/event-json\nContent-Length: ${rng.pick(['abc', '1e3', '0x10', '12abc', '+5', '', ' ', '1.5', 'NaN', 'Infinity'])}\n\n${body}`));
    case 'length_huge':
      return one(b(`Content-Type: text/event-json\nContent-Length: ${rng.pick(['99999999999', '4294967296', '9'.repeat(40), '18446744073709551616'])}\n\n${body}`));
    case 'length_over_max':
      return one(b(`Content-Type: text/event-json\nContent-Length: ${ctx.maxFrameBytes + rng.int(1, ctx.maxFrameBytes * 3)}\n\n${body}`));
    case 'length_short':
      return one(b(`Content-Type: text/event-json\nContent-Length: ${rng.int(0, Math.max(0, Buffer.byteLength(body) - 1))}\n\n${body}`));
    case 'length_long':
      return one(b(`Content-Type: text/event-json\nContent-Length: ${Buffer.byteLength(body) + rng.int(1, 2000)}\n\n${body}`));
    case 'no_blank_line':
      return one(b(`Content-Type: command/reply\nReply-Text: +OK${rng.chance(0.5) ? '\n' : ''}`));
    case 'cr_only_lines':
      return one(b('Content-Type: command/reply\rReply-Text: +OK\r\r'));
    case 'binary':
      return one(rng.bytes(rng.int(1, 512)));
    case 'binary_lines': {
      const parts: Buffer[] = [];
      for (let i = rng.int(1, 6); i > 0; i--) parts.push(rng.bytes(rng.int(0, 80)), b(rng.chance(0.3) ? '\n\n' : '\n'));
      return one(Buffer.concat(parts));
    }
    case 'truncated_json': {
      const cut = body.slice(0, rng.int(1, body.length - 1));
      return one(b(`Content-Length: ${Buffer.byteLength(cut)}\nContent-Type: text/event-json\n\n${cut}`));
    }
    case 'json_not_object': {
      const text = rng.pick(['[]', '42', 'null', '"CHANNEL_HANGUP"', 'true', '[{"Event-Name":"CHANNEL_HANGUP"}]', '']);
      return one(b(`Content-Length: ${Buffer.byteLength(text)}\nContent-Type: text/event-json\n\n${text}`));
    }
    case 'json_no_event_name': {
      const text = JSON.stringify({ 'Unique-ID': ctx.uuid, 'Event-Name': rng.pick([null, '', { a: 1 }, ['CHANNEL_HANGUP']]) });
      return one(b(`Content-Length: ${Buffer.byteLength(text)}\nContent-Type: text/event-json\n\n${text}`));
    }
    case 'json_deep': {
      const depth = rng.int(1000, 20000);
      const text = `{"Event-Name":"CUSTOM","Unique-ID":"${ctx.uuid}","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      return one(b(`Content-Length: ${Buffer.byteLength(text)}\nContent-Type: text/event-json\n\n${text}`));
    }
    case 'unknown_event':
      return one(b(jsonEventFrame({ 'Event-Name': `X_${randomText(rng, 1, 20).replace(/[^A-Z0-9_]/gi, '_')}`, 'Unique-ID': ctx.uuid })));
    case 'foreign_event':
      return one(b(jsonEventFrame({ 'Event-Name': rng.pick(EVENT_NAMES), 'Unique-ID': `other-${rng.int(1, 1e9)}`, 'Hangup-Cause': 'NORMAL_CLEARING' })));
    case 'own_hangup_event':
      return one(b(jsonEventFrame({ 'Event-Name': rng.pick(['CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE']), 'Unique-ID': ctx.uuid, 'Hangup-Cause': 'NORMAL_CLEARING' })));
    case 'unknown_execute_complete':
      return one(b(jsonEventFrame({ 'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': ctx.uuid, 'Application-UUID': `fuzz-${rng.int(1, 1e9)}`, variable_originate_disposition: 'SUCCESS' })));
    case 'stray_reply':
      return one(b(replyFrame(rng.pick(['+OK', '-ERR invalid', '+OK bye', `+OK ${randomText(rng, 0, 30)}`]))));
    case 'linger_notice':
      return one(b(`Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${ctx.uuid}\nContent-Disposition: linger\nLinger-Time: ${rng.pick(['1', '-1', 'x', '99999999'])}\nContent-Length: 0\n\n`));
    case 'disconnect_notice': {
      const text = 'Disconnected, goodbye.\n';
      return one(b(`Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${ctx.uuid}\nContent-Disposition: disconnect\nContent-Length: ${text.length}\n\n${text}`));
    }
    case 'unknown_content_type':
      return one(b(`Content-Type: ${rng.pick(['text/x-weird', 'command/reply2', 'TEXT/EVENT-JSON', 'application/json'])}\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`));
    case 'no_content_type':
      return one(b(`${randomText(rng, 1, 10).replace(/:/g, '')}: ${randomText(rng, 0, 20)}\n\n`));
    case 'header_without_colon':
      return one(b(`Content-Type command/reply\nReply-Text +OK\n\n`));
    case 'api_response':
      return one(b('Content-Type: api/response\nContent-Length: 3\n\n+OK'));
    case 'rude_rejection': {
      const text = 'Access Denied, go away.\n';
      return one(b(`Content-Type: text/rude-rejection\nContent-Length: ${text.length}\n\n${text}`));
    }
    case 'log_data': {
      const text = `2025-01-01 [DEBUG] ${randomText(rng, 0, 200)}\n`;
      return one(b(`Content-Type: log/data\nContent-Length: ${Buffer.byteLength(text)}\nLog-Level: 7\n\n${text}`));
    }
    case 'blank_lines':
      return one(b(rng.pick(['\n', '\n\n', '\r\n\r\n', '\n\r\n\n\n'])));
    case 'header_block_over_max': {
      const line = `X-Pad: ${'p'.repeat(1000)}\n`;
      return one(b(`Content-Type: command/reply\n${line.repeat(Math.ceil(ctx.maxFrameBytes / line.length) + 1)}\n`));
    }
    case 'plain_event_garbage': {
      const text = `Event-Name: ${rng.pick(['CHANNEL_HANGUP', 'CUSTOM', '%ZZ', '%'])}\nUnique-ID: ${ctx.uuid}\nX: %E2%82%${rng.pick(['', 'G', 'AC%FF'])}\n\n`;
      return one(b(`Content-Length: ${Buffer.byteLength(text)}\nContent-Type: text/event-plain\n\n${text}`));
    }
    case 'nul_in_headers':
      return one(b('Content-Type: command/reply\u0000\nReply-Text: +OK\u0000\u0000\n\n'));
    case 'invalid_utf8_headers':
      return one(Buffer.concat([b('Content-Type: '), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), b('\nReply-Text: +OK\n\n')]));
    case 'coalesced_noise': {
      const n = rng.int(20, 200);
      const parts: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        parts.push(b(rng.chance(0.5)
          ? jsonEventFrame({ 'Event-Name': 'HEARTBEAT', 'Unique-ID': ctx.uuid, 'Event-Sequence': String(i) })
          : `Content-Type: log/data\nContent-Length: 2\n\nok`));
      }
      return { kind, bytes: Buffer.concat(parts), frames: n };
    }
  }
}

/** `count` frames of random kinds (weights favour the cheap ones; every kind appears over a long run). */
export function fuzzBatch(rng: Rng, count: number, ctx: FuzzContext, kinds: readonly FuzzKind[] = FUZZ_KINDS): FuzzFrame[] {
  const out: FuzzFrame[] = [];
  for (let i = 0; i < count; i++) out.push(fuzzFrame(rng, rng.pick(kinds), ctx));
  return out;
}

/** Cuts `frames` into the chunks to write for `delivery` (byte by byte only for small batches; else random). */
export function cutForDelivery(rng: Rng, frames: readonly FuzzFrame[], delivery: Delivery): { chunks: Buffer[]; spaced: boolean } {
  const all = Buffer.concat(frames.map((f) => f.bytes));
  if (delivery === 'coalesced') return { chunks: [all], spaced: false };
  if (delivery === 'separate') return { chunks: frames.map((f) => f.bytes), spaced: true };
  if (delivery === 'byte_by_byte' && all.length <= 2048) {
    return { chunks: Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1)), spaced: true };
  }
  // random_split, and byte_by_byte batches too long to send one byte per turn
  const cuts = new Set<number>();
  for (let i = rng.int(1, 10); i > 0; i--) cuts.add(rng.int(1, Math.max(1, all.length - 1)));
  const points = [0, ...[...cuts].sort((x, y) => x - y).filter((p) => p < all.length), all.length];
  const chunks: Buffer[] = [];
  for (let i = 1; i < points.length; i++) if (points[i]! > points[i - 1]!) chunks.push(all.subarray(points[i - 1], points[i]));
  return { chunks, spaced: true };
}
