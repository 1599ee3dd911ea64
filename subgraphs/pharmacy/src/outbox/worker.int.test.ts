/**
 * The outbox worker against its real database (SQLite or PostgreSQL) and
 * stand-ins for identity's token endpoint and messaging, whose answers each
 * test chooses. The whole path through the real services is in
 * test/src/pharmacy-outbox.e2e.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DEMO } from '@portal/demo';
import { startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import type { OutboxRow } from '../db/entities';
import { PharmacyStore } from '../db/store';
import { pharmacyFactory } from '../factories';
import { createPharmacyModule } from '../module';
import { seedDemo } from '../seed';
import { notifierSettings, type NotifierOptions } from './settings';
import { OutboxWorker } from './worker';

type Answer = { status: number; body: unknown } | 'hang';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Fake {
  url: string;
  /** Bodies received, in order. */
  received: { authorization?: string; body: any }[];
  answer: (body: any) => Answer | Promise<Answer>;
  close(): Promise<void>;
}

async function fakeServer(answer: Fake['answer']): Promise<Fake> {
  const fake: Fake = { url: '', received: [], answer, close: async () => undefined };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', async () => {
      const body = JSON.parse(raw || '{}');
      fake.received.push({ authorization: req.headers.authorization, body });
      const a = await fake.answer(body);
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  server.closeAllConnections?.();
  return fake;
}

const accepted = (body: any): Answer => ({ status: 200, body: { data: { postCareTeamMessage: { id: `th-${body.variables.input.idempotencyKey}` } } } });

let t: TestSubgraph;
let store: PharmacyStore;
let identity: Fake;
let messaging: Fake;
let tokens = 0;
const workers: OutboxWorker[] = [];

beforeAll(async () => {
  t = await startTestSubgraph(createPharmacyModule());
  await seedDemo(t.server.database.dataSource);
  store = new PharmacyStore(t.server.database.dataSource);
  identity = await fakeServer(() => ({ status: 200, body: { access_token: `token-${++tokens}`, token_type: 'Bearer', expires_in: 300, scope: 'messaging:write' } }));
  messaging = await fakeServer(accepted);
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  // Leave no due row behind for the next test.
  await t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET delivered_at = 'cleared' WHERE delivered_at IS NULL`);
  messaging.answer = accepted;
  messaging.received.length = 0;
});
afterAll(async () => {
  await identity?.close();
  await messaging?.close();
  await t?.stop();
});

/** A worker of short retries; its log lines go to `log` (by default nowhere). */
function worker(over: Partial<NotifierOptions> = {}, log: string[] = []): OutboxWorker {
  const w = new OutboxWorker(
    t.server.database.dataSource,
    notifierSettings({ messagingUrl: messaging.url, identityUrl: identity.url, clientId: 'pharmacy', clientSecret: 'secret', retryBaseMs: 200, retryMaxMs: 1_000, pollMs: 60_000, ...over }, ''),
    (line) => log.push(line),
  );
  workers.push(w);
  return w;
}

/**
 * Outbox rows of fresh requests (the foreign key needs a request), due a
 * second ago. Each is created 1 ms after the one before, so their order is
 * known: rows queued in one millisecond would tie, and the worker orders ties
 * by their random ids. `sameDue` gives them all one next-attempt time.
 */
async function queue(n: number, { sameDue = false } = {}): Promise<OutboxRow[]> {
  const make = pharmacyFactory(t.server.database.dataSource);
  const rows: OutboxRow[] = [];
  const base = Date.now() - 1_000;
  for (let i = 0; i < n; i++) {
    const request = await make.request(await make.prescription(DEMO.jane, { refillsRemaining: 0 }), 'RENEWAL', { status: 'DENIED' });
    const at = new Date(base + i).toISOString();
    const row: OutboxRow = {
      id: randomUUID(), idempotencyKey: `renewal-decision:${request.id}`, requestId: request.id, patientId: DEMO.jane, careTeamId: DEMO.careTeamBlue,
      category: 'MEDICATION', subject: 'Your prescription renewal was not approved', body: `Reason: test ${i}`, senderName: 'Your care team',
      createdAt: at, attempts: 0, refusals: 0, nextAttemptAt: sameDue ? new Date(base).toISOString() : at, lockedUntil: null, lockedBy: null, deliveredAt: null, deadAt: null, lastError: null,
    };
    await store.insertOutbox(row);
    rows.push(row);
  }
  return rows;
}

const stored = async (row: OutboxRow) => (await store.outboxOfRequest(row.requestId))[0];

/** `at` lies in [from, to]: bounds taken around the call under test, so a slow machine cannot fail it. */
function expectWithin(at: number, from: number, to: number): void {
  expect(at).toBeGreaterThanOrEqual(from);
  expect(at).toBeLessThanOrEqual(to);
}

/** Makes a waiting row due now, as if its retry delay had passed. */
async function makeDue(row: OutboxRow): Promise<void> {
  await t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET next_attempt_at = '${new Date(Date.now() - 1).toISOString()}' WHERE id = '${row.id}'`);
}

