/**
 * Identity's notice worker against its real database (SQLite or PostgreSQL)
 * and a stand-in for messaging whose answers each test chooses: delivery,
 * dead letters, the lease under two workers, and the purge. The runner itself
 * is the kit's (subgraphs/kit/src/outbox.ts), tested at length through
 * pharmacy's outbox (subgraphs/pharmacy/src/outbox/worker.int.test.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DEMO } from '@portal/demo';
import { testSigningKey } from '@portal/kit/testing';
import type { NoticeRow } from '../db/entities';
import { IdentityStore } from '../db/store';
import { startIdentity, type TestIdentity } from '../testing';
import { NoticeWorker, type NoticeOptions } from './worker';

type Answer = { status: number; body: unknown };

interface FakeMessaging {
  url: string;
  received: any[];
  answer: (body: any) => Answer;
  close(): Promise<void>;
}

async function fakeMessaging(): Promise<FakeMessaging> {
  const fake: FakeMessaging = { url: '', received: [], answer: accepted, close: async () => undefined };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}');
      fake.received.push(body);
      const a = fake.answer(body);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

function accepted(body: any): Answer {
  return { status: 200, body: { data: { postCareTeamMessage: { id: `th-${body.variables.input.idempotencyKey}` } } } };
}

let identity: TestIdentity;
let messaging: FakeMessaging;
let store: IdentityStore;
const workers: NoticeWorker[] = [];

beforeAll(async () => {
  identity = await startIdentity();
  store = new IdentityStore(identity.server.database.dataSource);
  messaging = await fakeMessaging();
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  await identity.server.database.dataSource.query(`UPDATE identity_notice SET delivered_at = '${new Date().toISOString()}' WHERE delivered_at IS NULL`);
  messaging.answer = accepted;
  messaging.received.length = 0;
});
afterAll(async () => {
  await messaging?.close();
  await identity?.stop();
});

async function worker(over: Partial<NoticeOptions> = {}, log: string[] = []): Promise<NoticeWorker> {
  const keys = { signing: await testSigningKey(), jwks: [] };
  const w = new NoticeWorker(identity.server.database.dataSource, keys, { messagingUrl: () => messaging.url, retryBaseMs: 60_000, retryMaxMs: 600_000, pollMs: 60_000, log: (l) => log.push(l), ...over });
  workers.push(w);
  return w;
}

/** Notices to `personId`, due a second ago, each created 1 ms after the one before. */
async function queue(n: number, personId: string = DEMO.jane): Promise<NoticeRow[]> {
  const rows: NoticeRow[] = [];
  const base = Date.now() - 1_000;
  for (let i = 0; i < n; i++) {
    const at = new Date(base + i).toISOString();
    const row: NoticeRow = {
      id: randomUUID(), personId, accountId: `acct-${randomUUID()}`, kind: 'DS_LOGON_ADDED', subject: 'A DS Logon username and password were added', body: `Test notice ${i}`,
      createdAt: at, attempts: 0, refusals: 0, nextAttemptAt: at, deliveredAt: null, deadAt: null, leaseBy: null, leaseUntil: null, lastError: null,
    };
    await store.insertNotice(row);
    rows.push(row);
  }
  return rows;
}

const stored = async (row: NoticeRow): Promise<Record<string, unknown> | undefined> =>
  (await identity.server.database.dataSource.query(`SELECT attempts, refusals, delivered_at, dead_at, lease_by, last_error FROM identity_notice WHERE id = '${row.id}'`))[0];

async function makeDue(row: NoticeRow): Promise<void> {
  await identity.server.database.dataSource.query(`UPDATE identity_notice SET next_attempt_at = '${new Date(Date.now() - 1).toISOString()}' WHERE id = '${row.id}'`);
}

it('posts each notice from the patient’s care team with its own idempotency key, and marks it delivered', async () => {
  const rows = await queue(2);
  expect(await (await worker()).tick()).toBe(2);
  expect(messaging.received.map((b) => b.variables.input.idempotencyKey).sort()).toEqual(rows.map((r) => `identity-notice-${r.id}`).sort());
  expect(messaging.received[0].variables.input).toMatchObject({ patientId: DEMO.jane, careTeamId: expect.any(String), category: 'GENERAL', senderName: 'Portal account security' });
  for (const r of rows) expect(await stored(r)).toMatchObject({ delivered_at: expect.any(String), dead_at: null, lease_by: null, last_error: null });
});

