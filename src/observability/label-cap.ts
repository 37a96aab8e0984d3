/**
 * Bounds the cardinality of a free-text label (carrier names come from the replica, so in principle from
 * anyone who can write it). The first `limit` distinct well-formed values pass through; after that, and for
 * any value that is not a short token, the label is `other`. One cap per Metrics instance — never global.
 */

/** The value used for anything the cap does not let through. */
export const OVERFLOW_LABEL = 'other';

const TOKEN = /^[A-Za-z0-9_.-]{1,64}$/;

export interface LabelCap {
  /** `value` when it is (or may become) one of the bounded set, else `other`. */
  (value: string): string;
  /** How many distinct values have been admitted. */
  readonly size: number;
}

/** A cap admitting at most `limit` distinct values (default 1,000). */
export function createLabelCap(limit = 1000): LabelCap {
  const seen = new Set<string>();
  const cap = (value: string): string => {
    if (seen.has(value)) return value;
    if (seen.size >= limit || !TOKEN.test(value)) return OVERFLOW_LABEL;
    seen.add(value);
    return value;
  };
  Object.defineProperty(cap, 'size', { get: () => seen.size });
  return cap as LabelCap;
}
