/**
 * The patient is told even when messaging is down at the moment of the
 * decision: the decision commits with its message in pharmacy's outbox, the
 * worker retries while messaging is away, and delivers exactly one message
 * once messaging is back on the same port and database.
 */
import path from 'node:path';
import { startSubgraph, type RunningSubgraph } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { createMessagingModule } from '@portal/messaging';
import { alexToken, operation, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let restarted: RunningSubgraph | undefined;

beforeAll(async () => {
  // Short retries so the test sees several attempts and a quick delivery after the restart.
  process.env.PHARMACY_OUTBOX_POLL_MS = '300';
  process.env.PHARMACY_OUTBOX_RETRY_BASE_MS = '200';
  process.env.PHARMACY_OUTBOX_RETRY_MAX_MS = '800';
  stack = await startTestStack();
});
afterAll(async () => {
  await restarted?.close();
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outboxOf = async (requestId: string) =>
  stack.subgraphs.pharmacy.database.dataSource.query(`SELECT attempts, delivered_at, last_error, idempotency_key FROM pharmacy_outbox WHERE request_id = '${requestId}'`);

/** Waits up to `ms` for `check` to hold: a deadline for a loaded machine, not a timing assertion (the assertions after it decide). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  let value = await read();
  while (!check(value) && Date.now() < until) {
    await sleep(100);
    value = await read();
  }
  return value;
}

it('stores the decision with messaging down, retries, and tells the patient once messaging is back', async () => {
  const john = await stack.signIn('john.roe', 'Demo-Password-2');
  // Only a practitioner decides a renewal: Alex treats John.
  const alex = await alexToken(stack);
  const requestId = 'rq-john-atorvastatin-renewal';
  const subject = 'Your prescription renewal was approved';
  const threadsAbout = async () => {
    const res = await stack.query(operation('MessageThreads'), { folder: 'INBOX', first: 50 }, john);
    if (res.errors) return null;
    return res.data.me.patient.messageThreads.edges.map((e: any) => e.node).filter((n: any) => n.subject === subject);
  };
  expect(await threadsAbout()).toEqual([]);

  // Messaging goes away; remember where it lived.
  const messaging = stack.subgraphs.messaging;
  const port = Number(new URL(messaging.url).port);
  const options = messaging.database.dataSource.options as { schema?: string; database?: unknown };
  const databaseName = messaging.database.kind === 'postgres' ? options.schema! : path.basename(String(options.database), '.sqlite');
  await messaging.close();

  const decided = await stack.query(operation('DecideRenewal'), { requestId, approve: true, refills: 2, daysSupply: 90 }, alex);
  expect(decided.errors).toBeUndefined();
  expect(decided.data.decideRenewal).toMatchObject({ id: requestId, status: 'APPROVED', newPrescription: { renewedFrom: { id: 'rx-john-atorvastatin' } } });
  const [stored] = await stack.subgraphs.pharmacy.database.dataSource.query(`SELECT status, new_prescription_id FROM pharmacy_request WHERE id = '${requestId}'`);
  expect(stored).toEqual({ status: 'APPROVED', new_prescription_id: decided.data.decideRenewal.newPrescription.id });

  // The message waits in the outbox, tried again and again.
  const failing = await eventually(() => outboxOf(requestId), (rows) => rows.length === 1 && Number(rows[0].attempts) >= 2);
  expect(failing).toEqual([{ attempts: expect.anything(), delivered_at: null, last_error: 'NetworkError', idempotency_key: `renewal-decision:${requestId}` }]);
  expect(Number(failing[0].attempts)).toBeGreaterThanOrEqual(2);

  // Messaging comes back on the same port and database.
  restarted = await startSubgraph(createMessagingModule(), { config: messaging.runtime.config, port, databaseName });

  const delivered = await eventually(() => outboxOf(requestId), (rows) => rows[0].delivered_at !== null);
  expect(delivered[0]).toMatchObject({ delivered_at: expect.any(String), last_error: null });
  const threads = await eventually(threadsAbout, (list) => Array.isArray(list) && list.length > 0);
  expect(threads).toEqual([expect.objectContaining({ category: 'MEDICATION', unread: true, careTeam: { id: DEMO.careTeamBlue, name: 'Primary Care Team Blue' } })]);
  const thread = await stack.query(`query($id: ID!) { messageThread(id: $id) { messages { body senderRole } } }`, { id: threads![0].id }, john);
  expect(thread.data.messageThread.messages).toEqual([
    { body: expect.stringContaining('renew your Atorvastatin prescription.'), senderRole: 'SYSTEM' },
  ]);
  expect(thread.data.messageThread.messages[0].body).toMatch(/has 2 refills and is valid until \d{4}-\d{2}-\d{2}\./);

  // Further passes of the worker send nothing more.
  const attempts = Number(delivered[0].attempts);
  await sleep(1_000);
  expect(await threadsAbout()).toHaveLength(1);
  const [after] = await outboxOf(requestId);
  expect(Number(after.attempts)).toBe(attempts);
  const messages = await restarted.database.dataSource.query(`SELECT COUNT(*) AS "n" FROM message WHERE idempotency_key = 'renewal-decision:${requestId}'`);
  expect(Number(messages[0].n)).toBe(1);
});