/** Polls until `done` holds; only a generous deadline (not a timing assertion) ends it. */
async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

it('posts each due message to messaging with a service token asked for once, and marks it delivered', async () => {
  const rows = await queue(3);
  const tokensBefore = tokens;
  expect(await worker().tick()).toBe(3);
  expect(tokens - tokensBefore).toBe(1);
  expect(messaging.received.map((r) => r.body.variables.input)).toEqual(
    rows.map((r) => ({
      patientId: DEMO.jane, careTeamId: DEMO.careTeamBlue, category: 'MEDICATION', subject: r.subject, body: r.body,
      idempotencyKey: r.idempotencyKey, senderName: 'Your care team',
    })),
  );
  expect(messaging.received[0].authorization).toBe(`Bearer token-${tokens}`);
  expect(identity.received.at(-1)?.body).toEqual({ grant_type: 'client_credentials', client_id: 'pharmacy', client_secret: 'secret', scope: 'messaging:write' });
  for (const r of rows) expect(await stored(r)).toMatchObject({ attempts: 1, deliveredAt: expect.any(String), lockedUntil: null, lockedBy: null, lastError: null });
  // Nothing is due any more.
  expect(await worker().tick()).toBe(0);
  expect(messaging.received).toHaveLength(3);
});

it('delivers rows due at the same moment oldest first, whatever their ids', async () => {
  // Ids chosen so that id order is the reverse of creation order.
  const rows = await queue(4, { sameDue: true });
  const ids = ['d', 'c', 'b', 'a'];
  for (const [i, r] of rows.entries()) {
    await t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET id = '${ids[i]}-${r.id}' WHERE id = '${r.id}'`);
  }
  expect(await worker({ batchSize: 2 }).tick()).toBe(4);
  expect(messaging.received.map((r) => r.body.variables.input.idempotencyKey)).toEqual(rows.map((r) => r.idempotencyKey));
});

it('backs off exponentially while messaging fails, keeps only the error class, and delivers once it answers', async () => {
  const [row] = await queue(1);
  messaging.answer = () => ({ status: 503, body: { errors: [{ message: `patient ${DEMO.jane} is on lisinopril`, extensions: { code: 'SERVICE_UNAVAILABLE' } }] } });
  // Delays long enough that "not due yet" holds however slow the machine; time passing is simulated by moving the row's due time.
  const w = worker({ retryBaseMs: 60_000, retryMaxMs: 600_000 });
  let t0 = Date.now();
  expect(await w.tick()).toBe(0);
  let t1 = Date.now();
  let now = await stored(row);
  expect(now).toMatchObject({ attempts: 1, deliveredAt: null, lastError: 'GraphQL SERVICE_UNAVAILABLE', lockedBy: null });
  // The failure happened between t0 and t1; the next attempt is one base delay after it.
  expectWithin(Date.parse(now.nextAttemptAt) - 60_000, t0, t1);
  // Not due yet: no attempt.
  expect(await w.tick()).toBe(0);
  expect((await stored(row)).attempts).toBe(1);

  await makeDue(row);
  messaging.answer = () => ({ status: 502, body: 'Bad gateway' });
  t0 = Date.now();
  expect(await w.tick()).toBe(0);
  t1 = Date.now();
  now = await stored(row);
  expect(now).toMatchObject({ attempts: 2, lastError: 'HTTP 502' });
  // The second failure waits twice as long as the first.
  expectWithin(Date.parse(now.nextAttemptAt) - 120_000, t0, t1);

  await makeDue(row);
  messaging.answer = accepted;
  expect(await w.tick()).toBe(1);
  expect(await stored(row)).toMatchObject({ attempts: 3, deliveredAt: expect.any(String), lastError: null });
});

it('caps the back-off and never gives up; a refused connection is a NetworkError', async () => {
  const [row] = await queue(1);
  await t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET attempts = 40 WHERE id = '${row.id}'`);
  const down = worker({ messagingUrl: 'http://127.0.0.1:1' });
  const t0 = Date.now();
  await down.tick();
  const t1 = Date.now();
  const now = await stored(row);
  expect(now).toMatchObject({ attempts: 41, refusals: 0, lastError: 'NetworkError', deliveredAt: null, deadAt: null });
  // 200 ms x 2^40 capped at retryMaxMs (1 s).
  expectWithin(Date.parse(now.nextAttemptAt) - 1_000, t0, t1);
});

