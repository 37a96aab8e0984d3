import { existsSync } from 'node:fs';
import t from 'tap';
import { parseJsonEventBody } from '../../src/esl/channel-data.js';
import { scanFlatJsonObject } from '../../src/esl/json-event.js';
import { TRANSCRIPT_DIR, transcriptJsonEvents } from '../fake-freeswitch/transcript.js';

/** What the decoder must give: JSON.parse's reading (strings kept, numbers and booleans stringified). */
function reference(body: Buffer): Map<string, string> | undefined {
  let o: unknown;
  try {
    o = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') out.set(k, v);
    else if (typeof v === 'number' || typeof v === 'boolean') out.set(k, String(v));
  }
  return out.get('Event-Name') ? out : undefined;
}

/** Asserts the decoder agrees with the reference on `body`: decodable or not, every value, absent keys, iteration. */
function agrees(body: Buffer): string | null {
  const want = reference(body);
  const got = parseJsonEventBody(body);
  if (want === undefined || got === undefined) return want === got ? null : `decodable: want ${want !== undefined}, got ${got !== undefined}`;
  for (const [k, v] of want) {
    if (got.get(k) !== v) return `get(${JSON.stringify(k)}): want ${JSON.stringify(v)}, got ${JSON.stringify(got.get(k))}`;
    if (!got.has(k)) return `has(${JSON.stringify(k)})`;
  }
  for (const absent of ['Nope', 'Event-Nam', 'event-name', '', 'Ã', '__proto__x']) {
    if (!want.has(absent) && (got.get(absent) !== undefined || got.has(absent))) return `absent ${absent} found`;
  }
  if (got.size !== want.size) return `size: want ${want.size}, got ${got.size}`;
  if (JSON.stringify([...got]) !== JSON.stringify([...want])) return 'iteration differs';
  return null;
}

const EVENT = Buffer.from(JSON.stringify({
  'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': 'u-1', 'Answer-State': 'early', 'Application': 'bridge',
  'Application-UUID': 'a-1', 'variable_originate_disposition': 'USER_BUSY', 'variable_sip_invite_failure_status': '486',
  'variable_last_bridge_proto_specific_hangup_cause': 'sip:486', 'variable_effective_caller_id_name': 'Ünïcødé €',
  'variable_sip_h_X-Quote': 'say "hi"\\ / \t tab\nline\u0001 \ud83d\ude00',
}));

