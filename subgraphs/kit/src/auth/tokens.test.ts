import fs from 'node:fs';
import { captureLogs } from '../logging';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose';
import {
  ACCESS_TOKEN_TYPE,
  ACCESS_TOKEN_TTL_SECONDS,
  CLOCK_TOLERANCE_SECONDS,
  loadSigningKey,
  publicJwkFromPem,
  signAccessToken,
  signingKeyFromPem,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TokenVerifier,
  type SigningKey,
  type TokenClaims,
} from './tokens';
import { testSigningKey } from '../testing';

const pemOf = (type: 'ec' | 'ed25519' | 'rsa', options: object = {}) => {
  const { privateKey, publicKey } = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
const p256 = () => pemOf('ec', { namedCurve: 'P-256' });
/** The JWKS tests verify one token again and again to see when keys are fetched: without the verified-token cache. */
const NO_CACHE = { size: 0, ttlMs: 0 };

const CLAIMS: TokenClaims = {
  accountId: 'ac-1',
  personId: 'pt-1',
  role: 'PRACTITIONER',
  method: 'CAC',
  sessionId: 'sess-1',
  careTeamIds: ['ct-a', 'ct-b'],
  scopes: ['identity:read', 'pharmacy:write'],
};

const now = () => Math.floor(Date.now() / 1000);

/** Signs `payload` with `key` exactly as given: lets a test make every claim wrong in turn. */
function rawToken(key: SigningKey, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
}

const goodPayload = (over: JWTPayload = {}): JWTPayload => ({
  iss: TOKEN_ISSUER,
  aud: TOKEN_AUDIENCE,
  sub: 'ac-1',
  iat: now(),
  exp: now() + 600,
  sid: 'sess-1',
  pid: 'pt-1',
  role: 'PATIENT',
  amr: 'DS_LOGON',
  ...over,
});

async function refusal(p: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { extensions?: { code?: unknown } }).extensions?.code, message: (e as Error).message };
  }
  throw new Error('expected a refusal');
}

const INVALID = { code: 'UNAUTHENTICATED', message: 'The access token is not valid. Sign in again.' };

