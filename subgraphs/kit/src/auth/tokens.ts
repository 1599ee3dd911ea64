import fs from 'node:fs';
import path from 'node:path';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { ErrorCode, PortalError } from '../errors';

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

/**
 * Whether verification failed because identity's JWKS could not be fetched, not
 * because of the token: jose's timeout, its generic error (raised only for a
 * non-200 or non-JSON JWKS answer), or Node's own error for the connection
 * (ECONNREFUSED, ECONNRESET, ENOTFOUND...). Such a failure must not tell the
 * user to sign in again.
 */
function jwksUnreachable(code: string | undefined): boolean {
  return code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC' || /^E[A-Z]+$/.test(code ?? '');
}

const ROLES: ReadonlySet<string> = new Set(['PATIENT', 'PRACTITIONER', 'PHARMACIST', 'ADMIN', 'SERVICE']);
const METHODS: ReadonlySet<string> = new Set(['DS_LOGON', 'CAC', 'PIV', 'SERVICE']);

/** Checks signature (against a JWKS), `typ`, issuer, audience, expiry (within the clock tolerance) and algorithm of an access token. */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(source: { jwksUrl: string } | { jwks: { keys: JWK[] } }) {
    this.keys =
      'jwksUrl' in source
        ? createRemoteJWKSet(new URL(source.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000, timeoutDuration: 5_000 })
        : createLocalJWKSet(source.jwks);
  }

  /** Returns null when no credentials were sent; throws UNAUTHENTICATED for bad ones. */
  async fromAuthorizationHeader(header: string | undefined | null): Promise<Viewer | null> {
    if (!header) return null;
    const match = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+)$/.exec(header.trim());
    if (!match) throw new PortalError(ErrorCode.UNAUTHENTICATED, 'The Authorization header must be "Bearer <access token>".');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Viewer> {
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
      if (jwksUnreachable(code)) throw new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'Sign-in could not be checked right now. Try again shortly.');
      throw new PortalError(ErrorCode.UNAUTHENTICATED, 'The access token is not valid. Sign in again.');
    }
    const role = String(payload.role);
    const method = String(payload.amr);
    if (!ROLES.has(role) || !METHODS.has(method) || typeof payload.pid !== 'string') {
      throw new PortalError(ErrorCode.UNAUTHENTICATED, 'The access token is not valid. Sign in again.');
    }
    return {
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
  }
}
