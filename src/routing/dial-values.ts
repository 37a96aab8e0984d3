/**
 * The strict character sets for every value that reaches a FreeSWITCH dial string. Replica data is written by
 * systems callrouter does not control, so a value outside these sets is rejected as a typed reason — never
 * escaped: FreeSWITCH's dial-string and ESL grammars have too many metacharacters (`, | { } [ ] ^ '` and
 * newlines that end an ESL command) for escaping to be trustworthy.
 */

/** A FreeSWITCH sofia gateway name: what `sofia/gateway/<name>/...` addresses. */
export const GATEWAY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A dialed number or a presented caller ID after all rules: optional leading `+`, 1–20 ASCII digits. */
export const DIAL_NUMBER_RE = /^\+?[0-9]{1,20}$/;

/** The complete dial string shape this module produces; used as a last-line assertion in tests and checks. */
export const DIAL_STRING_RE = /^sofia\/gateway\/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\/\+?[0-9]{1,20}$/;

/** True when `name` can be used verbatim as a gateway name in a dial string. */
export function isGatewayName(name: unknown): name is string {
  return typeof name === 'string' && GATEWAY_NAME_RE.test(name);
}

/** True when `value` can be used verbatim as a dialed number or caller-ID number. */
export function isDialNumber(value: unknown): value is string {
  return typeof value === 'string' && DIAL_NUMBER_RE.test(value);
}

/**
 * `sofia/gateway/<gateway>/<number>`. Callers pass values already accepted by {@link isGatewayName} and
 * {@link isDialNumber}; this function does not validate (the decision does, once, where it can record why).
 */
export function dialString(gateway: string, number: string): string {
  return `sofia/gateway/${gateway}/${number}`;
}