it('asks identity for a new token when messaging refuses the cached one', async () => {
  const rows = await queue(2);
  const w = worker();
  // The first post is refused, whichever row it carries: the test does not depend on the order of delivery.
  let refusedKey: string | undefined;
  messaging.answer = (body) => {
    if (refusedKey === undefined) {
      refusedKey = body.variables.input.idempotencyKey;
      return { status: 200, body: { errors: [{ message: 'The access token is not valid.', extensions: { code: 'UNAUTHENTICATED' } }] } };
    }
    return accepted(body);
  };
  const before = tokens;
  expect(await w.tick()).toBe(1);
  const refused = rows.find((r) => r.idempotencyKey === refusedKey)!;
  const other = rows.find((r) => r !== refused)!;
  expect(rows.map((r) => r.idempotencyKey)).toContain(refusedKey);
  expect(await stored(refused)).toMatchObject({ lastError: 'GraphQL UNAUTHENTICATED', deliveredAt: null });
  expect((await stored(other)).deliveredAt).toEqual(expect.any(String));
  // The refused post used the first token; the next post asked identity for a second one.
  expect(tokens - before).toBe(2);
  expect(messaging.received.map((r) => r.authorization)).toEqual([`Bearer token-${before + 1}`, `Bearer token-${before + 2}`]);
});

it('never posts one message twice when two workers run at the same moment', async () => {
  const rows = await queue(12);
  const [one, two] = [worker({ batchSize: 3 }), worker({ batchSize: 3 })];
  const [a, b] = await Promise.all([one.tick(), two.tick()]);
  expect(a + b).toBe(12);
  const keys = messaging.received.map((r) => r.body.variables.input.idempotencyKey);
  expect(keys.sort()).toEqual(rows.map((r) => r.idempotencyKey).sort());
});

it('leaves a row another worker holds alone until the lease lapses', async () => {
  const [row] = await queue(1);
  const held = new Date(Date.now() + 600_000).toISOString();
  await t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET locked_until = '${held}', locked_by = 'crashed-worker', attempts = 1 WHERE id = '${row.id}'`);
  const w = worker();
  expect(await w.tick()).toBe(0);
  expect(await stored(row)).toMatchObject({ attempts: 1, lockedBy: 'crashed-worker', deliveredAt: null });
  // The lease lapses (moved into the past rather than waited for).
  const lapsed = new Date(Date.now() - 1).toISOString();
  await t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET locked_until = '${lapsed}' WHERE id = '${row.id}'`);
  expect(await w.tick()).toBe(1);
  expect(await stored(row)).toMatchObject({ attempts: 2, deliveredAt: expect.any(String) });
});

it('runs by itself once started: a kick delivers at once, a poll picks up the rest (uncounted), stop ends it', async () => {
  const w = worker({ pollMs: 150 });
  w.start();
  const [row] = await queue(1);
  w.kick();
  await until(async () => (await stored(row)).deliveredAt !== null, 'the kicked delivery');
  expect((await stored(row)).deliveredAt).toEqual(expect.any(String));
  const [later] = await queue(1);
  await until(async () => (await stored(later)).deliveredAt !== null, 'the polled delivery');
  expect((await stored(later)).deliveredAt).toEqual(expect.any(String));
  // Its polls are background work: they never show in the statement count that tests and benchmarks read of requests.
  t.resetStatements();
  await sleep(400);
  expect(t.statements()).toBe(0);
  await w.stop();
  const [after] = await queue(1);
  await sleep(400);
  expect((await stored(after)).deliveredAt).toBeNull();
});

