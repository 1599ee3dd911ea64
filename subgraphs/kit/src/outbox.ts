import { randomUUID } from 'node:crypto';
import { In, type DataSource, type EntitySchema } from 'typeorm';
import { parseSettings } from './settings';
import { execute, isPostgres, placeholders, sql } from './sql';
import { asBackground } from './subgraph';
import { runChange } from './writes';
import { logger } from './logging';
import { registerOutbox } from './metrics';

/**
 * The transactional outbox every subgraph that tells another service of a
 * change uses (pharmacy's renewal decisions, identity's credential notices):
 * rows stored in the change's transaction, then delivered by a worker in every
 * instance. Rows are claimed with a lease renewed before each row is sent, so
 * instances never send one row at the same time; transient failures are
 * retried for ever with a doubling delay; a refusal that will never turn into
 * success is retried a bounded number of times, then the row is dead (kept,
 * logged once, counted); delivered and dead rows are purged after a retention
 * period.
 */

/** How a subgraph's outbox table names the columns the worker needs. */
export interface OutboxTable<R extends OutboxRowBase> {
  entity: EntitySchema<R>;
  /** Table name, a constant of the subgraph (never user input: it is spliced into SQL). */
  name: string;
  /** Columns holding the lease: who holds the row, and until when. */
  leaseBy: string;
  leaseUntil: string;
}

/** The columns every outbox table has, with these names (the lease columns are named by the table). */
export interface OutboxRowBase {
  id: string;
  createdAt: string;
  /** Delivery attempts started (a claim counts as one). */
  attempts: number;
  /** Attempts answered with a permanent refusal (see `PERMANENT_CODES`). */
  refusals: number;
  nextAttemptAt: string;
  deliveredAt: string | null;
  /** Set when the row gave up after `maxRefusals` permanent refusals; never tried again. */
  deadAt: string | null;
  /** The class of the last failure (`HTTP 503`, `GraphQL BAD_USER_INPUT`, `NetworkError`); never a response body. */
  lastError: string | null;
}

export interface OutboxSettings {
  /** How often the worker looks for due rows besides being kicked after each change. */
  pollMs: number;
  /** Delay after the first failed attempt; doubles with every further failure, up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a claimed row stays with one worker before another may take it; renewed before each row is sent. */
  leaseMs: number;
  /** Rows claimed at once. */
  batchSize: number;
  /** How long one call to another service may take. */
  requestTimeoutMs: number;
  /** Permanent refusals after which a row is dead (OUTBOX_MAX_REFUSALS). */
  maxRefusals: number;
  /** Delivered and dead rows older than this are deleted (OUTBOX_RETENTION_HOURS). */
  retentionHours: number;
  /** How often a worker purges. */
  purgeEveryMs: number;
}

export const OUTBOX_DEFAULTS: OutboxSettings = {
  pollMs: 2_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  leaseMs: 30_000,
  batchSize: 20,
  requestTimeoutMs: 10_000,
  maxRefusals: 10,
  retentionHours: 168,
  purgeEveryMs: 3_600_000,
};

/** Defaults, then `options` where they are not undefined. */
export function outboxSettings(options: Partial<OutboxSettings>): OutboxSettings {
  const given = Object.fromEntries(Object.entries(options).filter(([k, v]) => k in OUTBOX_DEFAULTS && v !== undefined));
  return { ...OUTBOX_DEFAULTS, ...given };
}

/**
 * OUTBOX_MAX_REFUSALS (1 to 1000) and OUTBOX_RETENTION_HOURS (1 to 87600), the
 * settings every outbox of a process shares; each undefined when unset.
 */
export function readOutboxLimits(env: NodeJS.ProcessEnv = process.env): Pick<Partial<OutboxSettings>, 'maxRefusals' | 'retentionHours'> {
  const s = parseSettings(env, ['OUTBOX_MAX_REFUSALS', 'OUTBOX_RETENTION_HOURS']);
  return { maxRefusals: s.OUTBOX_MAX_REFUSALS, retentionHours: s.OUTBOX_RETENTION_HOURS };
}

/** Milliseconds to wait after the `attempts`-th failed attempt: base, 2 x base, 4 x base, ... capped. */
export function retryDelay(attempts: number, s: Pick<OutboxSettings, 'retryBaseMs' | 'retryMaxMs'>): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  return Math.min(s.retryMaxMs, s.retryBaseMs * 2 ** exponent);
}

// ---------------------------------------------------------------- failures

/**
 * GraphQL codes with which the receiving service says "this row will never be
 * accepted as it is": bad input, not allowed, no such patient or team, the key
 * already used for another message, a document it cannot run. UNAUTHENTICATED
 * is not one (a fresh token may do), nor INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE
 * or RATE_LIMITED.
 */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'BAD_USER_INPUT',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
]);

