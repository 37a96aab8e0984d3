/**
 * SIP final status → FreeSWITCH hangup cause, as mod_sofia maps them (sofia_glue_sip_cause_to_freeswitch), and
 * the standard reason phrases. Seen on the real switch: 503 → NORMAL_TEMPORARY_FAILURE, 486 → USER_BUSY,
 * 408 → RECOVERY_ON_TIMER_EXPIRE (transcripts 4d_*).
 */
const CAUSES: ReadonlyArray<readonly [readonly number[], string]> = [
  [[200], 'NORMAL_CLEARING'],
  [[401, 402, 403, 407, 603, 608], 'CALL_REJECTED'],
  [[404], 'UNALLOCATED_NUMBER'],
  [[485, 604], 'NO_ROUTE_DESTINATION'],
  [[408, 504], 'RECOVERY_ON_TIMER_EXPIRE'],
  [[410], 'NUMBER_CHANGED'],
  [[413, 414, 416, 420, 421, 423, 505, 513], 'INTERWORKING'],
  [[480], 'NO_USER_RESPONSE'],
  [[400, 481, 500, 503], 'NORMAL_TEMPORARY_FAILURE'],
  [[486, 600], 'USER_BUSY'],
  [[484], 'INVALID_NUMBER_FORMAT'],
  [[488, 606], 'INCOMPATIBLE_DESTINATION'],
  [[502], 'NETWORK_OUT_OF_ORDER'],
  [[405], 'SERVICE_UNAVAILABLE'],
  [[406, 415, 501], 'SERVICE_NOT_IMPLEMENTED'],
  [[482, 483], 'EXCHANGE_ROUTING_ERROR'],
  [[487], 'ORIGINATOR_CANCEL'],
];

const PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  410: 'Gone', 480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 484: 'Address Incomplete',
  485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

/** The hangup cause FreeSWITCH reports for a carrier's final SIP status. */
export function causeForSipStatus(status: number): string {
  for (const [statuses, cause] of CAUSES) if (statuses.includes(status)) return cause;
  return 'NORMAL_UNSPECIFIED';
}

/** The reason phrase a carrier typically sends with `status`. */
export function phraseForSipStatus(status: number): string {
  return PHRASES[status] ?? 'Unknown';
}
