/**
 * The campaign's forced carrier: `metadata.carrier_id`. Metadata is a JSON object written by the dialer's API;
 * anything else is `metadata_invalid`, which — like every forced-carrier failure — makes the call fall back to
 * routes rather than fail.
 */

/** Larger metadata is refused unparsed: it is read on every call of the campaign. */
export const MAX_METADATA_LENGTH = 65_536;

/** No forced carrier, a carrier ID to look up, or metadata that could not be read. */
export type ForcedCarrierRef =
  | { readonly kind: 'none' }
  | { readonly kind: 'carrier'; readonly carrierId: string }
  | { readonly kind: 'invalid' };

const NONE: ForcedCarrierRef = Object.freeze({ kind: 'none' });
const INVALID: ForcedCarrierRef = Object.freeze({ kind: 'invalid' });

/**
 * Reads `metadata.carrier_id`. NULL, empty or whitespace-only metadata, a missing key, and a `carrier_id` of
 * null or '' mean no forced carrier. Metadata that is not a JSON object (or longer than
 * {@link MAX_METADATA_LENGTH}), or a `carrier_id` that is not a string, is `invalid`. The ID itself is opaque:
 * whatever string it is, it is only ever a key for the carrier lookup.
 */
export function readForcedCarrier(metadata: string | null): ForcedCarrierRef {
  if (metadata === null || metadata.trim() === '') return NONE;
  if (metadata.length > MAX_METADATA_LENGTH) return INVALID;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    return INVALID;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return INVALID;
  if (!Object.hasOwn(parsed, 'carrier_id')) return NONE;
  const carrierId: unknown = (parsed as Record<string, unknown>).carrier_id;
  if (carrierId === null || carrierId === '') return NONE;
  if (typeof carrierId !== 'string') return INVALID;
  return { kind: 'carrier', carrierId };
}
