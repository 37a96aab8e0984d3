import t from 'tap';
import { FrameParser, type EslFrame } from '../../src/esl/frame-parser.js';
import { hasTranscript, readTranscript } from '../fake-freeswitch/transcript.js';

const MAX = 262144;

function feed(chunks: Buffer[], max = MAX): { frames: EslFrame[]; error?: string } {
  const parser = new FrameParser({ maxFrameBytes: max });
  const frames: EslFrame[] = [];
  for (const c of chunks) {
    const r = parser.push(c);
    frames.push(...r.frames);
    if (!r.ok) return { frames, error: r.code };
  }
  return { frames };
}

/** What a frame reads as: its command, its headers iterated and each looked up by name, its body. */
function view(f: EslFrame): unknown[] {
  const entries = [...f.headers];
  return [f.command, entries, entries.map(([k]) => [f.headers.get(k), f.headers.has(k)]), f.headers.size, f.body?.toString('latin1')];
}

const reply = Buffer.from('Content-Type: command/reply\nReply-Text: +OK Events Enabled\n\n');
const json = '{"Event-Name":"CHANNEL_HANGUP","Hangup-Cause":"NORMAL_CLEARING"}';
const event = Buffer.from(`Content-Length: ${json.length}\nContent-Type: text/event-json\n\n${json}`);
const notice = Buffer.from(
  'Content-Type: text/disconnect-notice\nControlled-Session-UUID: u1\nContent-Disposition: disconnect\nContent-Length: 67\n\n' +
    'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n',
);

t.test('coalesced frames in one chunk', async (t) => {
  const { frames, error } = feed([Buffer.concat([reply, event, notice])]);
  t.equal(error, undefined);
  t.equal(frames.length, 3);
  t.equal(frames[0]!.headers.get('Reply-Text'), '+OK Events Enabled');
  t.equal(frames[0]!.body, undefined);
  t.equal(frames[1]!.body!.toString(), json);
  t.equal(frames[2]!.headers.get('Content-Disposition'), 'disconnect');
  t.equal(frames[2]!.body!.length, 67);
});

t.test('split at every byte offset gives the same frames', async (t) => {
  const all = Buffer.concat([reply, event, notice]);
  for (let i = 1; i < all.length; i++) {
    const { frames, error } = feed([all.subarray(0, i), all.subarray(i)]);
    if (error || frames.length !== 3 || frames[1]!.body!.toString() !== json) {
      t.fail(`split at ${i}`);
      return;
    }
  }
  const bytewise = feed(Array.from(all, (b) => Buffer.from([b])));
  t.equal(bytewise.frames.length, 3);
  t.equal(bytewise.frames[2]!.body!.toString().startsWith('Disconnected'), true);
});

t.test('CRLF line endings and stray blank lines are tolerated', async (t) => {
  const { frames, error } = feed([Buffer.from('\n\r\nContent-Type: command/reply\r\nReply-Text: +OK\r\n\r\n')]);
  t.equal(error, undefined);
  t.equal(frames.length, 1);
  t.equal(frames[0]!.headers.get('Reply-Text'), '+OK');
});

t.test('a value containing ": " is kept whole', async (t) => {
  const { frames } = feed([Buffer.from('Content-Type: command/reply\nReply-Text: -ERR a: b: c\n\n')]);
  t.equal(frames[0]!.headers.get('Reply-Text'), '-ERR a: b: c');
});

t.test('garbage and bounds are error values, never throws', async (t) => {
  const rows: Array<[string, Buffer[], number, string]> = [
    ['line without colon', [Buffer.from('hello world\n\n')], MAX, 'protocol_error'],
    ['negative Content-Length', [Buffer.from('Content-Length: -5\n\n')], MAX, 'protocol_error'],
    ['non-numeric Content-Length', [Buffer.from('Content-Length: 12abc\n\n')], MAX, 'protocol_error'],
    ['huge Content-Length', [Buffer.from('Content-Length: 99999999999999\n\n')], MAX, 'protocol_error'],
    ['body over max', [Buffer.from('Content-Length: 5000\n\n')], 4096, 'frame_too_large'],
    ['header block over max, no newline', [Buffer.alloc(5000, 0x41)], 4096, 'frame_too_large'],
    ['header block over max, many lines', [Buffer.from('A: b\n'.repeat(1000))], 4096, 'frame_too_large'],
  ];
  for (const [name, chunks, max, code] of rows) t.equal(feed(chunks, max).error, code, name);
  const p = new FrameParser({ maxFrameBytes: MAX });
  t.equal(p.push(Buffer.from('nonsense\n\n')).ok, false);
  t.equal(p.push(reply).ok, false, 'stays poisoned');
  const random = Buffer.alloc(4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 7919) % 256;
  t.doesNotThrow(() => feed([random]));
});

