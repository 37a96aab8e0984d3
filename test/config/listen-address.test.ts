import t from 'tap';
import { formatListen, parseListen } from '../../src/config/listen-address.js';

const ok: [string, string, number][] = [
  ['127.0.0.1:9464', '127.0.0.1', 9464],
  ['[::1]:8084', '::1', 8084],
  ['localhost:0', 'localhost', 0],
  ['[::ffff:127.0.0.1]:65535', '::ffff:127.0.0.1', 65535],
];
for (const [s, host, port] of ok) {
  t.same(parseListen(s), { host, port }, s);
  t.equal(formatListen({ host, port }), s, `round trip ${s}`);
}
for (const bad of ['', 'nope', ':80', '::1:80', '1.2.3.4:65536', 'a b:1', '1.2.3.4:80x']) {
  t.throws(() => parseListen(bad), TypeError, JSON.stringify(bad));
}
