import t from 'tap';
import { buildCommand, buildExecute, buildHangup } from '../../src/esl/command.js';

t.test('frames as FreeSWITCH expects them (transcript byte forms)', async (t) => {
  const text = (r: ReturnType<typeof buildCommand>) => (r.ok ? r.frame.toString() : `REFUSED ${r.reason}`);
  t.equal(text(buildCommand('connect')), 'connect\n\n');
  t.equal(text(buildCommand('linger', ['20'])), 'linger 20\n\n');
  t.equal(text(buildCommand('myevents', ['json'])), 'myevents json\n\n');
  t.equal(
    text(buildCommand('event', ['json', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE'])),
    'event json CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE\n\n',
  );
  t.equal(text(buildCommand('exit')), 'exit\n\n');
  t.equal(
    text(buildExecute('bridge', '{a=1}sofia/gateway/carrier_a/+15551234567', 'u-1')),
    'sendmsg\ncall-command: execute\nexecute-app-name: bridge\nexecute-app-arg: {a=1}sofia/gateway/carrier_a/+15551234567\nEvent-UUID: u-1\n\n',
  );
  t.equal(text(buildExecute('answer', undefined, 'u-2')), 'sendmsg\ncall-command: execute\nexecute-app-name: answer\nEvent-UUID: u-2\n\n');
  t.equal(text(buildHangup('NORMAL_CLEARING')), 'sendmsg\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n');
});

t.test('injection and unsafe frames are refused', async (t) => {
  const rows: Array<[string, ReturnType<typeof buildCommand>]> = [
    ['LF in app arg', buildExecute('set', 'a=1\n\napi status', 'u')],
    ['CR in app arg', buildExecute('set', 'a=1\rx', 'u')],
    ['NUL in app arg', buildExecute('set', 'a=1\0', 'u')],
    ['LF in event uuid', buildExecute('set', 'a=1', 'u\nx: y')],
    ['LF in command arg', buildCommand('linger', ['20\n\napi status'])],
    ['LF in hangup cause', buildHangup('NORMAL_CLEARING\n')],
    ['lowercase cause', buildHangup('normal clearing')],
    ['unload mod_event_socket in arg', buildExecute('set', 'x=unload mod_event_socket', 'u')],
    ['reload + MOD_EVENT_SOCKET split across headers', buildExecute('set', 'x=reload', 'mod_event_socket')],
    ['bad app name', buildExecute('set x', 'a=1', 'u')],
    ['api is not allowed', buildCommand('api' as never, ['status'])],
    ['empty arg', buildCommand('linger', [''])],
    ['bad header name', buildCommand('sendmsg', [], [['bad name', 'v']])],
    ['too long', buildExecute('set', `a=${'x'.repeat(40000)}`, 'u')],
  ];
  for (const [name, result] of rows) {
    t.equal(result.ok, false, name);
    if (!result.ok) t.equal(result.code, 'unsafe_command', name);
  }
  t.equal(buildExecute('set', 'x=unload_me', 'u').ok, true, 'unload alone is fine');
});