t.test('midFrame tracks a partial frame', async (t) => {
  const p = new FrameParser({ maxFrameBytes: MAX });
  t.equal(p.midFrame, false);
  p.push(event.subarray(0, 10));
  t.equal(p.midFrame, true);
  p.push(event.subarray(10, 60));
  t.equal(p.midFrame, true);
  p.push(event.subarray(60));
  t.equal(p.midFrame, false);
});

t.test('command-line mode (daemon -> FS direction)', async (t) => {
  const p = new FrameParser({ maxFrameBytes: MAX, commandLine: true });
  const r = p.push(Buffer.from('connect\n\nsendmsg\ncall-command: execute\nexecute-app-name: set\nexecute-app-arg: a=b: c\njunk line\n\nlinger 20\n\n'));
  t.equal(r.ok, true);
  t.same(r.frames.map((f) => f.command), ['connect', 'sendmsg', 'linger 20']);
  t.equal(r.frames[1]!.headers.get('execute-app-arg'), 'a=b: c');
});

const TRANSCRIPTS = ['4a_handshake_json.txt', '4d_03_503_then_a_two_executes.txt', '4b_linger_with_timeout_3s.txt'];
for (const name of TRANSCRIPTS) {
  t.test(`replays FS->DAEMON chunks of ${name}`, { skip: hasTranscript(name) ? false : 'transcript not present' }, async (t) => {
    const chunks = readTranscript(name);
    const fsChunks = chunks.filter((c) => c.direction === 'FS->DAEMON').map((c) => c.bytes);
    const asCaptured = feed(fsChunks);
    t.equal(asCaptured.error, undefined);
    const types = asCaptured.frames.map((f) => f.headers.get('Content-Type'));
    t.equal(types[0], 'command/reply', 'connect reply first');
    t.ok(asCaptured.frames[0]!.headers.size > 90, 'connect reply has the channel dump');
    t.equal(asCaptured.frames[0]!.headers.get('Content-Length'), undefined);
    t.equal(types.at(-1), 'text/disconnect-notice');
    for (const f of asCaptured.frames) {
      const cl = f.headers.get('Content-Length');
      if (cl !== undefined && cl !== '0') t.equal(f.body?.length, Number(cl));
    }
    const daemon = new FrameParser({ maxFrameBytes: MAX, commandLine: true });
    const cmds = chunks.filter((c) => c.direction === 'DAEMON->FS').flatMap((c) => daemon.push(c.bytes).frames);
    t.equal(cmds[0]!.command, 'connect');
    // Re-split the whole FS stream at odd boundaries: same frames.
    const all = Buffer.concat(fsChunks);
    const resplit: Buffer[] = [];
    for (let i = 0; i < all.length; i += 97) resplit.push(all.subarray(i, i + 97));
    t.equal(feed(resplit).frames.length, asCaptured.frames.length);
  });
}

