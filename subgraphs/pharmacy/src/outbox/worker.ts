import type { DataSource } from 'typeorm';
import { OutboxRunner, refusal, type OutboxTable } from '@portal/kit';
import { OutboxEntity, type OutboxRow } from '../db/entities';
import { ServiceTokenSource } from './serviceToken';
import type { NotifierSettings } from './settings';

const POST_CARE_TEAM_MESSAGE = `mutation PharmacyNotice($input: PostCareTeamMessageInput!) {
  postCareTeamMessage(input: $input) { id }
}`;

/** Messaging refuses these tokens: a fresh one may do. */
const TOKEN_REFUSED = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

export const PHARMACY_OUTBOX: OutboxTable<OutboxRow> = { entity: OutboxEntity, name: 'pharmacy_outbox', leaseBy: 'locked_by', leaseUntil: 'locked_until' };

/**
 * Delivers the outbox: each message a decision stored is posted to messaging
 * until messaging accepts it, or refuses it for good OUTBOX_MAX_REFUSALS
 * times. Runs in every pharmacy instance on the kit's OutboxRunner (leases
 * renewed per row, retries, dead rows, purge). Messaging's postCareTeamMessage
 * is idempotent per service and key, so a crash between "posted" and "marked
 * delivered" repeats the call, never the message.
 */
export class OutboxWorker extends OutboxRunner<OutboxRow> {
  constructor(db: DataSource, settings: NotifierSettings, log?: (line: string) => void) {
    const tokens = new ServiceTokenSource(settings.identityUrl, settings.clientId, settings.clientSecret, 'messaging:write', settings.requestTimeoutMs);
    super(db, { name: 'pharmacy outbox', table: PHARMACY_OUTBOX, settings, log, send: (row, stopping) => post(row, settings, tokens, stopping) });
  }
}

/** postCareTeamMessage on messaging itself (not the gateway), as the pharmacy service. */
async function post(row: OutboxRow, settings: NotifierSettings, tokens: ServiceTokenSource, stopping: AbortSignal): Promise<void> {
  const signal = AbortSignal.any([stopping, AbortSignal.timeout(settings.requestTimeoutMs)]);
  const token = await tokens.get(stopping);
  const res = await fetch(`${settings.messagingUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: POST_CARE_TEAM_MESSAGE,
      variables: {
        input: {
          patientId: row.patientId,
          careTeamId: row.careTeamId,
          category: row.category,
          subject: row.subject,
          body: row.body,
          idempotencyKey: row.idempotencyKey,
          senderName: row.senderName,
        },
      },
    }),
    signal,
  });
  const body = (await res.json().catch(() => null)) as { data?: { postCareTeamMessage?: { id?: unknown } | null }; errors?: { extensions?: { code?: unknown } }[] } | null;
  if (typeof body?.data?.postCareTeamMessage?.id === 'string') return;
  const code = body?.errors?.[0]?.extensions?.code;
  if (typeof code === 'string' && TOKEN_REFUSED.has(code)) tokens.invalidate();
  throw refusal(res.status, code);
}
