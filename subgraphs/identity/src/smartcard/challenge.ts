/**
 * Smart-card challenges that cost nothing to issue: a challenge is a random
 * nonce and its expiry, MACed with a key only identity holds, so any identity
 * instance can check one without having stored it. Only using one is written
 * down (the used-challenge table, keyed by nonce), which is what makes it
 * single use.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** A challenge is good for five minutes, once. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
const NONCE_BYTES = 24;
const FORMAT = /^([A-Za-z0-9_-]{32})\.(\d{13})\.([A-Za-z0-9_-]{43})$/;
const INFO = 'patient-portal smart-card challenge v1';

export interface OpenedChallenge {
  nonce: string;
  expiresAt: Date;
}

/**
 * The MAC key, derived (HKDF-SHA256) from identity's token signing key: every
 * instance of a deployment has that key already (it is required in
 * production), so they agree without another secret to distribute, and the
 * derived key reveals nothing about the signing key.
 */
export function challengeKeyFrom(signingKey: KeyObject): Buffer {
  const der = signingKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), INFO, 32));
}

export class ChallengeCodec {
  constructor(private readonly key: Buffer) {}

  /** `<nonce>.<expiry in ms>.<HMAC-SHA256>`, all base64url or digits: the card signs exactly this text. */
  issue(now: Date): { challenge: string; expiresAt: Date } {
    const nonce = randomBytes(NONCE_BYTES).toString('base64url');
    const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS);
    const body = `${nonce}.${expiresAt.getTime()}`;
    return { challenge: `${body}.${this.mac(body)}`, expiresAt };
  }

  /** The challenge's nonce and expiry when identity issued it and it has not expired; otherwise null. */
  open(challenge: string, now: Date): OpenedChallenge | null {
    const m = FORMAT.exec(challenge);
    if (!m) return null;
    const expected = Buffer.from(this.mac(`${m[1]}.${m[2]}`), 'utf8');
    const given = Buffer.from(m[3], 'utf8');
    if (!timingSafeEqual(expected, given)) return null;
    const expiresAt = new Date(Number(m[2]));
    // A future expiry further out than a challenge lives cannot come from this key's issue(); refuse it anyway.
    if (expiresAt <= now || expiresAt.getTime() - now.getTime() > CHALLENGE_TTL_MS + 60_000) return null;
    return { nonce: m[1], expiresAt };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