describe('signing keys', () => {
  it('takes a P-256 key as ES256 and an Ed25519 key as EdDSA, named by their JWK thumbprint, publishing only the public half', async () => {
    const ec = await signingKeyFromPem(p256().privatePem);
    expect(ec.alg).toBe('ES256');
    expect(ec.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ec.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: ec.kid, alg: 'ES256', use: 'sig' });
    expect(ec.publicJwk).not.toHaveProperty('d');
    const ed = await signingKeyFromPem(pemOf('ed25519').privatePem);
    expect(ed.alg).toBe('EdDSA');
    expect(ed.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: ed.kid, alg: 'EdDSA', use: 'sig' });
    expect(ed.publicJwk).not.toHaveProperty('d');
    expect(ed.kid).not.toBe(ec.kid);
  });

  it('refuses RSA and other curves for signing', async () => {
    await expect(signingKeyFromPem(pemOf('rsa', { modulusLength: 2048 }).privatePem)).rejects.toThrow('The token signing key must be P-256 or Ed25519.');
    await expect(signingKeyFromPem(pemOf('ec', { namedCurve: 'P-384' }).privatePem)).rejects.toThrow('The token signing key must be P-256 or Ed25519.');
  });

  it('publishes the same public JWK from the private or the public PEM, and refuses other key types', async () => {
    const { privatePem, publicPem } = p256();
    const key = await signingKeyFromPem(privatePem);
    expect(await publicJwkFromPem(privatePem)).toEqual(key.publicJwk);
    expect(await publicJwkFromPem(publicPem)).toEqual(key.publicJwk);
    const ed = pemOf('ed25519');
    expect(await publicJwkFromPem(ed.publicPem)).toEqual((await signingKeyFromPem(ed.privatePem)).publicJwk);
    await expect(publicJwkFromPem(pemOf('rsa', { modulusLength: 2048 }).publicPem)).rejects.toThrow('A token signing key must be P-256 or Ed25519.');
    await expect(publicJwkFromPem(pemOf('ec', { namedCurve: 'P-384' }).publicPem)).rejects.toThrow('A token signing key must be P-256 or Ed25519.');
  });

  describe('loadSigningKey', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-keys-test-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads the configured file, in production too', async () => {
      const { privatePem } = p256();
      const file = path.join(dir, 'key.pem');
      fs.writeFileSync(file, privatePem);
      const expected = await signingKeyFromPem(privatePem);
      expect((await loadSigningKey({ file, dataDir: dir, production: true })).kid).toBe(expected.kid);
      expect(fs.existsSync(path.join(dir, 'keys'))).toBe(false);
    });

    it('refuses to invent a key in production', async () => {
      await expect(loadSigningKey({ dataDir: dir, production: true })).rejects.toThrow('TOKEN_SIGNING_KEY_FILE is required in production.');
      expect(fs.existsSync(path.join(dir, 'keys'))).toBe(false);
    });

    it('in development generates a P-256 key readable only by its owner, once, and keeps using it', async () => {
      const first = await loadSigningKey({ dataDir: dir, production: false });
      const file = path.join(dir, 'keys', 'token-signing-key.pem');
      expect(first.alg).toBe('ES256');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      const again = await loadSigningKey({ dataDir: dir, production: false });
      expect(again.kid).toBe(first.kid);
    });

    it('reads the key another process wrote first: its write is refused (EEXIST), never overwritten, and the file read', async () => {
      // The key path is a link to nowhere: it does not "exist", yet the exclusive write finds it
      // taken (EEXIST), as when another process wrote the key between the check and the write.
      // That refusal is not an error here; the read that follows is (the link leads nowhere).
      fs.mkdirSync(path.join(dir, 'keys'), { mode: 0o700 });
      const file = path.join(dir, 'keys', 'token-signing-key.pem');
      fs.symlinkSync(path.join(dir, 'nowhere', 'key.pem'), file);
      await expect(loadSigningKey({ dataDir: dir, production: false })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
      // Once the other process's key is there, it is the one used.
      const { privatePem } = p256();
      fs.mkdirSync(path.join(dir, 'nowhere'));
      fs.writeFileSync(path.join(dir, 'nowhere', 'key.pem'), privatePem);
      expect((await loadSigningKey({ dataDir: dir, production: false })).kid).toBe((await signingKeyFromPem(privatePem)).kid);
      expect(fs.readFileSync(path.join(dir, 'nowhere', 'key.pem'), 'utf8')).toBe(privatePem);
    });

    it('creates the data directory too when it does not exist yet', async () => {
      const dataDir = path.join(dir, 'not', 'yet');
      const key = await loadSigningKey({ dataDir, production: false });
      expect(fs.readFileSync(path.join(dataDir, 'keys', 'token-signing-key.pem'), 'utf8')).toContain('PRIVATE KEY');
      expect(key.alg).toBe('ES256');
    });
  });
});

