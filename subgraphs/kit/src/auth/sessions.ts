import { DEFAULT_IDENTITY_TIMEOUT_MS, type PortalConfig } from '../config';
import { injectTraceHeaders } from '../tracing';
import { ErrorCode, PortalError } from '../errors';
import { postInternal } from '../internalHttp';
import { closeRedis, openRedis, type Redis } from './redis';
import type { Viewer } from './tokens';

/** A session ends after this long without a request. */
export const SESSION_IDLE_SECONDS = 15 * 60;
/**
 * A token's absolute lifetime. It can be long because the session, checked on
 * every request, enforces the idle limit and sign-out; the token alone never does.
 */
export const SESSION_MAX_SECONDS = 8 * 60 * 60;
/** How long a subgraph without Redis trusts identity's "still live" answer. */
export const SESSION_CACHE_MS = 5_000;

export const sessionEnded = () => new PortalError(ErrorCode.UNAUTHENTICATED, 'Your session has ended; sign in again.');
export const sessionsUnavailable = () =>
  new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'Your sign-in could not be checked right now. Try again shortly.');

/** Refuses a token whose session has ended, and keeps a live one alive. */
export interface SessionGuard {
  /** When the session ends if idle from now on; throws UNAUTHENTICATED when it has already ended. */
  check(viewer: Viewer): Promise<Date>;
  close(): Promise<void>;
}

export interface SessionRecord {
  accountId: string;
  method: string;
}

/**
 * Session state in Redis: one key per session whose TTL is the idle limit
 * (each request pushes it on with one GETEX), and one set per account so that
 * all of an account's sessions can be ended at once.
 */
export class RedisSessions {
  constructor(
    readonly redis: Redis,
    private readonly prefix: string,
    private readonly idleSeconds = SESSION_IDLE_SECONDS,
  ) {}

  private sessionKey = (sessionId: string) => `${this.prefix}session:${sessionId}`;
  private accountKey = (accountId: string) => `${this.prefix}account-sessions:${accountId}`;

  async open(sessionId: string, record: SessionRecord): Promise<void> {
    await this.run(
      this.redis
        .multi()
        .set(this.sessionKey(sessionId), JSON.stringify(record), 'EX', this.idleSeconds)
        .sadd(this.accountKey(record.accountId), sessionId)
        // The set outlives every session it names, and then goes by itself.
        .expire(this.accountKey(record.accountId), SESSION_MAX_SECONDS + this.idleSeconds),
    );
  }

  /** Reads the session and pushes its idle deadline on, in one round trip; null once it has ended. */
  async touch(sessionId: string): Promise<SessionRecord | null> {
    let raw: string | null;
    try {
      raw = await this.redis.getex(this.sessionKey(sessionId), 'EX', this.idleSeconds);
    } catch {
      throw sessionsUnavailable();
    }
    if (!raw) return null;
    try {
      return JSON.parse(raw) as SessionRecord;
    } catch {
      return null;
    }
  }

  async end(sessionId: string, accountId: string): Promise<void> {
    await this.run(this.redis.multi().del(this.sessionKey(sessionId)).srem(this.accountKey(accountId), sessionId));
  }

  async endAllOf(accountId: string): Promise<void> {
    let ids: string[];
    try {
      ids = await this.redis.smembers(this.accountKey(accountId));
    } catch {
      throw sessionsUnavailable();
    }
    await this.run(this.redis.multi().del(...ids.map(this.sessionKey), this.accountKey(accountId)));
  }

  private async run(tx: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<void> {
    const results = await tx.exec().catch(() => null);
    if (!results || results.some(([err]) => err)) throw sessionsUnavailable();
  }
}

/** Checks sessions straight in Redis: no cache, so an ended session is refused at once. */
export function redisSessionGuard(sessions: RedisSessions, close: () => Promise<void> = async () => undefined): SessionGuard {
  return {
    async check(viewer) {
      const record = await sessions.touch(viewer.sessionId);
      if (!record || record.accountId !== viewer.accountId) throw sessionEnded();
      return new Date(Date.now() + SESSION_IDLE_SECONDS * 1000);
    },
    close,
  };
}

/**
 * Asks identity (`POST /internal/sessions/check`, with the viewer's own token)
 * whether a session is live. A live answer is trusted for at most `cacheMs`,
 * so a session ended anywhere is refused here within seconds, and identity
 * still hears of activity often enough to keep a used session alive.
 */
export function remoteSessionGuard(identityUrl: string, cacheMs = SESSION_CACHE_MS, timeoutMs = DEFAULT_IDENTITY_TIMEOUT_MS): SessionGuard {
  const live = new Map<string, { until: number; expiresAt: Date }>();
  const inFlight = new Map<string, Promise<Date>>();

  const ask = async (viewer: Viewer, key: string): Promise<Date> => {
    const res = await postInternal(`${identityUrl}/internal/sessions/check`, injectTraceHeaders({ authorization: `Bearer ${viewer.token}` }), undefined, timeoutMs);
    // Only identity's own word ends a session: 401, or 200 without "active". Anything else (5xx,
    // a proxy's 404 or 429, no whole answer in time) says nothing about the session, so the token is not refused.
    if (!res || (res.status !== 200 && res.status !== 401)) throw sessionsUnavailable();
    const body = (await res.json().catch(() => ({}))) as { active?: unknown; expiresAt?: unknown };
    if (res.status !== 200 || body.active !== true || typeof body.expiresAt !== 'string') throw sessionEnded();
    const expiresAt = new Date(body.expiresAt);
    if (live.size > 10_000) {
      const now = Date.now();
      for (const [k, v] of live) if (v.until <= now) live.delete(k);
    }
    live.set(key, { until: Date.now() + cacheMs, expiresAt });
    return expiresAt;
  };

  return {
    async check(viewer) {
      const key = `${viewer.accountId}|${viewer.sessionId}`;
      const hit = live.get(key);
      if (hit && hit.until > Date.now()) return hit.expiresAt;
      // Parallel resolvers of one request (and parallel requests) share one question to identity.
      let pending = inFlight.get(key);
      if (!pending) {
        pending = ask(viewer, key).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
    close: async () => live.clear(),
  };
}

/** Redis when `REDIS_URL` is set, otherwise identity's answer; what every subgraph but identity and the gateway use. */
export function defaultSessionGuard(config: PortalConfig, identityUrl = config.identityUrl): SessionGuard {
  if (config.redisUrl) {
    const redis = openRedis(config.redisUrl);
    return redisSessionGuard(new RedisSessions(redis, config.redisKeyPrefix ?? 'portal:'), () => closeRedis(redis));
  }
  return remoteSessionGuard(identityUrl, SESSION_CACHE_MS, config.identityTimeoutMs ?? DEFAULT_IDENTITY_TIMEOUT_MS);
}
