import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { assembleWat, MODULE_PATH, renderModule } from '../../scripts/assemble-wasm.js';
import { scanFlatJsonObject, scanFlatJsonObjectJs } from '../../src/esl/json-event.js';
import { eslScanner, headerLines, SIMD_HEADER_MAX_BYTES, SIMD_JSON_MAX_BYTES, simdHeaderBlock, simdJsonScan } from '../../src/esl/simd-scan.js';
import { readTranscript, TRANSCRIPT_DIR, transcriptJsonEvents } from '../fake-freeswitch/transcript.js';

/** null when the SIMD scanner gives exactly the JavaScript scanner's answer for `body`, else what differs. */
function differs(body: Buffer): string | null {
  const js = scanFlatJsonObjectJs(body);
  const simd = simdJsonScan(body);
  if (simd === undefined) return 'the SIMD scanner did not read it';
  if (js === null || simd === null) return js === simd ? null : `js ${js === null ? 'rejects' : 'accepts'}, simd ${simd === null ? 'rejects' : 'accepts'}`;
  return js.length === simd.length && js.every((v, i) => v === simd[i]) ? null : `offsets: js ${Array.from(js).join(',')} simd ${Array.from(simd).join(',')}`;
}

/** `text` at `offset` bytes into a larger buffer (as a frame's body sits in a read chunk). */
function placed(text: string | Buffer, offset: number): Buffer {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const chunk = Buffer.alloc(offset + bytes.length + 40, 0x22);
  bytes.copy(chunk, offset);
  return chunk.subarray(offset, offset + bytes.length);
}

let seed = 7;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed % n;
}

t.test('the module is what simd-scan.wat assembles to (npm run assemble:wasm)', async (t) => {
  t.equal(readFileSync(MODULE_PATH, 'utf8'), renderModule(await assembleWat()));
});

t.test('this V8 runs the SIMD scanner (else every test below would compare the JavaScript scanner with itself)', async (t) => {
  t.equal(eslScanner, 'simd');
});

t.test('one row per rule: the SIMD scanner answers as the JavaScript scanner does', async (t) => {
  const rows: Array<[string, string]> = [
    ['an event of FreeSWITCH shape', '{"Event-Name":"CHANNEL_BRIDGE","Unique-ID":"u-1","Answer-State":"answered"}'],
    ['a value longer than one 16-byte step', `{"k":"${'x'.repeat(100)}","l":"${'y'.repeat(33)}"}`],
    ['a key longer than one 16-byte step', `{"${'k'.repeat(40)}":"v"}`],
    ['every escape', '{"v":"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"}'],
    ['an escape after 20 plain bytes, then more', `{"v":"${'a'.repeat(20)}\\n${'b'.repeat(20)}"}`],
    ['escaped quotes only', '{"v":"\\"\\"\\""}'],
    ['whitespace everywhere', ' \t\r\n{ "a" :\t"b" ,\n"c" : [ "d" , "e" ] }\r\n '],
    ['empty object', '{}'],
    ['empty object with whitespace', '{ \n }'],
    ['empty key and value', '{"":""}'],
    ['arrays: empty, one, two, escapes', '{"a":[],"b":["x"],"c":["x","y\\n"],"d":[ ]}'],
    ['UTF-8 in keys and values', '{"é":"café €𝄞","Ã":"x"}'],
    ['repeated key', '{"k":"1","k":"2"}'],
    ['escape in a key', '{"k\\u0041":"x"}'],
    ['raw control byte in a value', '{"v":"a\u0001b"}'],
    ['raw control byte in a key', '{"k\u001f":"v"}'],
    ['raw NUL in a value', '{"v":"a\u0000b"}'],
    ['invalid escape', '{"v":"\\x41"}'],
    ['short \\u at the end', '{"v":"\\u00'],
    ['non-hex \\u', '{"v":"\\u00g0"}'],
    ['backslash as the last byte', '{"v":"\\'],
    ['unterminated string', '{"v":"abc'],
    ['unterminated key', '{"abc'],
    ['number value', '{"n":3}'],
    ['nested object', '{"o":{"a":"b"}}'],
    ['array holding a number', '{"a":["x",1]}'],
    ['nested array', '{"a":[["x"]]}'],
    ['unclosed array', '{"a":["x"}'],
    ['trailing comma', '{"a":"b",}'],
    ['trailing comma in an array', '{"a":["b",]}'],
    ['missing colon', '{"a" "b"}'],
    ['missing comma', '{"a":"b" "c":"d"}'],
    ['trailing garbage', '{"a":"b"}x'],
    ['two objects', '{}{}'],
    ['vertical tab as whitespace', '\u000b{}'],
    ['not an object', '["a"]'],
    ['a string', '"a"'],
    ['empty', ''],
    ['only whitespace', ' \n'],
    ['no closing brace', '{"a":"b"'],
    ['no closing brace after whitespace', '{"a":"b" '],
  ];
  for (const [name, text] of rows) {
    for (const offset of [0, 1, 3, 8, 13]) t.equal(differs(placed(text, offset)), null, `${name} (at offset ${offset})`);
  }
});

