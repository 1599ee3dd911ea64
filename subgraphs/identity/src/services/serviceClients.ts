import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { signAccessToken } from '@portal/kit';
import { ServiceClientEntity } from '../db/entities';
import { IdentityStore } from '../db/store';
import type { KeyRing } from '../keys';
import { verifyPassword } from './passwords';

/**
 * The scopes identity grants a service credential: a read and a write scope
 * per subgraph. Each subgraph's policy file (`src/policy.ts`) names the scope
 * each of its entries accepts; a scope granted here that no policy names
 * opens nothing.
 */
export const SERVICE_SCOPES: readonly string[] = ['identity', 'scheduling', 'messaging', 'pharmacy', 'clinical-records'].flatMap((area) => [`${area}:read`, `${area}:write`]);

/** Service tokens are short: a service asks for a new one rather than holding a long-lived bearer token. */
export const SERVICE_TOKEN_TTL_SECONDS = 5 * 60;
export const CLIENT_ID = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/**
 * Registers another service and returns its secret, which is shown once and
 * stored only as a SHA-256 hash. The secret is 256 random bits, so it cannot
 * be guessed however many times the token endpoint is tried.
 */
export async function createServiceClient(db: DataSource, clientId: string, scopes: string[], now = new Date()): Promise<string> {
  if (!CLIENT_ID.test(clientId)) throw new Error('A client id is 3 to 64 lower-case letters, digits, dots, dashes or underscores.');
  const unknown = scopes.filter((s) => !SERVICE_SCOPES.includes(s));
  if (scopes.length === 0 || unknown.length) throw new Error(`Give one or more of these scopes: ${SERVICE_SCOPES.join(' ')}`);
  const store = new IdentityStore(db);
  if (await store.serviceClientById(clientId)) throw new Error(`A service client ${clientId} exists already.`);
  const secret = randomBytes(32).toString('base64url');
  await store.insertServiceClient({
    clientId,
    secretHash: hashClientSecret(secret),
    scopes: [...new Set(scopes)].sort().join(' '),
    createdAt: now.toISOString(),
    disabledAt: null,
  });
  return secret;
}

/**
 * Creates the client, or gives an existing one a new secret and these scopes
 * (and enables it again), and returns the secret. For the development stack,
 * which hands a fresh secret to its own services on every start; the old
 * secret stops working at once.
 */
export async function ensureServiceClient(db: DataSource, clientId: string, scopes: string[], now = new Date()): Promise<string> {
  const store = new IdentityStore(db);
  if (!(await store.serviceClientById(clientId))) {
    try {
      return await createServiceClient(db, clientId, scopes, now);
    } catch (e) {
      // Another process created it meanwhile: rotate that one below.
      if (!(await store.serviceClientById(clientId))) throw e;
    }
  }
  const unknown = scopes.filter((s) => !SERVICE_SCOPES.includes(s));
  if (scopes.length === 0 || unknown.length) throw new Error(`Give one or more of these scopes: ${SERVICE_SCOPES.join(' ')}`);
  const secret = randomBytes(32).toString('base64url');
  await db
    .getRepository(ServiceClientEntity)
    .update({ clientId }, { secretHash: hashClientSecret(secret), scopes: [...new Set(scopes)].sort().join(' '), disabledAt: null });
  return secret;
}

const SHA256 = 'sha256$';
const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/**
 * `sha256$<base64url>`. A slow hash protects guessable passwords; a 256-bit
 * random secret cannot be guessed from its hash whatever its speed, so the
 * token endpoint need not spend a 32 MiB scrypt on every request.
 */
export function hashClientSecret(secret: string): string {
  return SHA256 + digest(secret).toString('base64url');
}

/** Checks a secret in constant time; secrets stored before SHA-256 (`scrypt$...`) still verify until rotated. */
export async function verifyClientSecret(secret: string, stored: string): Promise<boolean> {
  if (stored.startsWith(SHA256)) {
    const expected = Buffer.from(stored.slice(SHA256.length), 'base64url');
    const actual = digest(secret);
    return expected.length === actual.length && timingSafeEqual(actual, expected);
  }
  return stored.startsWith('scrypt$') ? verifyPassword(secret, stored) : false;
}

export type TokenResponse =
  | { ok: true; body: { access_token: string; token_type: 'Bearer'; expires_in: number; scope: string } }
  | { ok: false; status: number; body: { error: string; error_description: string } };

/** The OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for other services. */
export class ServiceTokens {
  constructor(
    private readonly store: IdentityStore,
    private readonly keys: KeyRing,
  ) {}

  async exchange(clientId: string, clientSecret: string, requestedScope?: string): Promise<TokenResponse> {
    const client = CLIENT_ID.test(clientId) ? await this.store.serviceClientById(clientId) : null;
    // Client ids are not secret, so an unknown one need not cost what a known one does.
    const ok = client ? await verifyClientSecret(clientSecret, client.secretHash) : false;
    if (!client || !ok || client.disabledAt) {
      return { ok: false, status: 401, body: { error: 'invalid_client', error_description: 'The client id or secret is not right, or the client is disabled.' } };
    }
    const granted = client.scopes.split(' ').filter(Boolean);
    const asked = requestedScope?.trim() ? requestedScope.trim().split(/\s+/) : granted;
    if (asked.some((s) => !granted.includes(s))) {
      return { ok: false, status: 400, body: { error: 'invalid_scope', error_description: `This client may ask only for: ${granted.join(' ')}` } };
    }
    const { token } = await signAccessToken(
      this.keys.signing,
      // `service:` keeps a client id from ever reading as a patient's or practitioner's id.
      { accountId: `service:${client.clientId}`, personId: `service:${client.clientId}`, role: 'SERVICE', method: 'SERVICE', sessionId: randomUUID(), scopes: asked },
      SERVICE_TOKEN_TTL_SECONDS,
    );
    return { ok: true, body: { access_token: token, token_type: 'Bearer', expires_in: SERVICE_TOKEN_TTL_SECONDS, scope: asked.join(' ') } };
  }
}
