import { HeaderMap } from '@apollo/server';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { closeRedis, openRedis, type Redis } from './auth/redis';
import { addressKey } from './clientAddress';
import { ErrorCode, PortalError } from './errors';
import { currentRequestScope } from './logging';
import { rateLimitRefusals } from './metrics';

/** At most `points` in any window of `seconds` (fixed windows, as rate-limiter-flexible counts). */
export interface LimitRule {
  points: number;
  seconds: number;
}

/** One limit per client address and one over all clients together; null is no limit. */
export interface RateLimitRule {
  perAddress: LimitRule | null;
  global: LimitRule | null;
}

/**
 * The limits and what they count:
 * - `signIn`: sign-in attempts, by DS Logon password or by card;
 * - `signInFailures`: failed password, card and identity checks (sign-in, account
 *   creation, PIV registration), so spraying one password over many usernames slows down;
 * - `challenge`: smart-card challenges issued;
 * - `account`: `createDsLogonAccount` and `registerPivCard` calls;
 * - `token`: `/oauth/token` requests;
 * - `recordDownload`: `GET /fhir/Patient/$everything`;
 * - `anonymous`: GraphQL requests without a token, at the gateway.
 */
export const RATE_LIMIT_NAMES = ['signIn', 'signInFailures', 'challenge', 'account', 'token', 'recordDownload', 'anonymous'] as const;
export type RateLimitName = (typeof RATE_LIMIT_NAMES)[number];
export type RateLimitSettings = Record<RateLimitName, RateLimitRule>;

const rule = (points: number, seconds: number, globalPoints: number, globalSeconds = seconds): RateLimitRule => ({
  perAddress: { points, seconds },
  global: { points: globalPoints, seconds: globalSeconds },
});

/**
 * Generous enough that a person using the portal (or a household, or an office
 * or a base behind one address) never meets them, and that the busiest test
 * file stays at a third of them or less (smart-card tests: 65 sign-ins, 59
 * challenges and 48 failures from 127.0.0.1 within a minute; account tests: 39
 * creations and registrations; record-download tests: 14 downloads). Low
 * enough that one client's flood is refused within seconds and a spray of one
 * password over many usernames is slowed from hundreds a minute to 200 per
 * 15 minutes. The global sign-in limit sits near what identity can hash: two
 * scrypt computations at a time, about 30 a second on two cores.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  signIn: rule(300, 60, 1_800),
  signInFailures: rule(200, 15 * 60, 10_000),
  challenge: rule(300, 60, 6_000),
  account: rule(200, 10 * 60, 1_200),
  token: rule(120, 60, 1_200),
  recordDownload: rule(60, 60, 600),
  anonymous: rule(1_200, 60, 60_000),
};

export const RATE_LIMIT_ENV: Record<RateLimitName, string> = {
  signIn: 'RATE_LIMIT_SIGN_IN',
  signInFailures: 'RATE_LIMIT_SIGN_IN_FAILURES',
  challenge: 'RATE_LIMIT_CHALLENGE',
  account: 'RATE_LIMIT_ACCOUNT',
  token: 'RATE_LIMIT_TOKEN',
  recordDownload: 'RATE_LIMIT_RECORD_DOWNLOAD',
  anonymous: 'RATE_LIMIT_ANONYMOUS',
};

function parseLimit(text: string, variable: string): LimitRule | null {
  if (text === 'off') return null;
  const m = /^(\d{1,9})\/(\d{1,7})s?$/.exec(text);
  if (!m || Number(m[2]) < 1) throw new Error(`${variable}: "${text}" is not <points>/<seconds> (e.g. 30/60) or off.`);
  return { points: Number(m[1]), seconds: Number(m[2]) };
}

/** `<per address>,<global>`, each `<points>/<seconds>` or `off`: `RATE_LIMIT_SIGN_IN=100/60,1500/60`. */
export function parseRateLimitRule(value: string, variable: string): RateLimitRule {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length !== 2) throw new Error(`${variable}: give two limits, per address and global, e.g. 100/60,1500/60 (either may be off).`);
  return { perAddress: parseLimit(parts[0], variable), global: parseLimit(parts[1], variable) };
}

/** The `RATE_LIMIT_*` settings that are set; the others take the defaults. */
export function readRateLimitSettings(env: NodeJS.ProcessEnv): Partial<RateLimitSettings> {
  const out: Partial<RateLimitSettings> = {};
  for (const name of RATE_LIMIT_NAMES) {
    const value = env[RATE_LIMIT_ENV[name]];
    if (value !== undefined && value.trim() !== '') out[name] = parseRateLimitRule(value.trim(), RATE_LIMIT_ENV[name]);
  }
  return out;
}

