import { createHash } from 'node:crypto';
import type { IdentityStore } from '../db/store';

/** Failures in a row a key may have before each further attempt waits. */
export const FREE_FAILURES = 5;
/** The wait after the fifth failure in a row; it doubles with every further one... */
export const FIRST_DELAY_SECONDS = 5;
/** ...up to this, so a holder is never kept out longer than this after the last failure. */
export const MAX_DELAY_SECONDS = 15 * 60;

/** Seconds a key waits after its n-th failure in a row: none before the fifth, then 5 s, 10 s, 20 s, ... up to 15 minutes. */
export function delayAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** Math.min(failures - FREE_FAILURES, 30));
}

/** The counts up to the one whose delay reaches the cap: past it every count waits the cap. */
const STEPS = (() => {
  let n = 1;
  while (delayAfter(n) < MAX_DELAY_SECONDS) n++;
  return n;
})();

/**
 * A key in the sign_in_throttle table besides DS Logon usernames:
 * `identity:` a DoD ID's identity checks. Usernames never hold a colon, so
 * no username can share (and slow down) one of these.
 */
export function throttleKey(kind: 'identity', value: string): string {
  const key = `${kind}:${value}`;
  return key.length <= 64 ? key : `${kind}:#${createHash('sha256').update(value).digest('base64url')}`;
}

/** An attempt that may be checked: counted as a failure until `succeeded` releases it. */
export interface Reservation {
  key: string;
  /** The key's failures in a row counting this attempt. */
  failures: number;
  /** The lock this attempt set should it fail (from the fifth failure on), or null. */
  lockedUntil: Date | null;
}

export type Reserved = { ok: true; reservation: Reservation } | { ok: false; until: Date };

/**
 * Counts attempts per key (a username, known or not, or a DoD ID) before they
 * are checked: each attempt is reserved by one conditional upsert, as a
 * failure, so however many arrive at once no more are checked than the
 * policy allows; a success then releases it. From the fifth failure in a row
 * every attempt first waits a delay that doubles up to 15 minutes, so a
 * guesser gets a few tries an hour while the holder, and only someone who
 * knows the password, gets in once the delay is over.
 */
export class Throttle {
  constructor(
    private readonly store: IdentityStore,
    private readonly clock: () => Date,
  ) {}

  /** Reserves an attempt, or says until when the key must wait. */
  async reserve(key: string): Promise<Reserved> {
    const now = this.clock();
    const at = (n: number) => {
      const delay = delayAfter(n);
      return delay ? new Date(now.getTime() + delay * 1000).toISOString() : null;
    };
    const steps = Array.from({ length: STEPS }, (_, i) => at(i + 1));
    // A lock can end between the refused upsert and the read: try again then, a few times at most.
    for (let i = 0; i < 3; i++) {
      const row = await this.store.reserveAttempt(key, now.toISOString(), steps);
      if (row) return { ok: true, reservation: { key, failures: row.failures, lockedUntil: row.lockedUntil ? new Date(row.lockedUntil) : null } };
      const state = await this.store.throttleOf(key);
      if (state?.lockedUntil && new Date(state.lockedUntil) > now) return { ok: false, until: new Date(state.lockedUntil) };
    }
    return { ok: false, until: new Date(now.getTime() + FIRST_DELAY_SECONDS * 1000) };
  }

  /**
   * The attempt succeeded: clears the key's failures. False when another
   * attempt locked the key after this one was reserved: the success is then
   * refused, so a right guess among racing wrong ones does not get round the lock.
   */
  async succeeded(r: Reservation): Promise<boolean> {
    return this.store.releaseAttempt(r.key, r.failures, this.clock().toISOString());
  }
}

/** Whole seconds from `now` until `until`, at least 1: what a client waits before trying again. */
export const retryAfterSeconds = (until: Date, now: Date) => Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