t.test('every length from 0 to 80 bytes around the 16-byte steps, cut anywhere (seeded)', async (t) => {
  let failures = 0;
  for (let len = 0; len <= 80; len++) {
    const value = 'v'.repeat(len);
    const whole = `{"key":"${value}","k2":["${value}"],"${value}":"\\n${value}"}`;
    for (const cut of [whole.length, whole.length - 1, whole.length - 2, rand(whole.length + 1)]) {
      const problem = differs(placed(whole.slice(0, cut), rand(16)));
      if (problem !== null && failures++ < 5) t.fail(`len ${len} cut ${cut}: ${problem}`);
    }
  }
  t.equal(failures, 0);
});

t.test('mutated events and token soups (seeded): the same answer for each', async (t) => {
  const alphabet = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x09, 0x0a, 0x0b, 0x00, 0x01, 0x1f, 0x75, 0x30, 0x41, 0x66, 0x2f, 0x6e, 0xc3, 0xff];
  const tokens = ['{', '}', '[', ']', '"', '\\', ':', ',', ' ', '\n', 'a', 'é', '\\u00e9', '\\"', '"k":"v"', ',"x":["a","b"]', '\u0001', 'u', '0'];
  const event = Buffer.from(JSON.stringify({
    'Event-Name': 'CHANNEL_EXECUTE_COMPLETE', 'Unique-ID': 'u-1', 'Application': 'bridge', 'v': 'say "hi"\\ / \t tab\nline',
    'variable_effective_caller_id_name': 'Ünïcødé €', 'multi': ['a', 'b'], 'long': 'x'.repeat(70),
  }));
  let failures = 0;
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let body: Buffer;
    if (i % 2 === 0) {
      body = Buffer.from(event);
      const edits = 1 + rand(3);
      for (let e = 0; e < edits; e++) body[rand(body.length)] = alphabet[rand(alphabet.length)]!;
    } else {
      let text = '';
      for (let k = rand(14); k > 0; k--) text += tokens[rand(tokens.length)];
      body = Buffer.from(text);
    }
    const problem = differs(placed(body, rand(16)));
    if (scanFlatJsonObjectJs(body) !== null) accepted++;
    if (problem !== null && failures++ < 5) t.fail(`input ${i}: ${problem}: ${JSON.stringify(body.toString('latin1'))}`);
  }
  t.equal(failures, 0, 'every input');
  t.ok(accepted > 1000 && accepted < 19_000, `both answers exercised (${accepted} accepted)`);
});

t.test('every JSON event of the real switch: the same offsets', { skip: existsSync(TRANSCRIPT_DIR) ? false : 'no transcripts' }, async (t) => {
  const events = transcriptJsonEvents();
  for (const [i, { name, body }] of events.entries()) {
    t.not(simdJsonScan(body), null, `${name}: event ${i + 1} accepted`);
    t.equal(differs(body), null, `${name}: event ${i + 1}`);
  }
  t.ok(events.length >= 20, `${events.length} events read`);
});

t.test('a shorter body after a longer one is read alone: nothing of the earlier text completes it', async (t) => {
  const long = `{"a":"${'b'.repeat(200)}"}`;
  t.not(simdJsonScan(Buffer.from(long)), null);
  // The same bytes cut inside the string: the earlier scan left the rest of it in the module's memory.
  t.equal(simdJsonScan(Buffer.from(long.slice(0, 100))), null);
  t.equal(simdJsonScan(Buffer.from(long.slice(0, long.length - 1))), null);
});

t.test('offsets returned stay as they were after later scans', async (t) => {
  const first = simdJsonScan(Buffer.from('{"a":"b","cc":"dd"}'))!;
  const copy = Array.from(first);
  for (let i = 0; i < 50; i++) simdJsonScan(Buffer.from(`{"${'x'.repeat(i)}":"${'y'.repeat(i)}","z":"w"}`));
  t.same(Array.from(first), copy);
});

