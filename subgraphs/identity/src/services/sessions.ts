import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PortalConfig, SignInMethod, Viewer } from '@portal/kit';
import { closeRedis, openRedis } from '@portal/kit';
import { RedisSessions, SESSION_CACHE_MS, SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS, sessionEnded, type SessionGuard } from '@portal/kit';
import { IdentityStore } from '../db/store';

const IDLE_MS = SESSION_IDLE_SECONDS * 1000;
/** The idle limit is minutes long, so activity is written at most this often per session, not on every request. */
const WRITE_EVERY_MS = 30_000;

export interface OpenedSession {
  id: string;
  /** When the session ends if unused. */
  idleExpiresAt: Date;
}

interface Activity {
  accountId: string;
  /** This instance's last request of the session. */
  seen: number;
  /** When this instance last wrote `last_seen_at`. */
  written: number;
  /** Until when the table's "live" answer is trusted without reading it again. */
  liveUntil: number;
}

/**
 * The sessions identity opens at sign-in. With Redis (REDIS_URL) Redis is the
 * truth and every subgraph checks it directly. Without it the `session` table
 * is, and the other subgraphs ask identity. Activity is kept in memory and
 * written to `last_seen_at` at most every 30 s per session, and a live answer
 * is trusted for at most 5 s, like the other subgraphs do: a busy session
 * costs a read every few seconds and a write every 30, not one per request.
 * An end here is seen here at once, and by other instances within 5 s.
 */
export class SessionService implements SessionGuard {
  private readonly activity = new Map<string, Activity>();

  constructor(
    private readonly store: IdentityStore,
    private readonly redis: RedisSessions | null,
    private readonly clock: () => Date,
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {}

  async open(accountId: string, method: SignInMethod): Promise<OpenedSession> {
    const now = this.clock().getTime();
    const id = randomUUID();
    // The row is written with Redis too: it is the record of who signed in, how and when.
    await this.store.createSession({
      id,
      accountId,
      method,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + SESSION_MAX_SECONDS * 1000).toISOString(),
      endedAt: null,
      lastSeenAt: new Date(now).toISOString(),
    });
    if (this.redis) await this.redis.open(id, { accountId, method });
    return { id, idleExpiresAt: new Date(now + IDLE_MS) };
  }

  /** Refuses an ended or idle session, records this request as activity, and returns the new idle deadline. */
  async check(viewer: Viewer): Promise<Date> {
    const now = this.clock().getTime();
    const id = viewer.sessionId;
    if (this.redis) {
      const record = await this.redis.touch(id);
      if (!record || record.accountId !== viewer.accountId) throw sessionEnded();
      return new Date(now + IDLE_MS);
    }
    let mine = this.activity.get(id);
    if (mine && mine.accountId !== viewer.accountId) throw sessionEnded();
    if (!mine || mine.liveUntil <= now || now - mine.seen >= IDLE_MS) {
      const row = await this.store.sessionById(id);
      if (!row || row.accountId !== viewer.accountId || row.endedAt || Date.parse(row.expiresAt) <= now) {
        this.activity.delete(id);
        throw sessionEnded();
      }
      const lastSeen = Math.max(Date.parse(row.lastSeenAt ?? row.createdAt), mine?.seen ?? 0);
      if (now - lastSeen >= IDLE_MS) {
        this.activity.delete(id);
        await this.store.endSession(id, new Date(lastSeen + IDLE_MS));
        throw sessionEnded();
      }
      mine = { accountId: row.accountId, seen: lastSeen, written: mine?.written ?? 0, liveUntil: now + SESSION_CACHE_MS };
    }
    // Other instances see this instance's activity through the table, at most 30 s late.
    if (now - mine.written >= WRITE_EVERY_MS) {
      await this.store.touchSession(id, new Date(now));
      mine.written = now;
    }
    mine.seen = now;
    this.remember(id, mine);
    return new Date(now + IDLE_MS);
  }

  async end(viewer: Viewer): Promise<void> {
    await this.store.endSession(viewer.sessionId, this.clock());
    if (this.redis) await this.redis.end(viewer.sessionId, viewer.accountId);
    this.activity.delete(viewer.sessionId);
  }

  /** Ends every session of an account at once (deactivation). */
  async endAllOf(accountId: string): Promise<void> {
    await this.store.endSessionsOf(accountId, this.clock());
    if (this.redis) await this.redis.endAllOf(accountId);
    for (const [id, a] of this.activity) if (a.accountId === accountId) this.activity.delete(id);
  }

  close(): Promise<void> {
    return this.onClose();
  }

  private remember(id: string, activity: Activity): void {
    this.activity.set(id, activity);
    if (this.activity.size <= 10_000) return;
    for (const [key, value] of this.activity) if (activity.seen - value.seen >= IDLE_MS) this.activity.delete(key);
  }
}

/** Sessions where `config` keeps them: Redis when REDIS_URL is set, else the identity database. */
export function createSessionService(config: PortalConfig, db: DataSource, clock: () => Date = () => new Date()): SessionService {
  if (!config.redisUrl) return new SessionService(new IdentityStore(db), null, clock);
  const redis = openRedis(config.redisUrl);
  return new SessionService(new IdentityStore(db), new RedisSessions(redis, config.redisKeyPrefix ?? 'portal:'), clock, () => closeRedis(redis));
}

/** Opens a session outside a request, for test harnesses and development scripts. */
export async function openSession(config: PortalConfig, db: DataSource, accountId: string, method: SignInMethod): Promise<OpenedSession> {
  const sessions = createSessionService(config, db);
  try {
    return await sessions.open(accountId, method);
  } finally {
    await sessions.close();
  }
}