/** HTTP statuses of the 4xx class that are worth trying again: 401 (token), 408 (timeout), 425 (too early), 429 (rate limit). */
const TRANSIENT_4XX = new Set([401, 408, 425, 429]);

/** A failed delivery step, named by its class only (never a response body, which could echo health data). */
export class DeliveryError extends Error {
  constructor(
    readonly kind: string,
    /** Retrying will not help: counted toward `maxRefusals`. */
    readonly permanent = false,
  ) {
    super(kind);
    this.name = 'DeliveryError';
  }
}

/**
 * The failure of a service's answer that did not accept the row: its GraphQL
 * code when it sent one (permanent when in `PERMANENT_CODES`), else its HTTP
 * status (permanent for a 4xx other than 401, 408, 425 and 429).
 */
export function refusal(status: number, code: unknown): DeliveryError {
  if (typeof code === 'string' && /^[A-Z_]{1,40}$/.test(code)) return new DeliveryError(`GraphQL ${code}`, PERMANENT_CODES.has(code));
  return new DeliveryError(`HTTP ${status}`, status >= 400 && status < 500 && !TRANSIENT_4XX.has(status));
}

/** The class of any error thrown while delivering, for `last_error` and the log; anything not a DeliveryError is transient. */
export function deliveryFailure(e: unknown): { kind: string; permanent: boolean } {
  if (e instanceof DeliveryError) return { kind: e.kind, permanent: e.permanent };
  const name = (e as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'Timeout', permanent: false };
  // fetch rejects with a TypeError when the connection is refused or reset (by name: it may come from another realm).
  if (name === 'TypeError' && (e as Error).message === 'fetch failed') return { kind: 'NetworkError', permanent: false };
  return { kind: typeof name === 'string' && /^[A-Za-z]{1,40}$/.test(name) ? name : 'Error', permanent: false };
}

// ---------------------------------------------------------------- storage

export interface OutboxCounts {
  /** Not delivered and not dead: waiting for a first or a further attempt. */
  pending: number;
  dead: number;
  /** Delivered and not yet purged. */
  delivered: number;
  /** created_at of the oldest pending row, or null. */
  oldestPendingAt: string | null;
}

/** Every statement of the outbox on one table. */
export class OutboxQueue<R extends OutboxRowBase> {
  constructor(
    private readonly db: DataSource,
    private readonly table: OutboxTable<R>,
  ) {}

  /**
   * Claims up to `limit` rows that are due, neither delivered nor dead, and
   * not leased, for `lease.by` until `lease.until`, counting the attempt.
   * PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED in a short transaction;
   * SQLite: one UPDATE (the caller serialises it through runChange). Oldest
   * first: by next attempt, then creation; rows tied on both (the same
   * millisecond) come in id order, which is random, so no caller may rely on it.
   */
  async claim(now: string, lease: { by: string; until: string }, limit: number): Promise<R[]> {
    const { name, leaseBy, leaseUntil } = this.table;
    const due = `delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1 AND (${leaseUntil} IS NULL OR ${leaseUntil} <= $1)`;
    const order = 'ORDER BY next_attempt_at, created_at, id';
    const take = (until: number, by: number) => `${leaseUntil} = $${until}, ${leaseBy} = $${by}, attempts = attempts + 1`;
    let ids: string[];
    if (isPostgres(this.db)) {
      ids = await this.db.transaction(async (tx) => {
        const rows = await sql<{ id: string }>(tx, `SELECT id FROM ${name} WHERE ${due} ${order} LIMIT $2 FOR UPDATE SKIP LOCKED`, [now, limit]);
        if (rows.length === 0) return [];
        const found = rows.map((r) => r.id);
        await execute(tx, `UPDATE ${name} SET ${take(1, 2)} WHERE id IN (${placeholders(found.length, 3)})`, [lease.until, lease.by, ...found]);
        return found;
      });
    } else {
      const claimed = await execute(this.db, `UPDATE ${name} SET ${take(2, 3)} WHERE id IN (SELECT id FROM ${name} WHERE ${due} ${order} LIMIT $4)`, [now, lease.until, lease.by, limit]);
      if (claimed === 0) return [];
      ids = (await sql<{ id: string }>(this.db, `SELECT id FROM ${name} WHERE ${leaseBy} = $1 AND delivered_at IS NULL AND dead_at IS NULL`, [lease.by])).map((r) => r.id);
    }
    if (ids.length === 0) return [];
    return this.db.getRepository(this.table.entity).find({ where: { id: In(ids) } as never, order: { nextAttemptAt: 'ASC', createdAt: 'ASC', id: 'ASC' } as never });
  }

