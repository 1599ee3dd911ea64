import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { asBackground, runChange, signAccessToken } from '@portal/kit';
import type { NoticeRow } from '../db/entities';
import { IdentityStore } from '../db/store';
import type { KeyRing } from '../keys';
import { SecurityAudit } from '../services/audit';
import { SERVICE_TOKEN_TTL_SECONDS } from '../services/serviceClients';

const POST_CARE_TEAM_MESSAGE = `mutation IdentityNotice($input: PostCareTeamMessageInput!) {
  postCareTeamMessage(input: $input) { id }
}`;

export interface NoticeOptions {
  /** Messaging's base URL; read at every pass, since identity starts before messaging. Nothing is sent while it is undefined. */
  messagingUrl: () => string | undefined;
  pollMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  leaseMs?: number;
  batchSize?: number;
  requestTimeoutMs?: number;
}

const DEFAULTS = { pollMs: 2_000, retryBaseMs: 1_000, retryMaxMs: 60_000, leaseMs: 30_000, batchSize: 20, requestTimeoutMs: 10_000 };

/**
 * Delivers identity's notices (a credential added or removed) as secure
 * messages from the patient's care team, through messaging's
 * postCareTeamMessage. Modelled on pharmacy's outbox worker: rows are claimed
 * with a lease (PostgreSQL: SKIP LOCKED), retried with a doubling delay for
 * ever, and posted with an idempotency key, so a crash between "posted" and
 * "marked delivered" repeats the call, never the message. Identity signs its
 * own short SERVICE token (scope messaging:write) rather than asking itself
 * for one; each is audited like any service token.
 */
export class NoticeWorker {
  private readonly store: IdentityStore;
  private readonly settings: Required<Omit<NoticeOptions, 'messagingUrl'>>;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private token: { value: string; renewAt: number } | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly keys: KeyRing,
    private readonly options: NoticeOptions,
  ) {
    this.store = new IdentityStore(db);
    this.settings = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k !== 'messagingUrl' && v !== undefined)) };
  }

  start(): void {
    this.kick();
  }

  /** A notice was just queued: deliver now rather than at the next poll. */
  kick(): void {
    if (this.stopping.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = asBackground(() => this.loop());
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: delivers due notices until none is left; returns how many were delivered. */
  async tick(): Promise<number> {
    const messagingUrl = this.options.messagingUrl();
    if (!messagingUrl) return 0;
    let delivered = 0;
    for (;;) {
      if (this.stopping.signal.aborted) return delivered;
      const lease = { by: randomUUID(), until: new Date(Date.now() + this.settings.leaseMs).toISOString() };
      // store.transaction queues on SQLite by itself (kit's runChange).
      const rows = await this.store.transaction((tx) => tx.claimNotices(new Date().toISOString(), lease, this.settings.batchSize));
      for (const row of rows) if (await this.deliver(messagingUrl, row, lease.by)) delivered++;
      if (rows.length < this.settings.batchSize) return delivered;
    }
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.tick().catch((e: unknown) => this.warn(`pass failed (${(e as Error)?.name ?? 'Error'})`));
      } while (this.again && !this.stopping.signal.aborted);
    } finally {
      this.running = null;
      if (!this.stopping.signal.aborted) {
        this.timer = setTimeout(() => this.kick(), this.settings.pollMs);
        this.timer.unref();
      }
    }
  }

  private async deliver(messagingUrl: string, row: NoticeRow, leaseBy: string): Promise<boolean> {
    try {
      await this.post(messagingUrl, row);
    } catch (e) {
      const error = e instanceof Error && /^[A-Za-z ]{1,60}$/.test(e.message) ? e.message : 'Error';
      const delay = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** Math.min(Math.max(row.attempts - 1, 0), 30));
      if (!this.stopping.signal.aborted) this.warn(`notice delivery failed (${error}, attempt ${row.attempts}); retrying in ${delay} ms`);
      await runChange(this.db, () => this.store.noticeFailed(row.id, leaseBy, new Date(Date.now() + delay).toISOString(), error)).catch(() => undefined);
      return false;
    }
    await runChange(this.db, () => this.store.noticeDelivered(row.id, leaseBy, new Date().toISOString()));
    return true;
  }

  private async post(messagingUrl: string, row: NoticeRow): Promise<void> {
    const careTeamId = await this.store.firstCareTeamOf(row.personId);
    // Messages come from a care team; a patient with none is told once they have one.
    if (!careTeamId) throw new Error('No care team');
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
      signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.settings.requestTimeoutMs)]),
    });
    const body = (await res.json().catch(() => null)) as { data?: { postCareTeamMessage?: { id?: unknown } | null }; errors?: { extensions?: { code?: unknown } }[] } | null;
    if (typeof body?.data?.postCareTeamMessage?.id === 'string') return;
    const code = body?.errors?.[0]?.extensions?.code;
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') this.token = null;
    throw new Error(typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code) ? `GraphQL ${code.replace(/_/g, ' ')}` : `HTTP ${res.status}`);
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

  private warn(message: string): void {
    if (process.env.PORTAL_QUIET !== '1') console.warn(`[identity notices] ${message}`);
  }
}