describe('access tokens', () => {
  let key: SigningKey;
  let verifier: TokenVerifier;
  beforeAll(async () => {
    key = await signingKeyFromPem(p256().privatePem);
    verifier = new TokenVerifier({ jwks: { keys: [key.publicJwk] } });
  });

  it('carries who, how and which session, for 15 minutes by default, issued by identity for the graph', async () => {
    const before = now();
    const { token, expiresAt } = await signAccessToken(key, CLAIMS);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: 'ac-1', pid: 'pt-1', role: 'PRACTITIONER', amr: 'CAC', sid: 'sess-1', teams: ['ct-a', 'ct-b'], scope: 'identity:read pharmacy:write' });
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.exp! - claims.iat!).toBe(ACCESS_TOKEN_TTL_SECONDS);
    expect(ACCESS_TOKEN_TTL_SECONDS).toBe(900);
    expect(expiresAt.getTime()).toBe(claims.exp! * 1000);
    const custom = decodeJwt((await signAccessToken(key, CLAIMS, 60)).token);
    expect(custom.exp! - custom.iat!).toBe(60);
  });

  it('verifies into the viewer the token names', async () => {
    const { token, expiresAt } = await signAccessToken(key, CLAIMS);
    expect(await verifier.verify(token)).toEqual({
      accountId: 'ac-1',
      personId: 'pt-1',
      role: 'PRACTITIONER',
      method: 'CAC',
      sessionId: 'sess-1',
      careTeamIds: ['ct-a', 'ct-b'],
      scopes: ['identity:read', 'pharmacy:write'],
      expiresAt,
      token,
    });
  });

  it('gives no teams and no scopes when the token names none', async () => {
    const { token } = await signAccessToken(key, { ...CLAIMS, careTeamIds: undefined, scopes: undefined });
    expect(decodeJwt(token)).toMatchObject({ teams: [], scope: '' });
    const viewer = await verifier.verify(token);
    expect(viewer.careTeamIds).toEqual([]);
    expect(viewer.scopes).toEqual([]);
    const odd = await verifier.verify(await rawToken(key, goodPayload({ teams: 'ct-a', scope: ['x:read'] })));
    expect(odd.careTeamIds).toEqual([]);
    expect(odd.scopes).toEqual([]);
    expect((await verifier.verify(await rawToken(key, goodPayload({ teams: [1], scope: 'one' })))).careTeamIds).toEqual(['1']);
  });

  it('refuses a token for another audience', async () => {
    expect(await refusal(verifier.verify(await rawToken(key, goodPayload({ aud: 'urn:patient-portal:other' }))))).toEqual(INVALID);
    const { aud: _, ...noAudience } = goodPayload();
    expect(await refusal(verifier.verify(await rawToken(key, noAudience)))).toEqual(INVALID);
  });

  it('refuses a token from another issuer', async () => {
    expect(await refusal(verifier.verify(await rawToken(key, goodPayload({ iss: 'urn:someone-else' }))))).toEqual(INVALID);
    const { iss: _, ...noIssuer } = goodPayload();
    expect(await refusal(verifier.verify(await rawToken(key, noIssuer)))).toEqual(INVALID);
  });

  it('refuses an expired token, saying so', async () => {
    const expired = await rawToken(key, goodPayload({ iat: now() - 3600, exp: now() - 120 }));
    expect(await refusal(verifier.verify(expired))).toEqual({ code: 'UNAUTHENTICATED', message: 'Your session has expired. Sign in again.' });
    const { token } = await signAccessToken(key, CLAIMS, -120);
    expect(await refusal(verifier.verify(token))).toEqual({ code: 'UNAUTHENTICATED', message: 'Your session has expired. Sign in again.' });
  });

  it('refuses a token without subject, expiry, issue time or session', async () => {
    for (const claim of ['sub', 'exp', 'iat', 'sid']) {
      const payload = goodPayload();
      delete payload[claim];
      expect([claim, await refusal(verifier.verify(await rawToken(key, payload)))]).toEqual([claim, INVALID]);
    }
  });

  it('refuses an unknown role or sign-in method, and a token without a person', async () => {
    for (const over of [{ role: 'ROOT' }, { role: undefined }, { amr: 'PASSWORD' }, { amr: undefined }, { pid: 42 }, { pid: undefined }]) {
      expect([over, await refusal(verifier.verify(await rawToken(key, goodPayload(over))))]).toEqual([over, INVALID]);
    }
    for (const role of ['PATIENT', 'PRACTITIONER', 'PHARMACIST', 'ADMIN', 'SERVICE'] as const) {
      expect((await verifier.verify(await rawToken(key, goodPayload({ role })))).role).toBe(role);
    }
    for (const amr of ['DS_LOGON', 'CAC', 'PIV', 'SERVICE'] as const) {
      expect((await verifier.verify(await rawToken(key, goodPayload({ amr })))).method).toBe(amr);
    }
  });

  it('refuses a token signed by another key, a tampered one, and an unsigned one', async () => {
    const other = await signingKeyFromPem(p256().privatePem);
    const { token: foreign } = await signAccessToken({ ...other, kid: key.kid }, CLAIMS);
    expect(await refusal(verifier.verify(foreign))).toEqual(INVALID);
    const { token } = await signAccessToken(key, CLAIMS);
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), role: 'ADMIN' })).toString('base64url');
    expect(await refusal(verifier.verify(`${h}.${forged}.${s}`))).toEqual(INVALID);
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url');
    expect(await refusal(verifier.verify(`${none}.${token.split('.')[1]}.`))).toEqual(INVALID);
  });

  it('accepts only ES256 and EdDSA: an Ed25519 key verifies, an RSA key in the JWKS does not', async () => {
    const ed = await signingKeyFromPem(pemOf('ed25519').privatePem);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { exportJWK } = await import('jose');
    const rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' };
    const both = new TokenVerifier({ jwks: { keys: [ed.publicJwk, rsaJwk] } });
    expect((await both.verify((await signAccessToken(ed, CLAIMS)).token)).accountId).toBe('ac-1');
    const rs256 = await new SignJWT(goodPayload()).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsa.privateKey);
    expect(await refusal(both.verify(rs256))).toEqual(INVALID);
  });

  describe('fromAuthorizationHeader', () => {
    it('is null without credentials', async () => {
      expect(await verifier.fromAuthorizationHeader(undefined)).toBeNull();
      expect(await verifier.fromAuthorizationHeader(null)).toBeNull();
      expect(await verifier.fromAuthorizationHeader('')).toBeNull();
    });

    it('takes "Bearer <token>", with surrounding spaces', async () => {
      const { token } = await signAccessToken(key, CLAIMS);
      expect((await verifier.fromAuthorizationHeader(`Bearer ${token}`))?.accountId).toBe('ac-1');
      expect((await verifier.fromAuthorizationHeader(`  Bearer ${token} `))?.sessionId).toBe('sess-1');
    });

    it('refuses anything else as a malformed header, before looking at the token', async () => {
      const { token } = await signAccessToken(key, CLAIMS);
      const malformed = { code: 'UNAUTHENTICATED', message: 'The Authorization header must be "Bearer <access token>".' };
      for (const header of [token, `bearer ${token}`, `Basic ${token}`, `xBearer ${token}`, `Bearer ${token} x`, `Bearer  ${token}`, 'Bearer a.b', 'Bearer a.b.c.d', 'Bearer a.b.', 'Bearer a+.b.c', `Bearer ${token}=`]) {
        expect([header, await refusal(verifier.fromAuthorizationHeader(header))]).toEqual([header, malformed]);
      }
      // Well-formed but not a token of ours: the verifier's refusal, not the header's.
      expect(await refusal(verifier.fromAuthorizationHeader('Bearer a-_9.b.c'))).toEqual(INVALID);
    });
  });

  describe('with a remote JWKS', () => {
    let server: http.Server;
    let url: string;
    let answer: (res: http.ServerResponse) => void;
    let asked: { method?: string; url?: string; accept?: string }[] = [];
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        asked.push({ method: req.method, url: req.url, accept: req.headers.accept });
        answer(res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('verifies against the keys it fetches, fetched once for many tokens', async () => {
      let fetches = 0;
      answer = (res) => {
        fetches++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
      };
      const { token } = await signAccessToken(key, CLAIMS);
      asked = [];
      const remote = new TokenVerifier({ jwksUrl: url, cache: NO_CACHE });
      expect((await remote.verify(token)).personId).toBe('pt-1');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await remote.verify(token)).personId).toBe('pt-1');
      expect(fetches).toBe(1);
      // A plain GET of the JWKS, asking for JSON.
      expect(asked).toEqual([{ method: 'GET', url: '/.well-known/jwks.json', accept: 'application/json' }]);
    });

    it('answers SERVICE_UNAVAILABLE, not "sign in again", when the JWKS cannot be fetched', async () => {
      const { token } = await signAccessToken(key, CLAIMS);
      const unavailable = { code: 'SERVICE_UNAVAILABLE', message: 'Sign-in could not be checked right now. Try again shortly.' };
      answer = (res) => res.writeHead(503).end('down');
      expect(await refusal(new TokenVerifier({ jwksUrl: url, cache: NO_CACHE }).verify(token))).toEqual(unavailable);
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
      await new Promise((resolve) => closed.close(resolve));
      expect(await refusal(new TokenVerifier({ jwksUrl: closedUrl, cache: NO_CACHE }).verify(token))).toEqual(unavailable);
      answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [');
      expect(await refusal(new TokenVerifier({ jwksUrl: url, cache: NO_CACHE }).verify(token))).toEqual(unavailable);
    });

    it('answers SERVICE_UNAVAILABLE when the JWKS does not come within its timeout (IDENTITY_TIMEOUT_MS)', async () => {
      const { token } = await signAccessToken(key, CLAIMS);
      answer = () => undefined;
      expect(await refusal(new TokenVerifier({ jwksUrl: url, timeoutMs: 200, cache: NO_CACHE }).verify(token))).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: 'Sign-in could not be checked right now. Try again shortly.',
      });
    });

    describe('on a frozen clock (Date.now stubbed, so every boundary is exact)', () => {
      let clock: number;
      let requests: number;
      const tick = (ms: number) => (clock += ms);
      const good = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
      const down = (res: http.ServerResponse) => res.writeHead(500).end('down');
      const counting = (inner: (res: http.ServerResponse) => void) => (res: http.ServerResponse) => {
        requests++;
        inner(res);
      };
      let token: string;
      beforeEach(async () => {
        token = (await signAccessToken(key, CLAIMS)).token;
        clock = Date.now();
        requests = 0;
        jest.spyOn(Date, 'now').mockImplementation(() => clock);
      });
      afterEach(() => jest.restoreAllMocks());

      it('uses fetched keys for exactly cacheMaxAgeMs, then fetches them again', async () => {
        answer = counting(good);
        const verifier = new TokenVerifier({ jwksUrl: url, cacheMaxAgeMs: 1_000, cache: NO_CACHE });
        await verifier.verify(token);
        tick(1_000);
        await verifier.verify(token);
        expect(requests).toBe(1);
        tick(1);
        await verifier.verify(token);
        expect(requests).toBe(2);
      });

      it('after a failed fetch does not ask identity again before retryAfterFailureMs, and asks again exactly then', async () => {
        answer = counting(good);
        const verifier = new TokenVerifier({ jwksUrl: url, cacheMaxAgeMs: 0, cooldownMs: 0, retryAfterFailureMs: 1_000, cache: NO_CACHE });
        await verifier.verify(token);
        answer = counting(down);
        tick(1);
        expect((await verifier.verify(token)).personId).toBe('pt-1');
        expect(requests).toBe(2);
        tick(999);
        expect((await verifier.verify(token)).personId).toBe('pt-1');
        // A token naming an unknown key does not make it ask either: it cannot be told, so SERVICE_UNAVAILABLE.
        const stranger = (await signAccessToken(await testSigningKey(), CLAIMS)).token;
        expect((await refusal(verifier.verify(stranger))).code).toBe('SERVICE_UNAVAILABLE');
        expect(requests).toBe(2);
        answer = counting(good);
        tick(1);
        await verifier.verify(token);
        expect(requests).toBe(3);
        expect(await refusal(verifier.verify(stranger))).toEqual(INVALID);
      });

      it('fetches again for a token naming an unknown key at most every cooldownMs', async () => {
        answer = counting(good);
        const verifier = new TokenVerifier({ jwksUrl: url, cooldownMs: 60_000, cache: NO_CACHE });
        await verifier.verify(token);
        const stranger = (await signAccessToken(await testSigningKey(), CLAIMS)).token;
        tick(40_000);
        expect(await refusal(verifier.verify(stranger))).toEqual(INVALID);
        expect(requests).toBe(1);
        tick(20_000);
        expect(await refusal(verifier.verify(stranger))).toEqual(INVALID);
        expect(requests).toBe(2);
      });

      it('does not fetch again for a key of the set that cannot be used: the token is refused as invalid', async () => {
        answer = counting((res) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: key.kid, alg: 'ES256', use: 'sig' }] })),
        );
        const verifier = new TokenVerifier({ jwksUrl: url, cooldownMs: 0, cache: NO_CACHE });
        expect(await refusal(verifier.verify(token))).toEqual(INVALID);
        expect(requests).toBe(1);
      });

      it('takes no keys from an answer other than 200, whatever its body', async () => {
        answer = (res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
        expect((await refusal(new TokenVerifier({ jwksUrl: url, cache: NO_CACHE }).verify(token))).code).toBe('SERVICE_UNAVAILABLE');
        answer = (res) => res.writeHead(203, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
        expect((await refusal(new TokenVerifier({ jwksUrl: url, cache: NO_CACHE }).verify(token))).code).toBe('SERVICE_UNAVAILABLE');
      });

      it('warns once when identity becomes unreachable and once when it is back, and not at all with PORTAL_QUIET=1', async () => {
        const quiet = process.env.PORTAL_QUIET;
        const log = captureLogs();
        // The warnings' messages, as the console showed them before.
        const warn = { get mock() { return { calls: log.lines.filter((l) => l.level === 'warn').map((l) => [l.msg]) }; } };
        let cleared = 0;
        try {
          delete process.env.PORTAL_QUIET;
          answer = down;
          const verifier = new TokenVerifier({ jwksUrl: url, cacheMaxAgeMs: 0, retryAfterFailureMs: 0, cache: NO_CACHE });
          await refusal(verifier.verify(token));
          tick(1);
          await refusal(verifier.verify(token));
          expect(warn.mock.calls).toEqual([["[auth] identity's JWKS could not be fetched (Error): tokens answer SERVICE_UNAVAILABLE"]]);
          answer = good;
          tick(1);
          await verifier.verify(token);
          tick(1);
          await verifier.verify(token);
          expect(warn.mock.calls.slice(1)).toEqual([["[auth] identity's JWKS fetched again"]]);
          answer = down;
          tick(1);
          await verifier.verify(token);
          tick(1);
          await verifier.verify(token);
          expect(warn.mock.calls.slice(2)).toEqual([["[auth] identity's JWKS could not be fetched (Error): verifying with the keys fetched before"]]);
          cleared = warn.mock.calls.length;
          process.env.PORTAL_QUIET = '1';
          const silent = new TokenVerifier({ jwksUrl: url, cacheMaxAgeMs: 0, retryAfterFailureMs: 0, cache: NO_CACHE });
          await refusal(silent.verify(token));
          answer = good;
          tick(1);
          await silent.verify(token);
          expect(warn.mock.calls.slice(cleared)).toEqual([]);
        } finally {
          log.restore();
          if (quiet === undefined) delete process.env.PORTAL_QUIET;
          else process.env.PORTAL_QUIET = quiet;
        }
      });
    });

    describe('when identity fails after the keys were fetched', () => {
      const UNAVAILABLE = { code: 'SERVICE_UNAVAILABLE', message: 'Sign-in could not be checked right now. Try again shortly.' };
      const serveKeys = (counter: { n: number }) => (res: http.ServerResponse) => {
        counter.n++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
      };
      const failures: [string, (res: http.ServerResponse) => void][] = [
        ['answers 500', (res) => res.writeHead(500).end('down')],
        ['answers garbage', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [')],
        ['hangs', () => undefined],
        ['drops the connection', (res) => res.socket?.destroy()],
      ];

      it.each(failures)('keeps verifying with the last good keys past their cache age when identity %s', async (_, failing) => {
        const fetches = { n: 0 };
        answer = serveKeys(fetches);
        const verifier = new TokenVerifier({ jwksUrl: url, timeoutMs: 200, cacheMaxAgeMs: 50, retryAfterFailureMs: 60_000, cache: NO_CACHE });
        const { token } = await signAccessToken(key, CLAIMS);
        expect((await verifier.verify(token)).personId).toBe('pt-1');
        answer = failing;
        await new Promise((resolve) => setTimeout(resolve, 100));
        // The refresh fails: the keys fetched before still verify, and are not asked again at every request.
        expect((await verifier.verify(token)).personId).toBe('pt-1');
        expect((await verifier.verify(token)).accountId).toBe('ac-1');
        expect(fetches.n).toBe(1);
      });

      it('answers SERVICE_UNAVAILABLE for a key it has not seen while identity is down, and verifies it once identity is back', async () => {
        const fetches = { n: 0 };
        answer = serveKeys(fetches);
        const verifier = new TokenVerifier({ jwksUrl: url, timeoutMs: 200, cooldownMs: 0, retryAfterFailureMs: 0, cache: NO_CACHE });
        expect((await verifier.verify((await signAccessToken(key, CLAIMS)).token)).personId).toBe('pt-1');
        const rotated = await testSigningKey();
        const { token } = await signAccessToken(rotated, CLAIMS);
        answer = (res) => res.writeHead(503).end('down');
        expect(await refusal(verifier.verify(token))).toEqual(UNAVAILABLE);
        answer = () => undefined;
        expect(await refusal(verifier.verify(token))).toEqual(UNAVAILABLE);
        // Back, with the rotated key published: the token verifies; a key identity does not publish is refused.
        answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rotated.publicJwk, key.publicJwk] }));
        expect((await verifier.verify(token)).personId).toBe('pt-1');
        const stranger = await testSigningKey();
        expect(await refusal(verifier.verify((await signAccessToken(stranger, CLAIMS)).token))).toEqual(INVALID);
      });

      it('still refuses a token signed by a key identity published, but tampered, while identity is down', async () => {
        answer = serveKeys({ n: 0 });
        const verifier = new TokenVerifier({ jwksUrl: url, timeoutMs: 200, cacheMaxAgeMs: 0, retryAfterFailureMs: 0, cache: NO_CACHE });
        const { token } = await signAccessToken(key, CLAIMS);
        expect((await verifier.verify(token)).personId).toBe('pt-1');
        answer = (res) => res.writeHead(500).end();
        const [h, p, sig] = token.split('.');
        const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), role: 'ADMIN' })).toString('base64url');
        expect(await refusal(verifier.verify(`${h}.${forged}.${sig}`))).toEqual(INVALID);
        expect((await verifier.verify(token)).role).toBe('PRACTITIONER');
      });

      it('fetches fresh keys again once identity is back and the keys are stale', async () => {
        const fetches = { n: 0 };
        answer = serveKeys(fetches);
        const verifier = new TokenVerifier({ jwksUrl: url, timeoutMs: 200, cacheMaxAgeMs: 20, retryAfterFailureMs: 20, cache: NO_CACHE });
        const { token } = await signAccessToken(key, CLAIMS);
        await verifier.verify(token);
        answer = (res) => res.writeHead(500).end();
        await new Promise((resolve) => setTimeout(resolve, 40));
        await verifier.verify(token);
        answer = serveKeys(fetches);
        await new Promise((resolve) => setTimeout(resolve, 40));
        await verifier.verify(token);
        expect(fetches.n).toBe(2);
      });
    });
  });
});

