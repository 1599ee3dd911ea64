import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { asBackground, runChange } from '@portal/kit';
import type { OutboxRow } from '../db/entities';
import { PharmacyStore } from '../db/store';
import { DeliveryError, errorClass, ServiceTokenSource } from './serviceToken';
import { retryDelay, type NotifierSettings } from './settings';

const POST_CARE_TEAM_MESSAGE = `mutation PharmacyNotice($input: PostCareTeamMessageInput!) {
  postCareTeamMessage(input: $input) { id }
}`;

/** Messaging refuses these tokens: a fresh one may do. */
const TOKEN_REFUSED = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

/**
 * Delivers the outbox: each message a decision stored is posted to messaging
 * until messaging accepts it. Runs in every pharmacy instance; a row is
 * claimed with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED), so instances
 * never post one row at the same time, and a worker that dies mid-delivery
 * only delays the row until its lease ends. Messaging's postCareTeamMessage is
 * idempotent per service and key, so a crash between "posted" and "marked
 * delivered" repeats the call, never the message.
 */
export class OutboxWorker {
  private readonly store: PharmacyStore;
  private readonly tokens: ServiceTokenSource;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly db: DataSource,
    private readonly settings: NotifierSettings,
  ) {
    this.store = new PharmacyStore(db);
    this.tokens = new ServiceTokenSource(settings.identityUrl, settings.clientId, settings.clientSecret, 'messaging:write', settings.requestTimeoutMs);
  }

  /** Delivers what is due now, then every `pollMs`. */
  start(): void {
    this.kick();
  }

  /** Something was just stored: deliver now rather than at the next poll. */
  kick(): void {
    if (this.stopping.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    // Kicked from a request, the pass is still background work: its statements are not the request's.
    this.running = asBackground(() => this.loop());
  }

  /** Stops polling and waits for the delivery in progress (its HTTP calls are aborted). */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: claims and delivers due rows until none is left. Returns how many were delivered. */
  async tick(): Promise<number> {
    let delivered = 0;
    for (;;) {
      if (this.stopping.signal.aborted) return delivered;
      const lease = { by: randomUUID(), until: new Date(Date.now() + this.settings.leaseMs).toISOString() };
      const rows = await runChange(this.db, () => this.store.claimDue(new Date().toISOString(), lease, this.settings.batchSize));
      for (const row of rows) if (await this.deliver(row, lease.by)) delivered++;
      if (rows.length < this.settings.batchSize) return delivered;
    }
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.tick().catch((e: unknown) => this.warn(`pass failed (${errorClass(e)})`));
      } while (this.again && !this.stopping.signal.aborted);
    } finally {
      this.running = null;
      if (!this.stopping.signal.aborted) {
        this.timer = setTimeout(() => this.kick(), this.settings.pollMs);
        // A pending poll never keeps a process alive on its own.
        this.timer.unref();
      }
    }
  }

  private async deliver(row: OutboxRow, leaseBy: string): Promise<boolean> {
    try {
      await this.post(row);
    } catch (e) {
      if (this.stopping.signal.aborted) {
        // Shutting down: give the row back at once rather than counting a failure.
        await runChange(this.db, () => this.store.markFailed(row.id, leaseBy, new Date().toISOString(), 'Stopped')).catch(() => undefined);
        return false;
      }
      const error = errorClass(e);
      const delay = retryDelay(row.attempts, this.settings);
      this.warn(`delivery failed (${error}, attempt ${row.attempts}); retrying in ${delay} ms`);
      await runChange(this.db, () => this.store.markFailed(row.id, leaseBy, new Date(Date.now() + delay).toISOString(), error));
      return false;
    }
    await runChange(this.db, () => this.store.markDelivered(row.id, new Date().toISOString()));
    return true;
  }

  /** postCareTeamMessage on messaging itself (not the gateway), as the pharmacy service. */
  private async post(row: OutboxRow): Promise<void> {
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.settings.requestTimeoutMs)]);
    const token = await this.tokens.get(this.stopping.signal);
    const res = await fetch(`${this.settings.messagingUrl}/graphql`, {
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
    if (typeof code === 'string' && TOKEN_REFUSED.has(code)) this.tokens.invalidate();
    throw new DeliveryError(typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code) ? `GraphQL ${code}` : `HTTP ${res.status}`);
  }

  private warn(message: string): void {
    if (process.env.PORTAL_QUIET !== '1') console.warn(`[pharmacy outbox] ${message}`);
  }
}
