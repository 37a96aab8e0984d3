import t from 'tap';
import { compileRouteRegex, literalPrefix, literalPrefixes } from '../../src/routing/regex-safety.js';

t.test('compile: one row per outcome', async (t) => {
  const rows: [string | null, string][] = [
    ['^1415[0-9]{7}$', 'ok'], ['^(?:44|33)\\d+$', 'ok'], ['5550', 'ok'], ['^(?<cc>1)\\d{10}$', 'ok'],
    [null, 'regex_invalid'], ['', 'regex_invalid'], ['^(14', 'regex_invalid'], ['[', 'regex_invalid'], ['^1\n', 'regex_invalid'],
    ['^1\u00e9', 'regex_invalid'],
    ['^(1+)+$', 'regex_unsafe'], ['(\\d*)*', 'regex_unsafe'], ['^(1)\\1', 'regex_unsafe'], ['(?<n>1)\\k<n>', 'regex_unsafe'],
    ['(1|1|1|1)+2', 'regex_unsafe'], ['^(1|11)+$', 'regex_unsafe'], ['^(?:\\d|\\d\\d)*$', 'regex_unsafe'],
    ['^((1|2)3)+$', 'regex_unsafe'], ['^(1|2){15}$', 'regex_unsafe'], ['^(?:44|1)?\\d+$', 'ok'], ['^[1|2]+$', 'ok'],
    ['^1\\|+', 'ok'], ['^\\d*\\d*\\d*\\d*\\d*2$', 'regex_unsafe'], ['\\d*\\d*\\d*\\d*2', 'ok'],
    ['^1?1?1?1?1?1{5}$', 'regex_unsafe'], ['^\\+?1?\\d{10}$', 'ok'], ['^44\\d{9,10}$', 'ok'], ['^1\\d{10}$', 'ok'],
    ['^\\d{1,2}\\d{1,2}\\d{1,2}\\d{1,2}\\d{1,2}$', 'regex_unsafe'], ['^\\d{2}\\d{2}\\d{2}\\d{2}\\d{2}\\d{2}$', 'ok'],
    ['^1*?1*?1*?1*?2$', 'ok'],
    ['(?<=1)4', 'regex_unsafe'], ['(?<!1)4', 'regex_unsafe'], [`^${'1'.repeat(300)}`, 'regex_unsafe'],
  ];
  for (const [pattern, want] of rows) {
    const c = compileRouteRegex(pattern);
    t.equal(c.ok ? 'ok' : c.reason, want, JSON.stringify(pattern));
  }
});

t.test('literal prefix: digits every match must start with', async (t) => {
  const rows: [string, string][] = [
    ['^1415[0-9]{7}$', '1415'], ['^1415', '1415'], ['^14?15', '1'], ['^14*', '1'], ['^14+', '1'], ['^14{2}', '1'],
    ['^1\\d', '1'], ['^(1415)', ''], ['1415', ''], ['^44|^1415', ''], ['^44(1|2)', '44'], ['^44[|]', '44'],
    ['^44\\|1', '44'], ['^[1]', ''], ['^', ''],
  ];
  for (const [pattern, want] of rows) t.equal(literalPrefix(pattern), want, pattern);
});

t.test('literal prefix never excludes a number the regex matches', async (t) => {
  const patterns = ['^1415[0-9]{7}$', '^14?15', '^44(1|2)', '^44[|]', '^1\\d{3}', '^12*3', '^1(?:4|5)', '^33|^44'];
  const numbers = ['14155550123', '1155550123', '4415550123', '442071234567', '123', '1223', '13', '33123456789', '1415'];
  for (const p of patterns) {
    const re = new RegExp(p);
    const prefix = literalPrefix(p);
    for (const n of numbers) if (re.test(n)) t.ok(n.startsWith(prefix), `${p} matches ${n}, prefix ${prefix}`);
  }
});

t.test('literal prefixes: a leading group of digit alternatives files a regex under each', async (t) => {
  const rows: [string, string[]][] = [
    ['^1415[0-9]{7}$', ['1415']], ['^(?:33|49|176)[0-9]{8}$', ['33', '49', '176']], ['^(33|49)', ['33', '49']],
    ['^(?:1|15|2)\\d', ['1', '2']], ['^(?:44|44)', ['44']], ['^(?:33|49)?1', ['']], ['^(?:33|49)*', ['']],
    ['^(?:33|49)+', ['']], ['^(?:33|49){2}', ['']], ['^(?:33|4\\d)', ['']], ['^(?:33|)1', ['']], ['^(?:33|49)|^1', ['']],
    ['(?:33|49)', ['']], ['^(?<cc>33|49)', ['']], ['^(?:33)', ['33']], ['^', ['']],
  ];
  for (const [pattern, want] of rows) t.same(literalPrefixes(pattern), want, pattern);
});

t.test('literal prefixes never exclude a number the regex matches, and a number starts with at most one', async (t) => {
  const patterns = ['^(?:33|49|176)[0-9]{8}$', '^(1|15|2)\\d*', '^(?:44|441)\\d', '^(?:9)$', '^(33|49)5'];
  const numbers = ['33123456789', '4912345678', '17612345678', '1', '15', '2', '441', '4415', '9', '335', '495', '33'];
  for (const p of patterns) {
    const re = new RegExp(p);
    const prefixes = literalPrefixes(p);
    for (const n of numbers) {
      const hits = prefixes.filter((k) => n.startsWith(k)).length;
      t.ok(hits <= 1, `${p}: ${n} starts with at most one of ${prefixes.join(',')}`);
      if (re.test(n)) t.equal(hits, 1, `${p} matches ${n}`);
    }
  }
});