describe('token type and clock tolerance', () => {
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
});

describe('verified-token cache', () => {
  let key: SigningKey;
  beforeAll(async () => {
    key = await testSigningKey();
  });
  afterEach(() => jest.restoreAllMocks());

  const cached = (settings = { size: 100, ttlMs: 60_000 }) => new TokenVerifier({ jwks: { keys: [key.publicJwk] }, cache: settings });
  const clockAt = (ms: number) => jest.spyOn(Date, 'now').mockImplementation(() => ms);

  it('answers a token verified before from the cache, each caller with a viewer of its own', async () => {
    const verifier = cached();
    const { token } = await signAccessToken(key, CLAIMS);
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(verifier.cacheStats).toEqual({ hits: 1, misses: 1 });
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    second.careTeamIds.push('ct-forged');
    second.sessionExpiresAt = new Date();
    const third = await verifier.verify(token);
    expect(third.careTeamIds).toEqual(['ct-a', 'ct-b']);
    expect(third.sessionExpiresAt).toBeUndefined();
  });

  it('keeps no token that failed, and checks a token differing in one byte afresh', async () => {
    const verifier = cached();
    const { token } = await signAccessToken(key, CLAIMS);
    await verifier.verify(token);
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    for (let i = 0; i < 2; i++) {
      const refused = (await verifier.verify(tampered).then(
        () => 'OK',
        (e: { extensions?: { code?: string } }) => e.extensions?.code,
      )) as string | undefined;
      expect(refused).toBe('UNAUTHENTICATED');
    }
    expect(verifier.cacheStats).toEqual({ hits: 0, misses: 3 });
    expect(verifier.cachedTokens).toBe(1);
  });

  it('never keeps an entry past the token’s exp, though a fresh check would still accept it within the clock tolerance', async () => {
    const verifier = cached();
    const { token, expiresAt } = await signAccessToken(key, CLAIMS, 60);
    const start = Date.now();
    await verifier.verify(token);
    clockAt(expiresAt.getTime() - 1);
    await verifier.verify(token);
    expect(verifier.cacheStats.hits).toBe(1);
    clockAt(expiresAt.getTime());
    await verifier.verify(token); // jose, on the real clock, still accepts it: checked afresh, not from the cache
    expect(verifier.cacheStats).toEqual({ hits: 1, misses: 2 });
    expect(start).toBeLessThan(expiresAt.getTime());
  });

  it('does not keep a token already past its exp (accepted only within the clock tolerance)', async () => {
    const verifier = cached();
    const exp = Math.floor(Date.now() / 1000) - 5;
    const token = await new SignJWT({ pid: 'pt-1', role: 'PATIENT', amr: 'DS_LOGON', sid: 'session-1', teams: [], scope: '' })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject('ac-1')
      .setIssuedAt(exp - 600)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    await verifier.verify(token);
    expect(verifier.cachedTokens).toBe(0);
  });

  it('keeps an entry at most ttlMs', async () => {
    const verifier = cached({ size: 100, ttlMs: 1_000 });
    const { token } = await signAccessToken(key, CLAIMS);
    const t0 = Date.now();
    clockAt(t0);
    await verifier.verify(token);
    clockAt(t0 + 999);
    await verifier.verify(token);
    clockAt(t0 + 1_000);
    await verifier.verify(token);
    expect(verifier.cacheStats).toEqual({ hits: 1, misses: 2 });
  });

  it('holds at most `size` tokens, the least recently used going first; size 0 keeps none', async () => {
    const verifier = cached({ size: 2, ttlMs: 60_000 });
    const [t1, t2, t3] = await Promise.all(['s1', 's2', 's3'].map(async (sessionId) => (await signAccessToken(key, { ...CLAIMS, sessionId })).token));
    await verifier.verify(t1);
    await verifier.verify(t2);
    await verifier.verify(t1); // hit: t1 is now the most recently used
    await verifier.verify(t3); // t2 goes
    expect(verifier.cachedTokens).toBe(2);
    await verifier.verify(t1); // hit
    await verifier.verify(t2); // miss
    expect(verifier.cacheStats).toEqual({ hits: 2, misses: 4 });

    const none = cached({ size: 0, ttlMs: 60_000 });
    await none.verify(t1);
    await none.verify(t1);
    expect([none.cachedTokens, none.cacheStats.hits]).toEqual([0, 0]);
  });
});
