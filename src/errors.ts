/**
 * Every failure callrouter reports has a stable string code. The code — never the message — is what logs,
 * metrics (`callrouter_call_errors_total{code}`), hangup-cause mapping and `callrouter explain` report, so
 * codes are a contract: add new ones, never rename.
 *
 * Expected call-path failures (no route, bad data, a carrier rejecting) travel as values carrying one of
 * these codes; `throw` is for bugs and start-up failures (config, replica schema).
 */

/** Codes that end one call before or during routing. Each maps to a hangup cause (config `routing.hangup_causes`). */
export const CALL_ERROR_CODES = {
  campaign_not_found: 'the campaign ID on the channel is not in the replica',
  lead_not_found: 'the lead ID on the channel is not in the replica',
  lead_list_not_found: "the lead's lead list is not in the replica",
  tenant_mismatch: 'campaign, lead, lead list and the tenant the call claims are not all one tenant',
  invalid_destination: "the lead's primary_phone is not a valid E.164 number",
  invalid_caller_id: "the lead list's caller_id is missing or not a valid E.164 number",
  no_route: 'no eligible carrier: no forced carrier and no matching route with a usable carrier',
  unsafe_dial_value: 'a value bound for the dial string has characters outside the strict set',
  missing_channel_variable: 'a required channel variable (campaign or lead ID) is absent',
  invalid_channel_variable: 'a channel variable holds characters an ID may not contain',
  replica_unavailable: 'no valid replica data can be read',
  identity_unavailable: 'a PASSporT could not be signed for this call',
  esl_failure: 'the event socket session failed before the call ended: connection lost, a command timed out or was refused',
  socket_mode_unsupported: "the dialplan's socket app was not run with `async full` (the connect reply's Socket-Mode/Control)",
  internal_error: 'a bug: an unexpected exception while handling the call',
} as const;
export type CallErrorCode = keyof typeof CALL_ERROR_CODES;

/** Why a forced carrier (campaign `metadata.carrier_id`) was not used, or why a route's carrier was skipped. */
export const CARRIER_REJECT_REASONS = {
  carrier_not_found: 'no carrier row with that ID',
  carrier_archived: 'carrier status is archived',
  carrier_disabled: 'carrier status is disabled (or not a known status)',
  carrier_not_outbound: 'carrier direction is inbound only (or not a known direction)',
  carrier_unsupported_type: 'carrier type is not sip_trunk or register_trunk',
  carrier_other_tenant: "carrier belongs to another tenant and is not a platform carrier",
  carrier_invalid_name: 'carrier name is not usable as a FreeSWITCH gateway name',
  carrier_invalid_config: 'carrier strip_prefix, add_prefix or caller_id_format holds a value outside its strict set',
  metadata_invalid: 'campaign metadata is not a JSON object, or carrier_id is not a string',
} as const;
export type CarrierRejectReason = keyof typeof CARRIER_REJECT_REASONS;

/** Why a matching route produced no candidate (beyond the carrier reasons above). */
export const ROUTE_SKIP_REASONS = {
  ...CARRIER_REJECT_REASONS,
  duplicate_carrier: 'an earlier candidate already uses this carrier',
  max_attempts: 'routing.max_attempts candidates were already chosen',
  invalid_number: 'the number after strip/add rules is not a valid dialable number',
  invalid_caller_id_format: "the caller ID cannot be presented in the carrier's caller_id_format",
  regex_invalid: 'the route regex does not compile',
  regex_unsafe: 'the route regex can backtrack catastrophically and is never evaluated',
  route_invalid: 'the route row is malformed (match_type, prefix or rule values)',
} as const;
export type RouteSkipReason = keyof typeof ROUTE_SKIP_REASONS;

/** Codes for failures of the process rather than of one call. */
export const SYSTEM_ERROR_CODES = {
  config_invalid: 'the configuration failed validation',
  replica_schema_newer: 'the replica schema version is newer than this build understands',
  replica_schema_invalid: 'the replica is missing required tables or columns',
  replica_open_failed: 'the replica file cannot be opened',
  replica_missing: 'the replica file does not exist at the configured path',
  replica_busy: 'a writer held a lock on the replica longer than replica.busy_timeout_ms',
  replica_corrupt: 'the replica file is not a valid SQLite database (truncated or overwritten)',
  replica_read_failed: 'a query on the replica failed for a reason other than busy, corrupt or schema',
  replica_routes_emptied: 'outbound_routes became empty while the last good index had routes; the last good index keeps serving',
  identity_key_invalid: 'a configured signing key is missing, unreadable or not a P-256 key',
  listen_failed: 'a listener could not bind its address',
} as const;
export type SystemErrorCode = keyof typeof SYSTEM_ERROR_CODES;

export type ErrorCode = CallErrorCode | SystemErrorCode;

/** Base class: a literal `name`, a stable `code`, structured `fields`, `{ cause }` when wrapping. */
export class CallrouterError extends Error {
  override readonly name: string = 'CallrouterError';
  readonly code: ErrorCode;
  readonly fields: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, fields: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.fields = fields;
  }
}

/** A call-path failure carried as a value (never thrown on the call path). */
export class CallError extends CallrouterError {
  override readonly name = 'CallError';
  declare readonly code: CallErrorCode;
  constructor(code: CallErrorCode, message: string, fields: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, message, fields, options);
  }
}

/** Configuration rejected at start-up or on SIGHUP; `message` names every bad key. */
export class ConfigError extends CallrouterError {
  override readonly name = 'ConfigError';
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super('config_invalid', `invalid configuration: ${issues.join('; ')}`, { issues }, options);
    this.issues = issues;
  }
}

/** The system codes that describe a replica fault (start-up errors and `ReplicaStore` status values). */
export type ReplicaErrorCode = Extract<SystemErrorCode, `replica_${string}`>;

/** The replica cannot be used (missing, corrupt, newer schema). */
export class ReplicaError extends CallrouterError {
  override readonly name = 'ReplicaError';
  declare readonly code: ReplicaErrorCode;
  constructor(
    code: ReplicaErrorCode,
    message: string,
    fields: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, fields, options);
  }
}

/** A signing key or identity setting is unusable (start-up). */
export class IdentityKeyError extends CallrouterError {
  override readonly name = 'IdentityKeyError';
  constructor(message: string, fields: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('identity_key_invalid', message, fields, options);
  }
}

/** A listener could not bind (EADDRINUSE, EACCES...). */
export class ListenError extends CallrouterError {
  override readonly name = 'ListenError';
  constructor(message: string, fields: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('listen_failed', message, fields, options);
  }
}