  /**
   * Extends the lease `by` holds on every row of its claim still to send
   * (`ids`) to `until`; returns the ids it still holds (a row whose lease lapsed may
   * have been claimed by another worker meanwhile: it is no longer this one's).
   */
  async renew(by: string, until: string, ids: string[]): Promise<Set<string>> {
    const { name, leaseBy, leaseUntil } = this.table;
    if (ids.length === 0) return new Set();
    const held = (first: number) => `${leaseBy} = $1 AND delivered_at IS NULL AND dead_at IS NULL AND id IN (${placeholders(ids.length, first)})`;
    const renewed = await execute(this.db, `UPDATE ${name} SET ${leaseUntil} = $2 WHERE ${held(3)}`, [by, until, ...ids]);
    // The usual case: every row the worker has yet to send is still its own, and the count says so without a second statement.
    if (renewed === ids.length) return new Set(ids);
    return new Set((await sql<{ id: string }>(this.db, `SELECT id FROM ${name} WHERE ${held(2)}`, [by, ...ids])).map((r) => r.id));
  }

  /** Delivered is final, whoever holds the lease: the receiver answered for this row's idempotency key. */
  async delivered(id: string, at: string): Promise<void> {
    const { name, leaseBy, leaseUntil } = this.table;
    await execute(this.db, `UPDATE ${name} SET delivered_at = $2, ${leaseUntil} = NULL, ${leaseBy} = NULL, last_error = NULL WHERE id = $1 AND delivered_at IS NULL`, [id, at]);
  }

  /** Releases a failed row for another attempt at `nextAttemptAt`, unless the lease passed to someone else meanwhile. */
  async failed(id: string, by: string, nextAttemptAt: string, error: string, refusals: number): Promise<void> {
    const { name, leaseBy, leaseUntil } = this.table;
    await execute(
      this.db,
      `UPDATE ${name} SET next_attempt_at = $3, last_error = $4, refusals = $5, ${leaseUntil} = NULL, ${leaseBy} = NULL
       WHERE id = $1 AND ${leaseBy} = $2 AND delivered_at IS NULL`,
      [id, by, nextAttemptAt, error.slice(0, 64), refusals],
    );
  }

  /** Gives up on a row for good; true when this call did (so it is logged once). */
  async dead(id: string, by: string, at: string, error: string, refusals: number): Promise<boolean> {
    const { name, leaseBy, leaseUntil } = this.table;
    const changed = await execute(
      this.db,
      `UPDATE ${name} SET dead_at = $3, last_error = $4, refusals = $5, ${leaseUntil} = NULL, ${leaseBy} = NULL
       WHERE id = $1 AND ${leaseBy} = $2 AND delivered_at IS NULL AND dead_at IS NULL`,
      [id, by, at, error.slice(0, 64), refusals],
    );
    return changed === 1;
  }

  /** Deletes delivered rows delivered before `before`, and dead rows that died before it; returns how many. */
  purge(before: string): Promise<number> {
    return execute(this.db, `DELETE FROM ${this.table.name} WHERE delivered_at < $1 OR dead_at < $1`, [before]);
  }

  async counts(): Promise<OutboxCounts> {
    const [row] = await sql<Record<string, unknown>>(
      this.db,
      `SELECT SUM(CASE WHEN delivered_at IS NULL AND dead_at IS NULL THEN 1 ELSE 0 END) AS pending,
              SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END) AS dead,
              SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered,
              MIN(CASE WHEN delivered_at IS NULL AND dead_at IS NULL THEN created_at END) AS oldest
         FROM ${this.table.name}`,
    );
    return {
      pending: Number(row?.pending ?? 0),
      dead: Number(row?.dead ?? 0),
      delivered: Number(row?.delivered ?? 0),
      oldestPendingAt: typeof row?.oldest === 'string' ? row.oldest : null,
    };
  }
}

// ---------------------------------------------------------------- the worker

export interface OutboxDelivery<R extends OutboxRowBase> {
  /** Names the worker in its log lines, e.g. "pharmacy outbox". */
  name: string;
  table: OutboxTable<R>;
  settings: OutboxSettings;
  /**
   * Sends one row; resolves once the receiver accepted it. Throws a
   * DeliveryError (`refusal(...)` for an answer) otherwise; any other error
   * counts as transient. `signal` aborts when the worker stops.
   */
  send(row: R, signal: AbortSignal): Promise<void>;
  /** False while the worker cannot send at all (identity: messaging's address not known yet); nothing is claimed. */
  canSend?(): boolean;
  /** Where log lines go; logger.warn unless PORTAL_QUIET=1. They carry row ids, error classes and counts, never a row's content. */
  log?(line: string): void;
}

/**
 * Delivers one outbox table: runs in every instance, kicked after each change
 * and polling besides; its statements are background work (kit asBackground).
 */
