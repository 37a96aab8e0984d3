import t from 'tap';
import { createRequire } from 'node:module';
import { createE164Validator } from '../../src/routing/e164-validator.js';
import { toE164Digits } from '../../src/routing/numbers.js';

const require = createRequire(import.meta.url);
const metadata = require('libphonenumber-js/metadata.min.json') as { country_calling_codes: Record<string, string[]> };
const examples = require('libphonenumber-js/examples.mobile.json') as Record<string, string>;

/** Deterministic PRNG (mulberry32): the sample is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Digits without `+`, no leading 0, at most 15 — what toE164Digits hands to libphonenumber. */
function sample(): string[] {
  const r = rng(1);
  const digit = () => String(Math.floor(r() * 10));
  const out = new Set<string>();
  for (const cc of Object.keys(metadata.country_calling_codes)) {
    for (let len = cc.length + 1; len <= 15; len++) {
      for (let k = 0; k < 12; k++) {
        let d = cc;
        while (d.length < len) d += digit();
        out.add(d);
      }
    }
  }
  for (const e164 of Object.values(examples)) {
    const d = e164.slice(1);
    out.add(d);
    out.add(d.slice(0, -1));
    out.add(`${d}${digit()}`.slice(0, 15));
    out.add(`${d.slice(0, -1)}${digit()}`);
    out.add(`${d.slice(0, -2)}${digit()}${digit()}`);
  }
  // Every 1–3 digit value (calling codes alone, and prefixes of none) and some 4-digit ones.
  for (let n = 1; n < 1000; n++) out.add(String(n));
  for (let n = 1000; n < 10_000; n += 7) out.add(String(n));
  // NANP: valid US/CA/Caribbean numbers are the common case on the call path.
  for (let k = 0; k < 3000; k++) out.add(`1${2 + Math.floor(r() * 8)}${digit()}${digit()}${2 + Math.floor(r() * 8)}${digit()}${digit()}${digit()}${digit()}${digit()}${digit()}`);
  return [...out];
}

t.test('agrees with libphonenumber-js isValid() on every calling code', async (t) => {
  const validator = createE164Validator();
  const numbers = sample();
  const mismatches = numbers.filter((d) => validator.validDigits(d) !== toE164Digits(d));
  t.same(mismatches.slice(0, 20), [], `${mismatches.length} of ${numbers.length} differ`);
  const valid = numbers.filter((d) => toE164Digits(d) !== null).length;
  t.ok(valid > 1000 && valid < numbers.length, `the sample holds valid (${valid}) and invalid numbers`);
});

t.test('table: what reaches the validator', async (t) => {
  const v = createE164Validator();
  const rows: [string, string | null][] = [
    ['14155550123', '14155550123'],
    ['442071234567', '442071234567'],
    ['4402071234567', null], // trunk 0 after the country code
    ['1415555012', null], // too short
    ['999123456', null], // no such calling code
    ['1', null], // calling code only
    ['8005550123', null], // +800 needs 8 digits
    ['80012345678', '80012345678'], // non-geographic (International Freephone)
  ];
  for (const [digits, want] of rows) t.equal(v.validDigits(digits), want, digits);
  for (const [digits] of rows) t.equal(v.validDigits(digits), toE164Digits(digits), `${digits} as the library says`);
});
