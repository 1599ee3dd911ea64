import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { serviceBusy } from '@portal/kit';

// N=2^15, r=8: about 32 MiB and tens of milliseconds per hash, OWASP's scrypt floor.
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

/**
 * A counting semaphore with a bounded queue. Each scrypt takes 32 MiB and a
 * libuv thread for tens of milliseconds: unbounded, a flood of sign-ins
 * (for unknown usernames too, which burn the same hash) takes every thread
 * and the memory with it. Bounded, the excess is refused at once.
 */
export class HashSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  /** Hashes computed and refused so far, for the abuse benchmark. */
  readonly stats = { computed: 0, refused: 0 };

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) {
        this.stats.refused++;
        throw hashingBusy();
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      this.stats.computed++;
      return await work();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never drops below what is really running.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Hashes running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}

const hashingBusy = () => serviceBusy('Sign-in is very busy right now. Try again in a moment.', 1);

let slots = new HashSlots(2, 32);

/** PASSWORD_HASH_CONCURRENCY and PASSWORD_HASH_QUEUE, set once per process at start. */
export function configurePasswordHashing(settings: { concurrency: number; queue: number } | undefined): void {
  if (settings && (settings.concurrency !== slots.concurrency || settings.queue !== slots.queue)) slots = new HashSlots(settings.concurrency, settings.queue);
}

/** scrypt computations this process has run and refused (queue full) so far. */
export const passwordHashStats = () => ({ ...slots.stats });

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return slots.run(() => rawScrypt(password, salt, options));
}

function rawScrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: 128 * options.N! * options.r! * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummyHash: Promise<string> | undefined;

/** Spends the same time as a real check, so an unknown username cannot be told apart by timing. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(12).toString('hex'));
  await verifyPassword(password, await dummyHash);
}
