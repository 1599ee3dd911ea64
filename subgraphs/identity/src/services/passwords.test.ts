import { PortalError } from '@portal/kit';
import { HashSlots, hashPassword } from './passwords';
import { hashClientSecret, verifyClientSecret } from './serviceClients';

/** A hash that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, work: () => opened.then(() => 'done') };
}

describe('HashSlots', () => {
  it('runs at most `concurrency` at once, queues up to `queue`, and refuses the rest at once with SERVICE_UNAVAILABLE', async () => {
    const slots = new HashSlots(2, 1);
    const gates = [gate(), gate(), gate()];
    const running = gates.map((g) => slots.run(g.work));
    expect(slots.load).toEqual({ running: 2, waiting: 1 });

    const refused = await slots.run(async () => 'never').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PortalError);
    expect((refused as PortalError).extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', http: { status: 503 } });

    gates[0].open();
    await running[0];
    // The waiter took the freed slot.
    expect(slots.load).toEqual({ running: 2, waiting: 0 });
    gates[1].open();
    gates[2].open();
    expect(await Promise.all(running)).toEqual(['done', 'done', 'done']);
    expect(slots.load).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot when the work fails', async () => {
    const slots = new HashSlots(1, 0);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.run(async () => 'next')).toBe('next');
  });
});

describe('service-client secrets', () => {
  it('are stored as SHA-256 and checked against it', async () => {
    const stored = hashClientSecret('s3cret-of-43-characters-aaaaaaaaaaaaaaaaaaa');
    expect(stored).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyClientSecret('s3cret-of-43-characters-aaaaaaaaaaaaaaaaaaa', stored)).toBe(true);
    expect(await verifyClientSecret('s3cret-of-43-characters-aaaaaaaaaaaaaaaaaab', stored)).toBe(false);
    expect(await verifyClientSecret('anything', 'md5$abc')).toBe(false);
  });

  it('stored with scrypt before still verify', async () => {
    const legacy = await hashPassword('an-old-secret');
    expect(await verifyClientSecret('an-old-secret', legacy)).toBe(true);
    expect(await verifyClientSecret('another', legacy)).toBe(false);
  });
});