t.test('a long header block (read on demand) answers exactly like a map of its lines', async (t) => {
  const rows: Array<[string, string[]]> = [
    ['plain names, a repeated one', [...Array.from({ length: 40 }, (_, i) => `H-${i}: v${i}`), 'H-3: last', 'Empty:', 'Spaced:  two']],
    ['a name with edge whitespace (trimmed, as in short blocks)', [...Array.from({ length: 40 }, (_, i) => `H-${i}: v${i}`), ' Padded : x']],
    ['30,000 lines: past the size the shared offset scratch keeps', Array.from({ length: 30_000 }, (_, i) => `H-${i}: v${i}`)],
    ['plain names again, after the scratch was dropped', [...Array.from({ length: 40 }, (_, i) => `H-${i}: v${i}`), 'H-3: last']],
  ];
  for (const [name, lines] of rows) {
    const p = new FrameParser({ maxFrameBytes: 1 << 20 });
    const r = p.push(Buffer.from(`${lines.join('\n')}\n\n`));
    const headers = r.ok ? r.frames[0]!.headers : new Map<string, string>();
    const want = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      const raw = line.slice(colon + 1);
      want.set(line.slice(0, colon).trim(), raw.startsWith(' ') ? raw.slice(1) : raw);
    }
    t.same([...headers], [...want], `${name}: same entries in the same order`);
    t.equal(headers.size, want.size, `${name}: size`);
    for (const k of ['H-3', 'H-39', 'Empty', 'Spaced', 'Padded', 'Missing', 'h-3']) {
      t.equal(headers.get(k), want.get(k), `${name}: get ${k}`);
      t.equal(headers.has(k), want.has(k), `${name}: has ${k}`);
    }
  }
});

t.test('a block read on demand keeps answering after other blocks were parsed (the offsets scratch is shared)', async (t) => {
  const block = (tag: string, n: number) => Buffer.from(`${Array.from({ length: n }, (_, i) => `H-${i}: ${tag}${i}`).join('\n')}\n\n`);
  const first = new FrameParser({ maxFrameBytes: 1 << 20 }).push(block('a', 40));
  const other = new FrameParser({ maxFrameBytes: 1 << 20 });
  other.push(block('longer-values-', 60));
  other.push(block('c', 5));
  const headers = first.ok ? first.frames[0]!.headers : new Map<string, string>();
  t.equal(headers.get('H-0'), 'a0');
  t.equal(headers.get('H-39'), 'a39');
  t.equal(headers.get('H-45'), undefined);
  t.equal(headers.size, 40);
});