t.test(`a body over ${SIMD_JSON_MAX_BYTES} bytes goes to the JavaScript scanner, with the same answer`, async (t) => {
  const big = Buffer.from(`{"Event-Name":"E","v":"${'x'.repeat(SIMD_JSON_MAX_BYTES)}"}`);
  t.equal(simdJsonScan(big), undefined);
  t.same(Array.from(scanFlatJsonObject(big)!), Array.from(scanFlatJsonObjectJs(big)!));
  const atCap = Buffer.from(`{"v":"${'x'.repeat(SIMD_JSON_MAX_BYTES - 8)}"}`);
  t.equal(atCap.length, SIMD_JSON_MAX_BYTES);
  t.equal(differs(atCap), null);
  // The most entries a body at the cap can hold fit the module's memory.
  const dense = Buffer.from(`{${Array.from({ length: Math.floor((SIMD_JSON_MAX_BYTES - 2) / 6) }, () => '"":""').join(',')}}`);
  t.ok(dense.length <= SIMD_JSON_MAX_BYTES);
  t.equal(differs(dense), null);
});

// The block scan's answers are held to the JavaScript parser's in test/esl/frame-parser.test.ts (a block whole in
// one chunk, read by this scan, against the same block fed byte by byte, which never is). Here: what it reads.

t.test('the header block scan reads the connect reply of the real switch: every line, from its first byte', { skip: existsSync(TRANSCRIPT_DIR) ? false : 'no transcripts' }, async (t) => {
  const first = readTranscript('4a_handshake_json.txt').find((c) => c.direction === 'FS->DAEMON')!;
  const text = first.bytes.toString('latin1');
  const blank = text.indexOf('\n\n');
  const lines = text.slice(0, blank).split('\n');
  t.ok(lines.length > 100, `${lines.length} lines`);
  const chunk = placed(first.bytes, 5);
  t.equal(simdHeaderBlock(chunk, 0, chunk.length), blank + 2);
  t.equal(headerLines.count, lines.length * 3);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const [start, colon, end] = [headerLines.offsets[i * 3], headerLines.offsets[i * 3 + 1], headerLines.offsets[i * 3 + 2]];
    t.equal(start, at, `line ${i} start`);
    t.equal(colon, at + lines[i]!.indexOf(':'), `line ${i} colon`);
    t.equal(end, at + lines[i]!.length, `line ${i} end`);
    at += lines[i]!.length + 1;
  }
  // From inside a chunk: the answer is an index of the chunk, the offsets are from the block's first byte.
  const two = Buffer.concat([Buffer.from('A: b\n\n'), first.bytes]);
  t.equal(simdHeaderBlock(two, 6, two.length), 6 + blank + 2);
  t.equal(headerLines.offsets[0], 0);
});

t.test('the header block scan declines what the JavaScript parser must read (one row per rule)', async (t) => {
  const rows: Array<[string, string, number | 'declines']> = [
    ['two lines', 'A: b\nC: d\n\nrest', 11],
    ['a value with colons', 'A: b:c\n\n', 8],
    ['an empty value', 'A:\n\n', 4],
    ['a DEL byte in a value', 'A: \u007f\n\n', 6],
    ['no blank line yet', 'A: b\nC: d\n', 'declines'],
    ['a CR', 'A: b\r\n\r\n', 'declines'],
    ['a tab in a value', 'A: b\tc\n\n', 'declines'],
    ['a NUL in a value', 'A: b\u0000c\n\n', 'declines'],
    ['a non-ASCII byte', 'A: é\n\n', 'declines'],
    ['a line without colon', 'A b\n\n', 'declines'],
    ['an empty name', ': b\n\n', 'declines'],
    ['a space before the colon', 'A : b\n\n', 'declines'],
    ['a space starting a name', ' A: b\n\n', 'declines'],
    ['a tab starting a name', '\tA: b\n\n', 'declines'],
  ];
  for (const [name, text, want] of rows) {
    const chunk = placed(text, 3);
    t.equal(simdHeaderBlock(chunk, 0, chunk.length), want === 'declines' ? -1 : want, name);
  }
  // Only the text up to `end` counts, and at most SIMD_HEADER_MAX_BYTES of it.
  t.equal(simdHeaderBlock(Buffer.from('A: b\n\n'), 0, 5), -1, 'the blank line past `end`');
  const long = Buffer.from(`A: ${'v'.repeat(SIMD_HEADER_MAX_BYTES)}\n\n`);
  t.equal(simdHeaderBlock(long, 0, long.length), -1, `a block over ${SIMD_HEADER_MAX_BYTES} bytes`);
});
