import { SignJWT } from 'jose';
import { testSigningKey } from '../testing';
import { ACCESS_TOKEN_TYPE, CLOCK_TOLERANCE_SECONDS, signAccessToken, TOKEN_AUDIENCE, TOKEN_ISSUER, TokenVerifier, type SigningKey } from './tokens';

let key: SigningKey;
let verifier: TokenVerifier;

beforeAll(async () => {
  key = await testSigningKey();
  verifier = new TokenVerifier({ jwks: { keys: [key.publicJwk] } });
});

/** A token exactly as identity signs one, but with the header type and times the test chooses. */
function craft(options: { typ?: string | null; iat?: number; exp: number }): Promise<string> {
  const header: { alg: string; kid: string; typ?: string } = { alg: key.alg, kid: key.kid };
  if (options.typ !== null) header.typ = options.typ ?? ACCESS_TOKEN_TYPE;
  return new SignJWT({ pid: 'pt-1', role: 'PATIENT', amr: 'DS_LOGON', sid: 'session-1', teams: [], scope: '' })
    .setProtectedHeader(header)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject('ac-1')
    .setIssuedAt(options.iat ?? options.exp - 600)
    .setExpirationTime(options.exp)
    .sign(key.privateKey);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: { extensions?: { code?: string } }) => e.extensions?.code ?? 'THROWN',
  );

describe('access token type', () => {
  it('signs every token with typ at+jwt, user and service tokens alike', async () => {
    for (const role of ['PATIENT', 'SERVICE'] as const) {
      const { token } = await signAccessToken(key, { accountId: 'a', personId: 'p', role, method: role === 'SERVICE' ? 'SERVICE' : 'DS_LOGON', sessionId: 's' });
      const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
      expect(header.typ).toBe('at+jwt');
      expect((await verifier.verify(token)).role).toBe(role);
    }
  });

  it('refuses a token of another type, and one without a type, though signed by the right key', async () => {
    const exp = nowSeconds() + 300;
    expect(await codeOf(verifier.verify(await craft({ exp })))).toBe('OK');
    expect(await codeOf(verifier.verify(await craft({ exp, typ: 'JWT' })))).toBe('UNAUTHENTICATED');
    expect(await codeOf(verifier.verify(await craft({ exp, typ: 'id_token+jwt' })))).toBe('UNAUTHENTICATED');
    expect(await codeOf(verifier.verify(await craft({ exp, typ: null })))).toBe('UNAUTHENTICATED');
  });
});

describe('clock tolerance', () => {
  it('is 30 seconds', () => {
    expect(CLOCK_TOLERANCE_SECONDS).toBe(30);
  });

  it('accepts a token that expired 10 s ago, refuses one that expired just past the tolerance', async () => {
    expect(await codeOf(verifier.verify(await craft({ exp: nowSeconds() - 10 })))).toBe('OK');
    // A few seconds past the tolerance, so the test does not depend on how fast it runs.
    expect(await codeOf(verifier.verify(await craft({ exp: nowSeconds() - CLOCK_TOLERANCE_SECONDS - 5 })))).toBe('UNAUTHENTICATED');
  });

  it('accepts a token issued 10 s in the future (a signer whose clock runs ahead), refuses one issued well past the tolerance', async () => {
    expect(await codeOf(verifier.verify(await craft({ iat: nowSeconds() + 10, exp: nowSeconds() + 600 })))).toBe('OK');
    expect(await codeOf(verifier.verify(await craft({ iat: nowSeconds() + CLOCK_TOLERANCE_SECONDS + 60, exp: nowSeconds() + 600 })))).toBe('UNAUTHENTICATED');
  });
});