t.test('a block whole in one chunk and the same block fed byte by byte give the same frames and errors', async (t) => {
  // One chunk takes the whole-block path; byte by byte takes the line-by-line one. Sizes around the bound
  // check that both draw it at the same byte.
  const block = (lines: number): string => `${Array.from({ length: lines }, (_, i) => `H-${i}: v`).join('\n')}\n\n`;
  const rows: Array<[string, string, number]> = [
    ['reply', 'Content-Type: command/reply\nReply-Text: +OK\n\n', MAX],
    ['event with body', event.toString(), MAX],
    ['CRLF block', 'Content-Type: command/reply\r\nReply-Text: +OK\r\n\r\n', MAX],
    ['stray blank lines first', '\n\n\r\nContent-Type: command/reply\nReply-Text: +OK\n\n', MAX],
    ['line without colon', 'Content-Type: command/reply\nnocolon\n\n', MAX],
    ['block one byte under the bound', block(10), Buffer.byteLength(block(10)) + 1],
    ['block exactly at the bound', block(10), Buffer.byteLength(block(10))],
    ['block one byte over the bound', block(10), Buffer.byteLength(block(10)) - 1],
    ['two frames', `${reply.toString()}${reply.toString()}`, MAX],
    // The shapes read straight from the chunk (REPLY_HEAD, EVENT_HEAD) and their near misses.
    ['reply with an empty text', 'Content-Type: command/reply\nReply-Text: \n\n', MAX],
    ['reply with a CR in its text', 'Content-Type: command/reply\nReply-Text: +OK\rx\n\n', MAX],
    ['reply text ending in CR', 'Content-Type: command/reply\nReply-Text: +OK\r\n\n', MAX],
    ['reply with UTF-8 and a colon', 'Content-Type: command/reply\nReply-Text: -ERR café: é\n\n', MAX],
    ['reply with another header after it', 'Content-Type: command/reply\nReply-Text: +OK\nJob-UUID: j1\n\n', MAX],
    ['reply exactly at the bound', 'Content-Type: command/reply\nReply-Text: +OK\n\n', 45],
    ['reply one byte over the bound', 'Content-Type: command/reply\nReply-Text: +OK\n\n', 44],
    ['event head with leading zeros', `Content-Length: 00${json.length}\nContent-Type: text/event-json\n\n${json}`, MAX],
    ['event head with length 0', 'Content-Length: 0\nContent-Type: text/event-json\n\n', MAX],
    ['event head with 11 digits', 'Content-Length: 00000000001\nContent-Type: text/event-json\n\nx', MAX],
    ['event body over the bound', `Content-Length: ${json.length}\nContent-Type: text/event-json\n\n${json}`, json.length - 1],
    ['event head, then a plain event', `Content-Length: 2\nContent-Type: text/event-plain\n\nab`, MAX],
    ['event head with a third header', `Content-Length: 2\nContent-Type: text/event-json\nX: y\n\n{}`, MAX],
    ['reply, event and reply in one chunk', `${reply.toString()}${event.toString()}${reply.toString()}`, MAX],
    // The SIMD block scan (simd-scan.wat, headerLines) reads or declines each of these; byte by byte never uses it.
    ['a connect-reply-sized block (read on demand)', `${Array.from({ length: 150 }, (_, i) => `Header-Name-${i}: value%20${'x'.repeat(i % 40)}`).join('\n')}\n\n`, MAX],
    ['values with colons, around the 16-byte steps', 'A: b:c:d\nBBBBBBBBBBBBBB: x\nCCCCCCCCCCCCCCC: :\nDDDDDDDDDDDDDDDD::\n\n', MAX],
    ['an empty value, with and without its space', 'A:\nB: \nC:  \n\n', MAX],
    ['a space before the colon', 'Name : v\nOther: w\n\n', MAX],
    ['a space before a colon in a block read on demand', `Name : v\n${Array.from({ length: 40 }, (_, i) => `H-${i}: v`).join('\n')}\n\n`, MAX],
    ['a space and a tab starting a name', ' Name: v\n\tOther: w\n\n', MAX],
    ['an empty name', ': v\n\n', MAX],
    ['a line without colon among others', 'A: b\nnocolon\nC: d\n\n', MAX],
    ['a colon only in the next line', 'A b\nC: d\n\n', MAX],
    ['a tab, a NUL and a DEL in values', 'A: b\tc\nB: x\u0000y\nC: \u007f\n\n', MAX],
    ['UTF-8 in a value and in a name', 'A: café\nNäme: v\n\n', MAX],
    ['a value ending in spaces', 'A: b  \nB: c\n\n', MAX],
    ['a block over the SIMD scan\'s 16 KB', `${Array.from({ length: 700 }, (_, i) => `H-${i}: ${'v'.repeat(20)}`).join('\n')}\n\n`, MAX],
    ['a block, then half of the next', `A: b\n\nContent-Type: command/reply\nReply-Te`, MAX],
    ['a block with Content-Length and its body', 'X: y\nContent-Length: 3\n\nabcA: b\n\n', MAX],
    ['a bad Content-Length', 'Content-Length: 3x\n\nabc', MAX],
  ];
  for (const [name, text, max] of rows) {
    const whole = feed([Buffer.from(text)], max);
    const bytewise = feed(Array.from(Buffer.from(text), (b) => Buffer.from([b])), max);
    t.equal(whole.error, bytewise.error, `${name}: same error`);
    t.same(whole.frames.map(view), bytewise.frames.map(view), `${name}: same frames`);
  }
});

t.test('mutated header blocks (seeded): whole and byte by byte give the same frames and errors', async (t) => {
  const base = Buffer.from(`${Array.from({ length: 30 }, (_, i) => `Header-${i}: value-${'v'.repeat(i % 19)}`).join('\n')}\nContent-Length: 2\n\nab`);
  const alphabet = [0x3a, 0x20, 0x09, 0x0d, 0x0a, 0x00, 0x7f, 0x80, 0xc3, 0xa9, 0x41];
  let seed = 11;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  let failures = 0;
  for (let i = 0; i < 2000; i++) {
    const text = Buffer.from(base);
    for (let e = 1 + rand(3); e > 0; e--) text[rand(text.length)] = alphabet[rand(alphabet.length)]!;
    const whole = feed([text]);
    const bytewise = feed(Array.from(text, (b) => Buffer.from([b])));
    const same = whole.error === bytewise.error && JSON.stringify(whole.frames.map(view)) === JSON.stringify(bytewise.frames.map(view));
    if (!same && failures++ < 5) t.fail(`mutation ${i}: ${JSON.stringify(text.toString('latin1'))}`);
  }
  t.equal(failures, 0);
});
