/**
 * The configuration schema: the single source of truth for every key, its type, default and meaning.
 * `config/default.json` and README's configuration table are checked against it by a test. Unknown keys are
 * errors (a typo must never be silently ignored). The TypeScript type `Config` is derived from it.
 */
import { validate as isValidCron } from 'node-cron';
import { z } from 'zod';
import { checkHeaderName } from '../identity/header-name.js';

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT (IPv6 as [addr]:PORT)')
  // only judge the port when the shape matched, so 'nope' gets one error rather than two
  .refine((s) => !/:\d+$/.test(s) || Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'port must be 0..65535');

const cidr = z
  .string()
  .regex(/^([0-9.]+|[0-9a-fA-F:]+)(\/\d{1,3})?$/, 'must be an IPv4 or IPv6 address or CIDR block');

/** Q.850 cause names as FreeSWITCH spells them (upper case and underscores). */
const causeName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be a FreeSWITCH cause name like NO_ROUTE_DESTINATION');
/** A failover-set entry: a cause name, a SIP status (`sip:503`) or a SIP class (`sip:5xx`). */
const failoverEntry = z.string().regex(/^([A-Z][A-Z0-9_]*|sip:[1-6](\d\d|xx))$/, 'must be a cause name, sip:NNN or sip:Nxx');
/** A node-cron v4 schedule (5 fields, or 6 with seconds first); checked with node-cron's own parser. */
const cronExpr = z.string().refine((s) => isValidCron(s), 'must be a valid node-cron expression');
const headerName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'must be a SIP header token');

const identityKey = z.strictObject({
  key_file: z.string().min(1).describe('PEM file with the P-256 private key used to sign PASSporTs'),
  x5u: z.string().url().describe('HTTPS URL of the certificate that verifies the key (PASSporT x5u and info=)'),
});