it('sends nothing and claims nothing while messaging’s address is unknown', async () => {
  const [row] = await queue(1);
  expect(await (await worker({ messagingUrl: () => undefined })).tick()).toBe(0);
  expect(messaging.received).toHaveLength(0);
  expect(Number((await stored(row))!.attempts)).toBe(0);
});

it('gives up on a notice messaging refuses for good after maxRefusals refusals: dead, logged once, counted', async () => {
  const [row] = await queue(1);
  const log: string[] = [];
  const w = await worker({ maxRefusals: 2 }, log);
  const before = await w.counts();
  messaging.answer = () => ({ status: 200, body: { errors: [{ message: 'Variable "$input" got invalid value', extensions: { code: 'BAD_USER_INPUT' } }] } });
  expect(await w.tick()).toBe(0);
  expect(await stored(row)).toMatchObject({ refusals: expect.anything(), dead_at: null, last_error: 'GraphQL BAD_USER_INPUT' });
  await makeDue(row);
  expect(await w.tick()).toBe(0);
  const dead = (await stored(row))!;
  expect(dead).toMatchObject({ dead_at: expect.any(String), delivered_at: null, last_error: 'GraphQL BAD_USER_INPUT' });
  expect(Number(dead.refusals)).toBe(2);
  expect(log.filter((l) => l.includes('dead'))).toEqual([`row ${row.id} is dead: refused (GraphQL BAD_USER_INPUT) 2 times in 2 attempts; it will not be tried again`]);
  expect(await w.counts()).toMatchObject({ pending: before.pending - 1, dead: before.dead + 1 });
  await makeDue(row);
  expect(await w.tick()).toBe(0);
  expect(messaging.received).toHaveLength(2);
});

it('waits, without counting a refusal, for a patient with no care team', async () => {
  const [row] = await queue(1, `pt-${randomUUID()}`);
  expect(await (await worker({ maxRefusals: 1 })).tick()).toBe(0);
  const now = (await stored(row))!;
  expect(now).toMatchObject({ dead_at: null, delivered_at: null, last_error: 'No care team' });
  expect(Number(now.refusals)).toBe(0);
  expect(messaging.received).toHaveLength(0);
});

it('never posts one notice twice when two workers run at the same moment', async () => {
  const rows = await queue(8);
  const [a, b] = [await worker({ batchSize: 2 }), await worker({ batchSize: 2 })];
  const [x, y] = await Promise.all([a.tick(), b.tick()]);
  expect(x + y).toBe(8);
  expect(messaging.received.map((body) => body.variables.input.idempotencyKey).sort()).toEqual(rows.map((r) => `identity-notice-${r.id}`).sort());
});

it('purges delivered and dead notices older than the retention period, and keeps pending ones', async () => {
  const [delivered, dead, pending, recent] = await queue(4);
  const old = new Date(Date.now() - 49 * 3_600_000).toISOString();
  const db = identity.server.database.dataSource;
  await db.query(`UPDATE identity_notice SET delivered_at = '${old}' WHERE id = '${delivered.id}'`);
  await db.query(`UPDATE identity_notice SET dead_at = '${old}' WHERE id = '${dead.id}'`);
  await db.query(`UPDATE identity_notice SET created_at = '${old}', next_attempt_at = '${new Date(Date.now() + 600_000).toISOString()}' WHERE id = '${pending.id}'`);
  await db.query(`UPDATE identity_notice SET delivered_at = '${new Date().toISOString()}', next_attempt_at = '${new Date(Date.now() + 600_000).toISOString()}' WHERE id = '${recent.id}'`);
  expect(await (await worker({ retentionHours: 48 })).purge()).toBeGreaterThanOrEqual(2);
  expect(await stored(delivered)).toBeUndefined();
  expect(await stored(dead)).toBeUndefined();
  expect(await stored(pending)).toMatchObject({ delivered_at: null, dead_at: null });
  expect(await stored(recent)).toMatchObject({ delivered_at: expect.any(String) });
});