/** RATE_LIMITED with HTTP 429 and `Retry-After` (whole seconds, at least 1). */
export function rateLimited(msBeforeNext: number): PortalError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new PortalError(ErrorCode.RATE_LIMITED, `Too many requests: try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, {
    http: { status: 429, headers: new HeaderMap([['retry-after', String(seconds)]]) },
  });
}

/** SERVICE_UNAVAILABLE with HTTP 503 and `Retry-After`: the server, not this client, is over its capacity. */
export function serviceBusy(message: string, retryAfterSeconds: number): PortalError {
  return new PortalError(ErrorCode.SERVICE_UNAVAILABLE, message, {
    http: { status: 503, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
  });
}

/** The seconds of `Retry-After` a RATE_LIMITED error carries, for the HTTP routes outside GraphQL. */
export function retryAfterOf(error: PortalError): string {
  const http = error.extensions.http as { headers?: HeaderMap } | undefined;
  return http?.headers?.get('retry-after') ?? '1';
}

export interface RateLimitsOptions {
  settings?: Partial<RateLimitSettings>;
  /** Counts live in this Redis (shared by every instance) when set, in this process otherwise. */
  redisUrl?: string;
  /** Prefix of the Redis keys; a test world uses its own. */
  keyPrefix?: string;
}

interface Pair {
  perAddress: RateLimiterAbstract | null;
  global: RateLimiterAbstract | null;
}

/**
 * The process's rate limiters, per client address and global. With Redis the
 * counts are shared by every instance; when Redis cannot be reached each
 * limiter falls back at once to an in-memory one of the same limits (its
 * `insuranceLimiter`), so an outage makes the limits per instance rather than
 * making every sign-in fail or letting every request through. The Redis
 * connection is opened on first use, so a process that limits nothing never
 * opens one.
 */
export class RateLimits {
  readonly settings: RateLimitSettings;
  private redis: Redis | undefined;
  private connected: Promise<void> | undefined;
  private readonly pairs = new Map<RateLimitName, Pair>();

  constructor(private readonly options: RateLimitsOptions = {}) {
    this.settings = { ...DEFAULT_RATE_LIMITS, ...options.settings };
  }

  private limiter(name: RateLimitName, scope: 'a' | 'g', limit: LimitRule | null): RateLimiterAbstract | null {
    if (!limit) return null;
    const common = { points: limit.points, duration: limit.seconds, keyPrefix: `${this.options.keyPrefix ?? 'portal:'}rl:${name}:${scope}` };
    if (!this.options.redisUrl) return new RateLimiterMemory(common);
    return new RateLimiterRedis({ ...common, storeClient: this.redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(common) });
  }

  /** Opens Redis on first use and waits (2 s at most) for it, so the first requests are counted where every instance sees them. */
  private async connect(): Promise<void> {
    if (!this.options.redisUrl) return;
    this.connected ??= new Promise<void>((resolve) => {
      this.redis = openRedis(this.options.redisUrl!);
      const timer = setTimeout(resolve, 2_000);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // Ready, or refused: either way the limiters can start (on the insurance limiter while Redis is away).
      this.redis.once('ready', done);
      this.redis.once('error', done);
    });
    await this.connected;
  }

  private async pair(name: RateLimitName): Promise<Pair> {
    await this.connect();
    let pair = this.pairs.get(name);
    if (!pair) {
      const rule = this.settings[name];
      pair = { perAddress: this.limiter(name, 'a', rule.perAddress), global: this.limiter(name, 'g', rule.global) };
      this.pairs.set(name, pair);
    }
    return pair;
  }

  /**
   * Counts one request of `name` from `address`, and throws RATE_LIMITED when
   * the address or all clients together have spent the allowance. A request
   * refused per address is not counted globally, so one client cannot spend
   * everyone's allowance by itself.
   */
  async consume(name: RateLimitName, address: string): Promise<void> {
    const { perAddress, global } = await this.pair(name);
    await spend(name, perAddress, addressKey(address));
    await spend(name, global, 'all');
  }

  /** Throws RATE_LIMITED when `address` (or everyone) has spent the allowance of `name` already; counts nothing. */
  async check(name: RateLimitName, address: string): Promise<void> {
    const { perAddress, global } = await this.pair(name);
    for (const [limiter, key] of [[perAddress, addressKey(address)], [global, 'all']] as const) {
      if (!limiter) continue;
      const res = await limiter.get(key).catch(() => null);
      if (res && res.consumedPoints >= limiter.points) throw refused(name, res.msBeforeNext);
    }
  }

  /** Counts one against `name` without refusing anything: a failure whose reply is already decided. */
  async count(name: RateLimitName, address: string): Promise<void> {
    const { perAddress, global } = await this.pair(name);
    await Promise.all([perAddress?.penalty(addressKey(address)).catch(() => undefined), global?.penalty('all').catch(() => undefined)]);
  }

  async close(): Promise<void> {
    if (this.connected) await this.connected;
    if (this.redis) await closeRedis(this.redis);
  }
}

/** RATE_LIMITED, counted in portal_rate_limit_refusals_total under the request's service. */
function refused(name: RateLimitName, msBeforeNext: number): PortalError {
  rateLimitRefusals.inc({ service: currentRequestScope()?.service ?? 'other', limit: name });
  return rateLimited(msBeforeNext);
}

async function spend(name: RateLimitName, limiter: RateLimiterAbstract | null, key: string): Promise<void> {
  if (!limiter) return;
  try {
    await limiter.consume(key);
  } catch (e) {
    if (e instanceof RateLimiterRes) throw refused(name, e.msBeforeNext);
    // Neither Redis nor the insurance limiter answered: refuse rather than let an unbounded flood through.
    throw serviceBusy('This request could not be checked right now. Try again shortly.', 5);
  }
}
