import { createHmac, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { CHALLENGE_TTL_MS, ChallengeCodec, challengeKeyFrom } from './challenge';

// The rules of a stateless challenge, checked against an independent computation of its MAC:
// `<nonce>.<expiry ms>.<HMAC-SHA256(key, "<nonce>.<expiry ms>") in base64url>`.
describe('ChallengeCodec', () => {
  const key = randomBytes(32);
  const codec = new ChallengeCodec(key);
  const now = new Date('2031-05-06T07:00:00.000Z');
  const mac = (body: string, k: Buffer = key) => createHmac('sha256', k).update(body).digest('base64url');
  /** A challenge this key could have issued, for any nonce and expiry. */
  const made = (nonce: string, expiry: number | string, k: Buffer = key) => `${nonce}.${expiry}.${mac(`${nonce}.${expiry}`, k)}`;
  const nonce = 'A'.repeat(16) + 'z9_-'.repeat(4);

  it('lives five minutes', () => {
    expect(CHALLENGE_TTL_MS).toBe(300_000);
  });

  it('issues a 24-byte random nonce, the expiry in ms and the MAC of both', () => {
    const { challenge, expiresAt } = codec.issue(now);
    expect(expiresAt).toEqual(new Date(now.getTime() + 300_000));
    const [n, expiry, m, ...rest] = challenge.split('.');
    expect(rest).toEqual([]);
    expect(n).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(n, 'base64url')).toHaveLength(24);
    expect(expiry).toBe(String(now.getTime() + 300_000));
    expect(m).toBe(mac(`${n}.${expiry}`));
    expect(codec.issue(now).challenge.split('.')[0]).not.toBe(n);
  });

  it('opens what it issued, until it expires, to its nonce and expiry', () => {
    const { challenge, expiresAt } = codec.issue(now);
    expect(codec.open(challenge, now)).toEqual({ nonce: challenge.split('.')[0], expiresAt });
    expect(codec.open(challenge, new Date(expiresAt.getTime() - 1))).toEqual({ nonce: challenge.split('.')[0], expiresAt });
    expect(codec.open(challenge, expiresAt)).toBeNull();
    expect(codec.open(challenge, new Date(expiresAt.getTime() + 1))).toBeNull();
  });

  it('refuses an expiry further out than a challenge lives, beyond a minute of clock skew', () => {
    const t = now.getTime();
    expect(codec.open(made(nonce, t + 300_000 + 60_000), now)).toEqual({ nonce, expiresAt: new Date(t + 360_000) });
    expect(codec.open(made(nonce, t + 300_000 + 60_001), now)).toBeNull();
    expect(codec.open(made(nonce, t + 1), now)).toEqual({ nonce, expiresAt: new Date(t + 1) });
    expect(codec.open(made(nonce, t), now)).toBeNull();
  });

  it('refuses a changed nonce, expiry or MAC, and one made with another key', () => {
    const { challenge } = codec.issue(now);
    const [n, expiry, m] = challenge.split('.');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    for (const forged of [
      `${flip(n, 0)}.${expiry}.${m}`,
      `${n}.${Number(expiry) - 1}.${m}`,
      `${n}.${expiry}.${flip(m, 5)}`,
      made(n, expiry, randomBytes(32)),
      new ChallengeCodec(randomBytes(32)).issue(now).challenge,
    ]) {
      expect(codec.open(forged, now)).toBeNull();
    }
  });

  it('refuses anything but the exact format, even with a good MAC', () => {
    const t = now.getTime() + 1000;
    const good = made(nonce, t);
    expect(codec.open(good, now)).not.toBeNull();
    for (const bad of [
      ` ${good}`,
      `${good} `,
      `x${good}`,
      `${good}x`,
      `${good}\n`,
      made(nonce.slice(1), t),
      made(`${nonce}A`, t),
      made(`${nonce.slice(1)}+`, t),
      made(`${nonce.slice(1)}.`, t),
      made(nonce, ` ${t}`),
      made(nonce, `${t}0`),
      made(nonce, String(t).slice(1)),
      made(nonce, `${String(t).slice(0, 12)}x`),
      `${nonce}.${t}.${mac(`${nonce}.${t}`)}A`,
      `${nonce}.${t}.${mac(`${nonce}.${t}`).slice(1)}`,
      `${nonce}.${t}`,
      '',
    ]) {
      expect(codec.open(bad, now)).toBeNull();
    }
  });

  it('takes every base64url character in the nonce and the MAC', () => {
    const t = now.getTime() + 1000;
    for (const n of ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef', 'ghijklmnopqrstuvwxyz0123456789_-']) {
      expect(codec.open(made(n, t), now)).toEqual({ nonce: n, expiresAt: new Date(t) });
    }
  });
});

describe('challengeKeyFrom', () => {
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

  it('derives 32 bytes by HKDF-SHA256 from the signing key, with the challenge label', () => {
    const der = signing.export({ type: 'pkcs8', format: 'der' });
    const expected = Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), 'patient-portal smart-card challenge v1', 32));
    const key = challengeKeyFrom(signing);
    expect(key).toHaveLength(32);
    expect(key.equals(expected)).toBe(true);
    expect(key.equals(der.subarray(0, 32))).toBe(false);
  });

  it('is the same for the same key (instances agree) and differs for another key', () => {
    expect(challengeKeyFrom(signing).equals(challengeKeyFrom(signing))).toBe(true);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(challengeKeyFrom(other).equals(challengeKeyFrom(signing))).toBe(false);
    // A challenge issued under one deployment's key does not open under another's.
    const issued = new ChallengeCodec(challengeKeyFrom(signing)).issue(new Date());
    expect(new ChallengeCodec(challengeKeyFrom(signing)).open(issued.challenge, new Date())).not.toBeNull();
    expect(new ChallengeCodec(challengeKeyFrom(other)).open(issued.challenge, new Date())).toBeNull();
  });
});
