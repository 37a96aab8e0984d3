/**
 * Strip/add prefix rules (route first, then carrier). A strip removes its prefix only when the number starts
 * with it — nothing is ever stripped implicitly, so a prefix route dials the full E.164 number unless the row
 * says otherwise (spec: "A prefix route does not auto-strip the prefix").
 */

/** A rule value: NULL or '' = no rule; otherwise an optional leading `+` and up to 15 digits. */
const RULE_RE = /^\+?[0-9]{1,15}$/;
/** `add_prefix` may also be a lone `+` (to dial `+E164`). */
const ADD_ONLY_PLUS = '+';

/** A validated pair of rules. */
export interface NumberRules {
  readonly stripPrefix: string | null;
  readonly addPrefix: string | null;
}

/** The rules of a row, or undefined when either value is outside the strict set (the row is then unusable). */
export function parseNumberRules(stripPrefix: string | null, addPrefix: string | null): NumberRules | undefined {
  const strip = stripPrefix === null || stripPrefix === '' ? null : stripPrefix;
  const add = addPrefix === null || addPrefix === '' ? null : addPrefix;
  if (strip !== null && !RULE_RE.test(strip)) return undefined;
  if (add !== null && add !== ADD_ONLY_PLUS && !RULE_RE.test(add)) return undefined;
  return { stripPrefix: strip, addPrefix: add };
}

/** `number` with `rules` applied: strip (only when it is a prefix of the number), then add. */
export function applyNumberRules(number: string, rules: NumberRules): string {
  let out = number;
  if (rules.stripPrefix !== null && out.startsWith(rules.stripPrefix)) out = out.slice(rules.stripPrefix.length);
  if (rules.addPrefix !== null) out = rules.addPrefix + out;
  return out;
}

/**
 * The dialed number for a destination: route strip → route add → carrier strip → carrier add. The result is
 * not validated here; the decision checks it against the strict dial-number set.
 */
export function dialedNumber(destination: string, route: NumberRules | null, carrier: NumberRules): string {
  const afterRoute = route === null ? destination : applyNumberRules(destination, route);
  return applyNumberRules(afterRoute, carrier);
}
