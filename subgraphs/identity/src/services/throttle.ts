import { createHash } from 'node:crypto';
import type { IdentityStore } from '../db/store';

export const MAX_FAILED_SIGN_INS = 5;
export const LOCK_MINUTES = 15;

/**
 * A key in the sign_in_throttle table besides DS Logon usernames: `card:` a
 * certificate fingerprint, `card-account:` an account's smart-card sign-ins,
 * `identity:` a DoD ID's identity checks. Usernames never hold a colon, so
 * no username can share (and lock) one of these.
 */
export function throttleKey(kind: 'card' | 'card-account' | 'identity', value: string): string {
  const key = `${kind}:${value}`;
  return key.length <= 64 ? key : `${kind}:#${createHash('sha256').update(value).digest('base64url')}`;
}

/** Counts failures in a row per key and locks a key for 15 minutes at the fifth. */
export class Throttle {
  constructor(
    private readonly store: IdentityStore,
    private readonly clock: () => Date,
  ) {}

  /** The end of the key's lock, or null when it is open. */
  async lockedUntil(key: string): Promise<string | null> {
    const state = await this.store.throttleOf(key);
    return state?.lockedUntil && new Date(state.lockedUntil) > this.clock() ? state.lockedUntil : null;
  }

  /** Counts one failure; returns the lock's end when this failure locked the key. */
  async fail(key: string): Promise<string | null> {
    const failures = await this.store.recordFailure(key);
    if (failures < MAX_FAILED_SIGN_INS) return null;
    const until = new Date(this.clock().getTime() + LOCK_MINUTES * 60_000);
    await this.store.lock(key, until);
    return until.toISOString();
  }

  async clear(key: string): Promise<void> {
    await this.store.clearFailures(key);
  }
}
