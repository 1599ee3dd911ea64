import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { DEFAULT_IDENTITY_TIMEOUT_MS, DEFAULT_TOKEN_CACHE, type TokenCacheSettings } from '../config';
import { ErrorCode, PortalError } from '../errors';
import { logger } from '../logging';
import { injectTraceHeaders } from '../tracing';

export const TOKEN_ISSUER = 'urn:patient-portal:identity';
export const TOKEN_AUDIENCE = 'urn:patient-portal:graph';
/** Only asymmetric algorithms: a token verifier must never accept `none` or an HMAC. */
export const TOKEN_ALGORITHMS = ['ES256', 'EdDSA'];
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/**
 * The JOSE `typ` of every token identity signs, users' and services' alike
 * (RFC 9068): a verifier refuses any other, so a JWT minted for another purpose
 * with the same key (an ID token, say) can never pass as an access token.
 */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/**
 * How far apart the signer's and a verifier's clocks may be, for `exp`, `iat`
 * and `nbf`: small, because a token that expired is only honoured this much
 * longer, and clocks on NTP agree within a second.
 */
export const CLOCK_TOLERANCE_SECONDS = 30;
/** No token identity signs lives longer than a session's absolute end (8 hours): an older `iat`, or one in the future, is not ours. */
const MAX_TOKEN_AGE_SECONDS = 8 * 60 * 60;

export type Role = 'PATIENT' | 'PRACTITIONER' | 'PHARMACIST' | 'ADMIN' | 'SERVICE';
export type SignInMethod = 'DS_LOGON' | 'CAC' | 'PIV' | 'SERVICE';

/** Who is calling, as proven by a verified access token. */
export interface Viewer {
  accountId: string;
  /** The patient or practitioner this account belongs to. */
  personId: string;
  role: Role;
  method: SignInMethod;
  sessionId: string;
  careTeamIds: string[];
  scopes: string[];
  /** When the token itself expires (the session's absolute end). */
  expiresAt: Date;
  /** When the session ends if no further request comes; set once the session was checked. */
  sessionExpiresAt?: Date;
  token: string;
}

export interface SigningKey {
  privateKey: KeyObject;
  alg: 'ES256' | 'EdDSA';
  kid: string;
  publicJwk: JWK;
}

/**
 * Loads the token signing key from `file`, or (development only) generates a
 * P-256 key into `DATA_DIR/keys` on first start.
 */