export const ConfigSchema = z
  .strictObject({
    replica: z
      .strictObject({
        path: z.string().min(1).default('/var/lib/callrouter/replica.db').describe('SQLite replica file (opened read-only)'),
        max_age_seconds: z
          .number().int().min(0).default(0)
          .describe('readiness fails and a warning is logged when the replica is older than this; 0 = off'),
        busy_timeout_ms: z.number().int().min(0).max(60000).default(200).describe('wait for a writer lock before a query fails'),
        watch_cron: cronExpr.default('* * * * * *').describe('node-cron schedule of the replica change watch (seconds field)'),
      })
      .prefault({}),
    esl: z
      .strictObject({
        listen: listen.default('127.0.0.1:8084').describe('outbound event socket listener (FreeSWITCH connects here)'),
        allow_from: z.array(cidr).default(['127.0.0.0/8', '::1/128']).describe('peers allowed to connect; others are closed and counted (a loopback listener whose list admits its whole loopback range checks no one: each of its peers is a process on this host and picks its own source address)'),
        max_sessions: z.number().int().min(1).default(20000).describe('concurrent sessions; above this a connection is closed before connect'),
        max_frame_bytes: z.number().int().min(4096).default(262144).describe('largest frame accepted from FreeSWITCH; larger closes the session'),
        command_timeout_ms: z.number().int().min(100).default(5000).describe('bound on every command/reply round trip'),
        connect_timeout_ms: z.number().int().min(100).default(10000).describe('a peer that sends no connect reply (or stalls mid-frame) this long is closed'),
        linger_seconds: z.number().int().min(1).max(600).default(20).describe('linger N sent after connect: how long FreeSWITCH keeps the socket after hangup'),
        hangup_complete_wait_ms: z.number().int().min(100).default(5000).describe('after the linger notice, wait this long for CHANNEL_HANGUP_COMPLETE before exit'),
        variables: z
          .strictObject({
            campaign_id: z.string().regex(/^[a-z0-9_]+$/).default('g2d_campaign_id').describe('channel variable holding the campaign ID'),
            lead_id: z.string().regex(/^[a-z0-9_]+$/).default('g2d_lead_id').describe('channel variable holding the lead ID'),
            tenant_id: z.string().regex(/^[a-z0-9_]+$/).default('g2d_tenant_id').describe('optional channel variable with the tenant the call claims'),
          })
          .prefault({}),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        listen: listen.default('127.0.0.1:9464').describe('HTTP listener for /metrics, /healthz, /readyz'),
        stall_ms: z
          .number().int().min(50).max(60000).default(2000)
          .describe('/healthz answers 503 when the event loop was blocked longer than this in the last 10 s'),
      })
      .prefault({}),
    routing: z
      .strictObject({
        max_attempts: z.number().int().min(1).max(10).default(3).describe('most carriers tried per call'),
        forced_failover_to_routes: z.boolean().default(false).describe('when a forced carrier is used, let route candidates follow it'),
        ring_timeout_seconds: z.number().int().min(1).max(300).default(45).describe('per-attempt ring timeout (originate_timeout in the dial string); at least progress_timeout_seconds + 2'),
        progress_timeout_seconds: z.number().int().min(1).max(60).default(6).describe('per-attempt bound without 180/183 (leg_progress_timeout); then fail over'),
        failover_causes: z
          .array(failoverEntry)
          .default([
            'sip:408', 'sip:5xx', 'GATEWAY_DOWN', 'NORMAL_TEMPORARY_FAILURE', 'NETWORK_OUT_OF_ORDER',
            // Not ALLOTTED_TIMEOUT: that is `leg_timeout` expiring on a leg that rang (4d_06) — the callee's no-answer.
            'RECOVERY_ON_TIMER_EXPIRE', 'DESTINATION_OUT_OF_ORDER', 'PROGRESS_TIMEOUT', 'SWITCH_CONGESTION',
            'NORMAL_CIRCUIT_CONGESTION',
          ])
          .describe('attempt failures that try the next carrier'),
        no_failover_causes: z
          .array(failoverEntry)
          .default([
            'sip:486', 'sip:600', 'sip:603', 'sip:404', 'sip:604', 'sip:607', 'sip:608', 'USER_BUSY', 'CALL_REJECTED',
            'NO_ANSWER', 'NO_USER_RESPONSE', 'UNALLOCATED_NUMBER', 'INVALID_NUMBER_FORMAT', 'ORIGINATOR_CANCEL',
          ])
          .describe('callee decisions: never tried on another carrier (checked before failover_causes)'),
        hangup_causes: z
          .record(z.string(), causeName)
          .default({})
          .describe('error code -> hangup cause overrides (defaults in README)'),
      })
      .superRefine((r, ctx) => {
        // Both fire with ~1 s precision (NOTES §9): a ring timeout that can beat the progress timeout turns a
        // silent carrier into NO_ANSWER, a callee decision, and the next carrier is never tried.
        if (r.ring_timeout_seconds < r.progress_timeout_seconds + 2) {
          ctx.addIssue({
            code: 'custom', path: ['ring_timeout_seconds'],
            message: `must be at least progress_timeout_seconds + 2 (${r.progress_timeout_seconds + 2}), or a silent carrier ends as NO_ANSWER and is never failed over`,
          });
        }
      })
      .prefault({}),
    bridge: z
      .strictObject({
        sip_cid_type: z.enum(['rpid', 'pid', 'none']).default('pid').describe('caller-ID header style on the carrier leg'),
        caller_id_name: z
          .enum(['number', 'campaign', 'lead_list'])
          .default('number')
          .describe('what the From display name shows: the caller ID number, the campaign name or the lead list name'),
        extra_leg_variables: z
          .record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.string().regex(/^[A-Za-z0-9_.:+\-]*$/))
          .default({})
          .describe('operator-set variables added to every carrier leg (name -> value, strict character set)'),
      })
      .prefault({}),
    identity: z
      .strictObject({
        default_mode: z.enum(['header', 'passport', 'none']).default('header').describe('identity mode for carriers whose identity_mode is NULL'),
        default_header: headerName
          .refine((h) => checkHeaderName(h).ok, 'must not be a header FreeSWITCH builds itself (From, To, Via, Contact, P-Asserted-Identity...)')
          .default('P-Attestation-Indicator').describe('attestation header for carriers whose attestation_header is NULL'),
        verify_caller_id_ownership: z.boolean().default(false).describe("send A only when the caller ID is one of the tenant's phone_numbers; else B"),
        signing: identityKey.optional().describe('global PASSporT signing key and x5u (passport mode)'),
        tenants: z.record(z.string(), identityKey).default({}).describe('per-tenant signing keys (tenant ID -> key_file, x5u)'),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
        pretty: z.boolean().default(false).describe('human-readable logs (needs the pino-pretty dev dependency)'),
      })
      .prefault({}),
    shutdown: z
      .strictObject({
        grace_seconds: z.number().int().min(0).max(3600).default(30).describe('SIGTERM: how long in-flight calls may finish'),
      })
      .prefault({}),
    jobs: z
      .strictObject({
        replica_age_cron: cronExpr.default('*/15 * * * * *').describe('schedule of the replica age refresh'),
        stats_cron: cronExpr.default('0 * * * * *').describe('schedule of the periodic stats log line'),
      })
      .prefault({}),
  })
  .prefault({});

export type Config = z.infer<typeof ConfigSchema>;
