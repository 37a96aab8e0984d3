import t from 'tap';
import {
  decodeEslValue,
  encodeEslValue,
  parseChannelData,
  parseJsonEventBody,
  parsePlainEventBody,
} from '../../src/esl/channel-data.js';
import { FrameParser } from '../../src/esl/frame-parser.js';
import { hasTranscript, readTranscript } from '../fake-freeswitch/transcript.js';

t.test('decode / encode values (NOTES §2)', async (t) => {
  const rows: Array<[string, string]> = [
    ['%2BOK%0A', '+OK\n'],
    ['127.0.0.1%3A8084%20async%20full', '127.0.0.1:8084 async full'],
    ['_undef_', ''],
    ['a+b', 'a+b'],
    ['100%', '100%'],
    ['%zz', '%zz'],
    ['caf%C3%A9', 'café'],
    ['Sun,%2022%20Nov', 'Sun, 22 Nov'],
  ];
  for (const [raw, decoded] of rows) t.equal(decodeEslValue(raw), decoded, raw);
  t.equal(encodeEslValue('+OK\n'), '%2BOK%0A');
  t.equal(encodeEslValue(''), '_undef_');
  t.equal(encodeEslValue('a b=c,d/e'), 'a%20b%3Dc,d/e');
  t.equal(encodeEslValue('café'), 'caf%C3%A9');
  t.equal(encodeEslValue('50%AB'), '50%AB', 'quirk: %XX upper-case passes through');
  t.equal(encodeEslValue('50%ab'), '50%25ab');
  for (const s of ['x y', 'a&b|c', '{x=1}[y=2]', 'é€', '"q"', 'tab\there']) t.equal(decodeEslValue(encodeEslValue(s)), s);
});

t.test('connect reply of the real switch', { skip: hasTranscript('4a_handshake_json.txt') ? false : 'no transcript' }, async (t) => {
  const chunks = readTranscript('4a_handshake_json.txt').filter((c) => c.direction === 'FS->DAEMON');
  const parser = new FrameParser({ maxFrameBytes: 262144 });
  const frame = parser.push(chunks[0]!.bytes).frames[0]!;
  const channel = parseChannelData(frame.headers)!;
  t.equal(channel.uuid, '1bda41d2-b906-42b0-8e2b-c4b5f20e7948');
  t.equal(channel.variables.get('campaign_id'), '1');
  t.equal(channel.variables.get('lead_id'), '2');
  t.equal(channel.variables.get('current_application_data'), '127.0.0.1:8084 async full');
  t.equal(channel.headers.get('Reply-Text'), '+OK\n');
  t.equal(channel.headers.get('Socket-Mode'), 'async');
  t.equal(parseChannelData(new Map([['Content-Type', 'command/reply']])), undefined);
});

t.test('event bodies', async (t) => {
  const ev = parseJsonEventBody(Buffer.from('{"Event-Name":"CHANNEL_HANGUP","Hangup-Cause":"USER_BUSY","n":3,"o":{}}'))!;
  t.equal(ev.get('Hangup-Cause'), 'USER_BUSY');
  t.equal(ev.get('n'), '3');
  t.equal(ev.has('o'), false);
  t.equal(parseJsonEventBody(Buffer.from('[1]')), undefined);
  t.equal(parseJsonEventBody(Buffer.from('{"x":"y"}')), undefined);
  t.equal(parseJsonEventBody(Buffer.from('{nope')), undefined);
  const plain = parsePlainEventBody(Buffer.from('Event-Name: CHANNEL_EXECUTE_COMPLETE\nApplication-Data: campaign_flag%3Dabc\n'))!;
  t.equal(plain.get('Application-Data'), 'campaign_flag=abc');
});