it('stops promptly in the middle of a delivery and gives the row back', async () => {
  const [row] = await queue(1);
  messaging.answer = () => 'hang';
  // A request timeout far beyond Jest's 60 s: if stop() waited for the delivery instead of aborting it, the test would time out.
  const w = worker({ requestTimeoutMs: 600_000 });
  const pass = w.tick();
  await until(() => messaging.received.length > 0, 'the delivery to start');
  await w.stop();
  expect(await pass).toBe(0);
  expect(await stored(row)).toMatchObject({ deliveredAt: null, lockedBy: null, lastError: 'Stopped' });
});

describe('refusals', () => {
  const refuse = (code: string) => (): Answer => ({ status: 200, body: { errors: [{ message: `patient ${DEMO.jane} is on lisinopril`, extensions: { code } }] } });

  it('gives up on a row messaging refuses for good after maxRefusals refusals: dead, logged once, counted, never tried again', async () => {
    const [row] = await queue(1);
    const log: string[] = [];
    const w = worker({ maxRefusals: 3, retryBaseMs: 60_000, retryMaxMs: 600_000 }, log);
    const before = await w.counts();
    // A transient failure first: retried, and no refusal.
    messaging.answer = () => ({ status: 503, body: 'Service unavailable' });
    expect(await w.tick()).toBe(0);
    expect(await stored(row)).toMatchObject({ attempts: 1, refusals: 0, deadAt: null, lastError: 'HTTP 503' });
    messaging.answer = refuse('BAD_USER_INPUT');
    for (const refusals of [1, 2, 3]) {
      await makeDue(row);
      expect(await w.tick()).toBe(0);
      expect(await stored(row)).toMatchObject({ attempts: refusals + 1, refusals, deliveredAt: null, lockedBy: null, lastError: 'GraphQL BAD_USER_INPUT' });
    }
    const dead = await stored(row);
    expect(dead.deadAt).toEqual(expect.any(String));
    expect(log.filter((l) => l.includes('dead'))).toEqual([`row ${row.id} is dead: refused (GraphQL BAD_USER_INPUT) 3 times in 4 attempts; it will not be tried again`]);
    // No log line carries the message or the answer: only ids, error classes and counts.
    expect(log.join('\n')).not.toMatch(/lisinopril|pt-|Reason/);
    expect(await w.counts()).toMatchObject({ pending: before.pending - 1, dead: before.dead + 1 });
    // Each purge (hourly) says how many dead rows remain.
    await w.purge();
    expect(log.at(-1)).toMatch(/^\d+ dead rows \(never to be tried again\) and \d+ pending$/);
    // Even due again, a dead row is never claimed.
    await makeDue(row);
    const posts = messaging.received.length;
    expect(await w.tick()).toBe(0);
    expect(messaging.received).toHaveLength(posts);
    expect(await stored(row)).toMatchObject({ attempts: 4, deadAt: dead.deadAt });
  });

  it('counts only permanent refusals: a row that failed transiently many times is not dead at its first refusal', async () => {
    const [row] = await queue(1);
    await t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET attempts = 40 WHERE id = '${row.id}'`);
    messaging.answer = refuse('FORBIDDEN');
    expect(await worker({ maxRefusals: 2 }).tick()).toBe(0);
    expect(await stored(row)).toMatchObject({ attempts: 41, refusals: 1, deadAt: null, lastError: 'GraphQL FORBIDDEN' });
  });

  it('treats a 4xx without a code as a refusal, but not 429', async () => {
    const [limited, refused] = await queue(2);
    messaging.answer = (body) => (body.variables.input.idempotencyKey === limited.idempotencyKey ? { status: 429, body: null } : { status: 404, body: null });
    expect(await worker({ maxRefusals: 1 }).tick()).toBe(0);
    expect(await stored(limited)).toMatchObject({ refusals: 0, deadAt: null, lastError: 'HTTP 429' });
    expect(await stored(refused)).toMatchObject({ refusals: 1, deadAt: expect.any(String), lastError: 'HTTP 404' });
  });
});

describe('the lease', () => {
  const lapse = (except?: string) =>
    t.server.database.dataSource.query(
      `UPDATE pharmacy_outbox SET locked_until = '${new Date(Date.now() - 1).toISOString()}' WHERE locked_by IS NOT NULL AND delivered_at IS NULL${except ? ` AND idempotency_key <> '${except}'` : ''}`,
    );

  it('is renewed before each row: rows later in a batch are still held however long the rows before them took', async () => {
    await queue(3);
    const seen: { until: string; at: string }[] = [];
    messaging.answer = async (body) => {
      const key = body.variables.input.idempotencyKey;
      const [row] = await t.server.database.dataSource.query(`SELECT locked_until FROM pharmacy_outbox WHERE idempotency_key = '${key}'`);
      seen.push({ until: row.locked_until, at: new Date().toISOString() });
      // Time passes beyond the lease while this row is posted (moved, not waited for).
      await lapse();
      return accepted(body);
    };
    expect(await worker({ batchSize: 3 }).tick()).toBe(3);
    expect(seen).toHaveLength(3);
    for (const s of seen) expect(s.until > s.at).toBe(true);
  });

  it('never posts a row twice when another worker took the rest of a batch whose lease lapsed', async () => {
    const rows = await queue(3);
    const [a, b] = [worker({ batchSize: 3 }), worker({ batchSize: 3 })];
    let byB = -1;
    messaging.answer = async (body) => {
      if (byB === -1) {
        byB = 0;
        // A's lease on the rows it has not started lapses, and B claims and delivers them meanwhile.
        await lapse(body.variables.input.idempotencyKey);
        byB = await b.tick();
      }
      return accepted(body);
    };
    expect(await a.tick()).toBe(1);
    expect(byB).toBe(2);
    const keys = messaging.received.map((r) => r.body.variables.input.idempotencyKey);
    expect(keys.sort()).toEqual(rows.map((r) => r.idempotencyKey).sort());
    for (const r of rows) expect(await stored(r)).toMatchObject({ deliveredAt: expect.any(String), lockedBy: null });
    // Each claim counts an attempt: A's first row once, the two B took twice.
    expect((await Promise.all(rows.map(stored))).map((r) => r.attempts).sort()).toEqual([1, 2, 2]);
  });
});

describe('purge', () => {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

  it('deletes delivered and dead rows older than the retention period, on its schedule, and nothing else', async () => {
    const [oldDelivered, newDelivered, oldPending, oldDead, newDead] = await queue(5);
    const set = (row: OutboxRow, columns: string) => t.server.database.dataSource.query(`UPDATE pharmacy_outbox SET ${columns} WHERE id = '${row.id}'`);
    await set(oldDelivered, `delivered_at = '${hoursAgo(25)}', created_at = '${hoursAgo(26)}'`);
    await set(newDelivered, `delivered_at = '${hoursAgo(23)}', created_at = '${hoursAgo(300)}'`);
    // Pending for a long time (messaging away): kept, however old.
    await set(oldPending, `created_at = '${hoursAgo(300)}', next_attempt_at = '${new Date(Date.now() + 600_000).toISOString()}'`);
    await set(oldDead, `dead_at = '${hoursAgo(25)}'`);
    await set(newDead, `dead_at = '${hoursAgo(23)}'`);
    const log: string[] = [];
    const w = worker({ retentionHours: 24 }, log);
    // The first pass purges; the next within purgeEveryMs (an hour) does not.
    expect(await w.tick()).toBe(0);
    const left = async (rows: OutboxRow[]) => (await Promise.all(rows.map(stored))).map((r) => r !== undefined);
    expect(await left([oldDelivered, newDelivered, oldPending, oldDead, newDead])).toEqual([false, true, true, false, true]);
    expect(log).toContainEqual(expect.stringMatching(/^purged \d+ delivered or dead rows older than 24 h$/));
    await set(newDelivered, `delivered_at = '${hoursAgo(25)}'`);
    expect(await w.tick()).toBe(0);
    expect(await left([newDelivered])).toEqual([true]);
    // Called by hand (or at the next scheduled pass) it goes.
    expect(await w.purge()).toBeGreaterThanOrEqual(1);
    expect(await left([newDelivered, oldPending, newDead])).toEqual([false, true, true]);
  });
});
