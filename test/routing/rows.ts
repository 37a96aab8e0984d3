/**
 * Row builders for the pure routing tests: one valid world (tenant t1, campaign camp1, lead lead1 on list1,
 * destination +1 415 555 0123, caller ID +1 212 555 0100) that each table row bends in one way.
 */
import type { CallRecords, CampaignRow, CarrierRow, LeadListRow, LeadRow, PhoneNumberRow, RouteRow } from '../../src/routing/types.js';

export const DEST = '14155550123';
export const CLI = '12125550100';

export function carrier(p: Partial<CarrierRow> & { id: string }): CarrierRow {
  return {
    tenantId: 't1', name: `gw_${p.id}`, type: 'sip_trunk', direction: 'outbound', status: 'active', origin: 'tenant',
    remoteHost: null, remotePort: null, transport: null, stripPrefix: null, addPrefix: null, callerIdFormat: null,
    identityMode: null, attestationHeader: null, updatedAt: null, ...p,
  };
}

export function route(p: Partial<RouteRow> & { id: string; carrierId: string }): RouteRow {
  return {
    tenantId: 't1', matchType: p.regex !== undefined && p.prefix === undefined ? 'regex' : 'prefix',
    prefix: null, regex: null, priority: 100, stripPrefix: null, addPrefix: null, updatedAt: null, ...p,
  };
}

export function phoneNumber(p: Partial<PhoneNumberRow> & { id: string; number: string }): PhoneNumberRow {
  return { tenantId: 't1', carrierId: null, capabilities: null, ...p };
}

export interface RecordsSpec {
  campaign?: Partial<CampaignRow> | null;
  lead?: Partial<LeadRow> | null;
  leadList?: Partial<LeadListRow> | null;
}

/** camp1/lead1/list1 of t1; `null` leaves a record out. */
export function records(spec: RecordsSpec = {}): CallRecords {
  return {
    campaign: spec.campaign === null ? undefined : {
      id: 'camp1', tenantId: 't1', name: 'Campaign', status: 'active', stirShakenAttestation: 'A', metadata: null,
      ...spec.campaign,
    },
    lead: spec.lead === null ? undefined : { id: 'lead1', tenantId: 't1', leadListId: 'list1', primaryPhone: `+${DEST}`, ...spec.lead },
    leadList: spec.leadList === null ? undefined : { id: 'list1', tenantId: 't1', name: 'List', callerId: `+${CLI}`, ...spec.leadList },
  };
}

export const INPUT = { campaignId: 'camp1', leadId: 'lead1' } as const;
export const OPTIONS = { maxAttempts: 3, forcedFailoverToRoutes: false } as const;