export async function loadSigningKey(options: { file?: string; dataDir: string; production: boolean }): Promise<SigningKey> {
  let pem: string;
  if (options.file) {
    pem = fs.readFileSync(options.file, 'utf8');
  } else {
    if (options.production) throw new Error('TOKEN_SIGNING_KEY_FILE is required in production.');
    const file = path.join(options.dataDir, 'keys', 'token-signing-key.pem');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      // wx: two processes starting at once must not overwrite each other's key.
      try {
        fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    pem = fs.readFileSync(file, 'utf8');
  }
  return signingKeyFromPem(pem);
}

export async function signingKeyFromPem(pem: string): Promise<SigningKey> {
  const { createPrivateKey } = await import('node:crypto');
  const privateKey = createPrivateKey(pem);
  let alg: SigningKey['alg'];
  if (privateKey.asymmetricKeyType === 'ed25519') alg = 'EdDSA';
  else if (privateKey.asymmetricKeyType === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
  else throw new Error('The token signing key must be P-256 or Ed25519.');
  const publicJwk = await exportJWK(createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(publicJwk);
  return { privateKey, alg, kid, publicJwk: { ...publicJwk, kid, alg, use: 'sig' } };
}

/**
 * The public half of a key, as the JWKS publishes it: rotated-out keys keep
 * verifying the tokens they signed. Takes a private or a public PEM.
 */
export async function publicJwkFromPem(pem: string): Promise<JWK> {
  const publicKey = createPublicKey(pem);
  let alg: SigningKey['alg'];
  if (publicKey.asymmetricKeyType === 'ed25519') alg = 'EdDSA';
  else if (publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
  else throw new Error('A token signing key must be P-256 or Ed25519.');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg, use: 'sig' };
}

export interface TokenClaims {
  accountId: string;
  personId: string;
  role: Role;
  method: SignInMethod;
  sessionId: string;
  careTeamIds?: string[];
  scopes?: string[];
}

export async function signAccessToken(
  key: SigningKey,
  claims: TokenClaims,
  ttlSeconds = ACCESS_TOKEN_TTL_SECONDS,
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttlSeconds;
  const token = await new SignJWT({
    pid: claims.personId,
    role: claims.role,
    amr: claims.method,
    sid: claims.sessionId,
    teams: claims.careTeamIds ?? [],
    scope: (claims.scopes ?? []).join(' '),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(claims.accountId)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(key.privateKey);
  return { token, expiresAt: new Date(exp * 1000) };
}

/** A token could not be checked for lack of identity's keys: identity is down, not the token bad. */
class KeysUnavailable extends Error {
  override name = 'KeysUnavailable';
}

export interface RemoteJwksOptions {
  jwksUrl: string;
  /** How long one fetch of the JWKS may take (IDENTITY_TIMEOUT_MS). */
  timeoutMs?: number;
  /** How long fetched keys are used before they are fetched again. */
  cacheMaxAgeMs?: number;
  /** A token naming a key not in the set fetches the set again at most this often. */
  cooldownMs?: number;
  /** After a failed fetch, how long the keys already held are used without asking again. */
  retryAfterFailureMs?: number;
}

/**
 * Identity's JWKS, fetched and cached. Unlike jose's remote set, a failed
 * refresh keeps the last good keys (identity being down is not a reason to
 * refuse tokens it signed before), and a token that cannot be checked for lack
 * of keys fails with KeysUnavailable, never as an invalid token.
 */
class RemoteKeySet {
  private keys?: JWTVerifyGetKey;
  private fetchedAt = 0;
  private failedAt = 0;
  private fetching?: Promise<boolean>;
  private readonly timeoutMs: number;
  private readonly cacheMaxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly retryAfterFailureMs: number;

  constructor(private readonly options: RemoteJwksOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_IDENTITY_TIMEOUT_MS;
    this.cacheMaxAgeMs = options.cacheMaxAgeMs ?? 10 * 60_000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 5_000;
  }

  /** jose's key lookup: the matching key of the set, refreshed when stale or when the token names an unknown key. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = Date.now();
    if (!this.keys || now - this.fetchedAt > this.cacheMaxAgeMs) {
      if (this.mayAsk(now)) await this.refresh();
      if (!this.keys) throw new KeysUnavailable();
    }
    try {
      return await this.keys(header, token);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw e;
      // Perhaps a key added at a rotation since the last fetch: ask again, unless asked just now.
      if (Date.now() - this.fetchedAt >= this.cooldownMs && this.mayAsk(Date.now())) await this.refresh();
      // The last question went unanswered: whether this key is identity's cannot be told.
      if (this.failedAt > this.fetchedAt) throw new KeysUnavailable();
      return this.keys(header, token);
    }
  };

  private mayAsk(now: number): boolean {
    return this.failedAt <= this.fetchedAt || now - this.failedAt >= this.retryAfterFailureMs;
  }

  /** Fetches the set once for every caller waiting; true when fresh keys came. */
  private refresh(): Promise<boolean> {
    this.fetching ??= this.fetchKeys().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  private async fetchKeys(): Promise<boolean> {
    try {
      const res = await fetch(this.options.jwksUrl, { signal: AbortSignal.timeout(this.timeoutMs), headers: injectTraceHeaders({ accept: 'application/json' }) });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      const body = (await res.json()) as { keys?: unknown };
      if (!Array.isArray(body?.keys)) throw new Error('no keys');
      this.keys = createLocalJWKSet(body as { keys: JWK[] });
      this.fetchedAt = Date.now();
      if (this.failedAt && process.env.PORTAL_QUIET !== '1') logger.warn("[auth] identity's JWKS fetched again");
      this.failedAt = 0;
      return true;
    } catch (e) {
      if (this.failedAt <= this.fetchedAt && process.env.PORTAL_QUIET !== '1') {
        logger.warn(`[auth] identity's JWKS could not be fetched (${(e as Error).name}): ${this.keys ? 'verifying with the keys fetched before' : 'tokens answer SERVICE_UNAVAILABLE'}`);
      }
      this.failedAt = Date.now();
      return false;
    }
  }
}

const ROLES: ReadonlySet<string> = new Set(['PATIENT', 'PRACTITIONER', 'PHARMACIST', 'ADMIN', 'SERVICE']);
const METHODS: ReadonlySet<string> = new Set(['DS_LOGON', 'CAC', 'PIV', 'SERVICE']);

/** A verified token's claims, as the cache keeps them; `until` is when the entry stops being believed (epoch ms). */
interface Verified {
  until: number;
  viewer: Viewer;
}

/**
 * Tokens verified before, keyed by the whole token string (a token differing
 * in any byte is verified afresh), least recently used first out. An entry
 * lasts at most `ttlMs` and never past the token's `exp` (nor its maximum
 * age): the clock tolerance a fresh verification grants is not extended to
 * cached ones. A token that failed verification is never kept.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, Verified>();

  constructor(private readonly settings: TokenCacheSettings) {}

  get(token: string, now: number): Viewer | undefined {
    const hit = this.entries.get(token);
    if (!hit) return undefined;
    this.entries.delete(token);
    if (hit.until <= now) return undefined;
    this.entries.set(token, hit); // most recently used last
    return hit.viewer;
  }

  set(token: string, viewer: Viewer, issuedAtSeconds: number, now: number): void {
    if (this.settings.size <= 0 || this.settings.ttlMs <= 0) return;
    const until = Math.min(now + this.settings.ttlMs, viewer.expiresAt.getTime(), (issuedAtSeconds + MAX_TOKEN_AGE_SECONDS) * 1000);
    if (until <= now) return;
    this.entries.delete(token);
    this.entries.set(token, { until, viewer });
    while (this.entries.size > this.settings.size) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Each caller gets a Viewer of its own: callers set `sessionExpiresAt` on theirs. */
const copyOf = (v: Viewer): Viewer => ({ ...v, careTeamIds: [...v.careTeamIds], scopes: [...v.scopes], expiresAt: new Date(v.expiresAt.getTime()) });

/**
 * Checks signature (against a JWKS), `typ`, issuer, audience, expiry (within
 * the clock tolerance) and algorithm of an access token. Tokens it verified
 * are remembered (see VerifiedTokens) so a token used again within
 * `cache.ttlMs` costs a map lookup instead of a signature check; whether its
 * session is still live is not this class's question, and callers ask it on
 * every request (sessions.ts).
 */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly cache: VerifiedTokens;
  /** Verifications answered from the cache, and those that checked the signature. */
  readonly cacheStats = { hits: 0, misses: 0 };

  constructor(source: (RemoteJwksOptions | { jwks: { keys: JWK[] } }) & { cache?: TokenCacheSettings }) {
    this.keys = 'jwksUrl' in source ? new RemoteKeySet(source).getKey : createLocalJWKSet(source.jwks);
    this.cache = new VerifiedTokens(source.cache ?? DEFAULT_TOKEN_CACHE);
  }

  /** How many verified tokens are remembered now. */
  get cachedTokens(): number {
    return this.cache.size;
  }

  /** Returns null when no credentials were sent; throws UNAUTHENTICATED for bad ones. */
  async fromAuthorizationHeader(header: string | undefined | null): Promise<Viewer | null> {
    if (!header) return null;
    const match = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+)$/.exec(header.trim());
    if (!match) throw new PortalError(ErrorCode.UNAUTHENTICATED, 'The Authorization header must be "Bearer <access token>".');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Viewer> {
    const now = Date.now();
    const cached = this.cache.get(token, now);
    if (cached) {
      this.cacheStats.hits++;
      return copyOf(cached);
    }
    this.cacheStats.misses++;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithms: TOKEN_ALGORITHMS,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'sid'],
      }));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new PortalError(ErrorCode.UNAUTHENTICATED, 'Your session has expired. Sign in again.');
      if (e instanceof KeysUnavailable) throw new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'Sign-in could not be checked right now. Try again shortly.');
      throw new PortalError(ErrorCode.UNAUTHENTICATED, 'The access token is not valid. Sign in again.');
    }
    const role = String(payload.role);
    const method = String(payload.amr);
    if (!ROLES.has(role) || !METHODS.has(method) || typeof payload.pid !== 'string') {
      throw new PortalError(ErrorCode.UNAUTHENTICATED, 'The access token is not valid. Sign in again.');
    }
    const viewer: Viewer = {
      accountId: String(payload.sub),
      personId: payload.pid,
      role: role as Role,
      method: method as SignInMethod,
      sessionId: String(payload.sid),
      careTeamIds: Array.isArray(payload.teams) ? payload.teams.map(String) : [],
      scopes: typeof payload.scope === 'string' && payload.scope ? payload.scope.split(' ') : [],
      expiresAt: new Date((payload.exp as number) * 1000),
      token,
    };
    this.cache.set(token, copyOf(viewer), payload.iat as number, now);
    return viewer;
  }
}