t.test('one row per shape: the fast path reads exactly what JSON.parse reads', async (t) => {
  const rows: Array<[string, string | Buffer, 'scanned' | 'fallback']> = [
    ['an event of FreeSWITCH shape', EVENT, 'scanned'],
    ['escapes in values: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u', '{"Event-Name":"E","v":"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"}', 'scanned'],
    ['a lone surrogate escape', '{"Event-Name":"E","v":"\\uD800"}', 'scanned'],
    ['JSON whitespace everywhere', ' \t\r\n{ "Event-Name" :\t"E" ,\n"v" : "x" }\r\n ', 'scanned'],
    ['an empty object (no Event-Name)', '{}', 'scanned'],
    ['no Event-Name', '{"x":"y"}', 'scanned'],
    ['an empty Event-Name', '{"Event-Name":""}', 'scanned'],
    ['a repeated key: the last value wins', '{"Event-Name":"A","k":"1","Event-Name":"B","k":"2"}', 'scanned'],
    ['__proto__ as a key', '{"Event-Name":"E","__proto__":"p"}', 'scanned'],
    ['integer-like keys (iteration order of JSON.parse)', '{"Event-Name":"E","2":"b","1":"a"}', 'scanned'],
    ['a non-ASCII key', '{"Event-Name":"E","Ã":"x","é":"y"}', 'scanned'],
    ['UTF-8 values', '{"Event-Name":"E","v":"café €𝄞"}', 'scanned'],
    ['an array of strings (ARRAY:: variables on the real switch): absent', '{"Event-Name":"E","a":["x", "y\\n"],"e":[ ],"b":"z"}', 'scanned'],
    ['a repeated key, string then array: absent', '{"Event-Name":"E","k":"1","k":["2"]}', 'scanned'],
    ['an array holding a number', '{"Event-Name":"E","a":["x",1]}', 'fallback'],
    ['a nested array', '{"Event-Name":"E","a":[["x"]]}', 'fallback'],
    ['an unclosed array', '{"Event-Name":"E","a":["x"}', 'fallback'],
    ['a number value', '{"Event-Name":"E","n":3}', 'fallback'],
    ['booleans and null', '{"Event-Name":"E","b":true,"z":null}', 'fallback'],
    ['a nested object and array', '{"Event-Name":"E","o":{"a":"b"},"l":["x"]}', 'fallback'],
    ['an escape in a key', '{"Event-Name":"E","k\\u0041":"x"}', 'fallback'],
    ['an array', '["Event-Name"]', 'fallback'],
    ['a string', '"Event-Name"', 'fallback'],
    ['not JSON', '{nope', 'fallback'],
    ['truncated', '{"Event-Name":"E","v":"x', 'fallback'],
    ['trailing garbage', '{"Event-Name":"E"}x', 'fallback'],
    ['two objects', '{"Event-Name":"E"}{"Event-Name":"F"}', 'fallback'],
    ['a trailing comma', '{"Event-Name":"E",}', 'fallback'],
    ['a missing colon', '{"Event-Name" "E"}', 'fallback'],
    ['a raw control character in a value', '{"Event-Name":"E","v":"a\u0001b"}', 'fallback'],
    ['a raw newline in a value', '{"Event-Name":"E","v":"a\nb"}', 'fallback'],
    ['an invalid escape', '{"Event-Name":"E","v":"\\x41"}', 'fallback'],
    ['a short \\u escape', '{"Event-Name":"E","v":"\\u00"}', 'fallback'],
    ['a non-hex \\u escape', '{"Event-Name":"E","v":"\\u00g0"}', 'fallback'],
    ['a vertical tab as whitespace (not JSON)', '\u000b{"Event-Name":"E"}', 'fallback'],
    ['a byte-order mark', '\ufeff{"Event-Name":"E"}', 'fallback'],
    ['empty', '', 'fallback'],
  ];
  for (const [name, input, path] of rows) {
    const body = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    t.equal(scanFlatJsonObject(body) === null ? 'fallback' : 'scanned', path, `${name}: path`);
    t.equal(agrees(body), null, name);
  }
  // Invalid UTF-8: both read the bytes through the same decoder (U+FFFD), inside a value and at its end.
  for (const bytes of [[0xc3], [0xe2, 0x82], [0xff, 0x41], [0xf0, 0x9f, 0x98]]) {
    const body = Buffer.concat([Buffer.from('{"Event-Name":"E","v":"a'), Buffer.from(bytes), Buffer.from('","w":"'), Buffer.from(bytes), Buffer.from('"}')]);
    t.not(scanFlatJsonObject(body), null, `invalid UTF-8 ${bytes} scanned`);
    t.equal(agrees(body), null, `invalid UTF-8 ${bytes}`);
  }
});

t.test('mutated events (seeded): decodable exactly when JSON.parse reads one, with the same values', async (t) => {
  // Bytes that matter to the grammar, plus plain and high ones.
  const alphabet = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x09, 0x0a, 0x0b, 0x00, 0x01, 0x75, 0x30, 0x41, 0x66, 0x2f, 0x6e, 0xc3, 0xff];
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let failures = 0;
  let scanned = 0;
  let decodable = 0;
  for (let i = 0; i < 3000; i++) {
    const body = Buffer.from(EVENT);
    const edits = 1 + rand(3);
    for (let e = 0; e < edits; e++) body[rand(body.length)] = alphabet[rand(alphabet.length)]!;
    if (scanFlatJsonObject(body) !== null) scanned++;
    if (reference(body) !== undefined) decodable++;
    const problem = agrees(body);
    if (problem !== null && failures++ < 5) t.fail(`mutation ${i}: ${problem}: ${body.toString('latin1').slice(0, 120)}`);
  }
  t.equal(failures, 0, 'every mutation agrees');
  // Both paths were exercised: some mutations stay valid and scanned, others must fall back.
  t.ok(scanned > 100 && scanned < 3000, `scanned ${scanned}`);
  t.ok(decodable > 100, `decodable ${decodable}`);
});

t.test('every JSON event of the real switch takes the fast path and reads as JSON.parse reads it', { skip: existsSync(TRANSCRIPT_DIR) ? false : 'no transcripts' }, async (t) => {
  const events = transcriptJsonEvents();
  for (const [i, { name, body }] of events.entries()) {
    t.not(scanFlatJsonObject(body), null, `${name}: event ${i + 1} scanned`);
    const problem = agrees(body);
    if (problem !== null) t.fail(`${name}: ${problem}`);
  }
  t.ok(events.length >= 20, `${events.length} events read`);
});
