import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DeliveryError, outboxSettings, OutboxRunner, readOutboxLimits, refusal, signAccessToken, type OutboxSettings, type OutboxTable } from '@portal/kit';
import { NoticeEntity, type NoticeRow } from '../db/entities';
import { IdentityStore } from '../db/store';
import type { KeyRing } from '../keys';
import { SecurityAudit } from '../services/audit';
import { SERVICE_TOKEN_TTL_SECONDS } from '../services/serviceClients';
import { parseIdentitySettings } from '../settings';

const POST_CARE_TEAM_MESSAGE = `mutation IdentityNotice($input: PostCareTeamMessageInput!) {
  postCareTeamMessage(input: $input) { id }
}`;

export interface NoticeOptions extends Partial<OutboxSettings> {
  /** Messaging's base URL; read at every pass, since identity starts before messaging. Nothing is sent while it is undefined. */
  messagingUrl: () => string | undefined;
  /** Where the worker's log lines go (tests); logger.warn by default. */
  log?: (line: string) => void;
}

/**
 * The settings a process may change through its environment: IDENTITY_NOTICE_POLL_MS,
 * and OUTBOX_MAX_REFUSALS and OUTBOX_RETENTION_HOURS (shared with pharmacy's outbox).
 */
export function readNoticeSettings(env: NodeJS.ProcessEnv = process.env): Pick<NoticeOptions, 'pollMs' | 'maxRefusals' | 'retentionHours'> {
  const { IDENTITY_NOTICE_POLL_MS: pollMs } = parseIdentitySettings(env, ['IDENTITY_NOTICE_POLL_MS']);
  return { pollMs, ...readOutboxLimits(env) };
}

export const IDENTITY_NOTICES: OutboxTable<NoticeRow> = { entity: NoticeEntity, name: 'identity_notice', leaseBy: 'lease_by', leaseUntil: 'lease_until' };

/**
 * Delivers identity's notices (a credential added or removed, a proxy grant given or revoked) as secure
 * messages from the patient's care team, through messaging's
 * postCareTeamMessage, on the kit's OutboxRunner like pharmacy's outbox:
 * leases renewed per row, retries with a doubling delay, dead after
 * OUTBOX_MAX_REFUSALS permanent refusals, purged after the retention period.
 * Each is posted with an idempotency key, so a crash between "posted" and
 * "marked delivered" repeats the call, never the message. Identity signs its
 * own short SERVICE token (scope messaging:write) rather than asking itself
 * for one; each is audited like any service token.
 */
export class NoticeWorker extends OutboxRunner<NoticeRow> {
  constructor(db: DataSource, keys: KeyRing, options: NoticeOptions) {
    const sender = new NoticeSender(db, keys, options);
    super(db, {
      name: 'identity notices',
      table: IDENTITY_NOTICES,
      settings: sender.settings,
      log: options.log,
      canSend: () => options.messagingUrl() !== undefined,
      send: (row, stopping) => sender.post(row, stopping),
    });
  }
}

class NoticeSender {
  readonly settings: OutboxSettings;
  private readonly store: IdentityStore;
  private token: { value: string; renewAt: number } | null = null;

  constructor(
    db: DataSource,
    private readonly keys: KeyRing,
    private readonly options: NoticeOptions,
  ) {
    this.store = new IdentityStore(db);
    this.settings = outboxSettings(options);
  }

  async post(row: NoticeRow, stopping: AbortSignal): Promise<void> {
    const messagingUrl = this.options.messagingUrl();
    if (!messagingUrl) throw new DeliveryError('No messaging');
    const careTeamId = await this.store.firstCareTeamOf(row.personId);
    // Messages come from a care team; a patient with none is told once they have one (a wait, not a refusal).
    if (!careTeamId) throw new DeliveryError('No care team');
    const res = await fetch(`${messagingUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.serviceToken()}` },
      body: JSON.stringify({
        query: POST_CARE_TEAM_MESSAGE,
        variables: {
          input: {
            patientId: row.personId,
            careTeamId,
            category: 'GENERAL',
            subject: row.subject,
            body: row.body,
            idempotencyKey: `identity-notice-${row.id}`,
            senderName: 'Portal account security',
          },
        },
      }),
      signal: AbortSignal.any([stopping, AbortSignal.timeout(this.settings.requestTimeoutMs)]),
    });
    const body = (await res.json().catch(() => null)) as { data?: { postCareTeamMessage?: { id?: unknown } | null }; errors?: { extensions?: { code?: unknown } }[] } | null;
    if (typeof body?.data?.postCareTeamMessage?.id === 'string') return;
    const code = body?.errors?.[0]?.extensions?.code;
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') this.token = null;
    throw refusal(res.status, code);
  }

  private async serviceToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const scopes = ['messaging:write'];
    const { token } = await signAccessToken(
      this.keys.signing,
      { accountId: 'service:identity', personId: 'service:identity', role: 'SERVICE', method: 'SERVICE', sessionId: randomUUID(), scopes },
      SERVICE_TOKEN_TTL_SECONDS,
    );
    await new SecurityAudit(this.store, { requestId: `notices-${randomUUID()}`, viewer: null, clientAddress: null }, () => new Date()).write({
      event: 'SERVICE_TOKEN',
      method: 'SERVICE',
      outcome: 'OK',
      accountId: 'service:identity',
      detail: scopes.join(' '),
    });
    this.token = { value: token, renewAt: Date.now() + SERVICE_TOKEN_TTL_SECONDS * 800 };
    return token;
  }
}