export class OutboxRunner<R extends OutboxRowBase> {
  readonly queue: OutboxQueue<R>;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private lastPurge = 0;

  constructor(
    private readonly db: DataSource,
    private readonly delivery: OutboxDelivery<R>,
  ) {
    this.queue = new OutboxQueue(db, delivery.table);
  }

  private unregister: (() => void) | undefined;

  /** Delivers what is due now, then every `pollMs`; its backlog and dead letters are reported as metrics meanwhile. */
  start(): void {
    this.unregister ??= registerOutbox(this.delivery.table.name, () => asBackground(() => this.counts()));
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

  /** Stops polling and waits for the delivery in progress (its HTTP calls are aborted, its row given back). */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    this.unregister?.();
    await this.running;
  }

  /** Pending, dead and delivered rows, for operators. */
  counts(): Promise<OutboxCounts> {
    return this.queue.counts();
  }

  /**
   * Deletes delivered and dead rows older than the retention period; returns
   * how many. While dead rows remain, says how many (once per purge, hourly),
   * so a dead letter is not only in the log line of the moment it died.
   */
  async purge(now = new Date()): Promise<number> {
    this.lastPurge = now.getTime();
    const before = new Date(now.getTime() - this.settings.retentionHours * 3_600_000).toISOString();
    const purged = await runChange(this.db, () => this.queue.purge(before));
    if (purged > 0) this.log(`purged ${purged} delivered or dead rows older than ${this.settings.retentionHours} h`);
    const { dead, pending } = await this.queue.counts();
    if (dead > 0) this.log(`${dead} dead rows (never to be tried again) and ${pending} pending`);
    return purged;
  }

  /** One pass: purges when due, then claims and delivers due rows until none is left. Returns how many were delivered. */
  async tick(): Promise<number> {
    if (Date.now() - this.lastPurge >= this.settings.purgeEveryMs) await this.purge();
    if (this.delivery.canSend && !this.delivery.canSend()) return 0;
    let delivered = 0;
    for (;;) {
      if (this.stopping.signal.aborted) return delivered;
      const by = randomUUID();
      const rows = await runChange(this.db, () => this.queue.claim(new Date().toISOString(), { by, until: this.leaseEnd() }, this.settings.batchSize));
      for (const [i, row] of rows.entries()) {
        // Renewed before each row, so a long batch keeps the rest of its rows; a row lost meanwhile is another worker's now.
        const held = await runChange(this.db, () => this.queue.renew(by, this.leaseEnd(), rows.slice(i).map((r) => r.id)));
        if (held.has(row.id) && (await this.deliver(row, by))) delivered++;
      }
      if (rows.length < this.settings.batchSize) return delivered;
    }
  }

  private get settings(): OutboxSettings {
    return this.delivery.settings;
  }

  private leaseEnd(): string {
    return new Date(Date.now() + this.settings.leaseMs).toISOString();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.tick().catch((e: unknown) => this.log(`pass failed (${deliveryFailure(e).kind})`));
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

  private async deliver(row: R, by: string): Promise<boolean> {
    try {
      await this.delivery.send(row, this.stopping.signal);
    } catch (e) {
      await this.failed(row, by, e);
      return false;
    }
    await runChange(this.db, () => this.queue.delivered(row.id, new Date().toISOString()));
    return true;
  }

  private async failed(row: R, by: string, e: unknown): Promise<void> {
    const now = new Date();
    if (this.stopping.signal.aborted) {
      // Shutting down: give the row back at once rather than counting a failure.
      await runChange(this.db, () => this.queue.failed(row.id, by, now.toISOString(), 'Stopped', row.refusals)).catch(() => undefined);
      return;
    }
    const { kind, permanent } = deliveryFailure(e);
    const refusals = row.refusals + (permanent ? 1 : 0);
    if (permanent && refusals >= this.settings.maxRefusals) {
      if (await runChange(this.db, () => this.queue.dead(row.id, by, now.toISOString(), kind, refusals))) {
        this.log(`row ${row.id} is dead: refused (${kind}) ${refusals} times in ${row.attempts} attempts; it will not be tried again`);
      }
      return;
    }
    const delay = retryDelay(row.attempts, this.settings);
    this.log(`delivery of row ${row.id} failed (${kind}${permanent ? `, refusal ${refusals} of ${this.settings.maxRefusals}` : ''}, attempt ${row.attempts}); retrying in ${delay} ms`);
    await runChange(this.db, () => this.queue.failed(row.id, by, new Date(now.getTime() + delay).toISOString(), kind, refusals));
  }

  private log(line: string): void {
    if (this.delivery.log) this.delivery.log(line);
    else if (process.env.PORTAL_QUIET !== '1') logger.warn(`[${this.delivery.name}] ${line}`);
  }
}
