/**
 * Messaging's changes and their audit rows commit together: with audit_event
 * refusing inserts, a new thread, a reply and a read mark store nothing.
 */
import { DEMO } from '@portal/demo';
import { gql, refuseAuditInserts, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { createMessagingModule } from './module';

let t: TestSubgraph;
const db = () => t.server.database.dataSource;
const count = async (table: string, where: string) => Number((await db().query(`SELECT COUNT(*) AS "n" FROM ${table} WHERE ${where}`))[0].n);
const SEND = `mutation($body: String!) { sendMessage(input: { careTeamId: "${DEMO.careTeamBlue}", category: GENERAL, subject: "Audit", body: $body }) { id } }`;

beforeAll(async () => {
  t = await startTestSubgraph(createMessagingModule());
});
afterAll(async () => {
  await t?.stop();
});

it('rolls back a message and a read mark whose audit rows cannot be written', async () => {
  const patient = `pt-audit-${Date.now()}`;
  const token = await t.token({ personId: patient, careTeamIds: [DEMO.careTeamBlue] });
  const first = await gql(t.url, SEND, { body: 'Kept.' }, token);
  expect(first.errors).toBeUndefined();
  const threadId = first.data.sendMessage.id;
  const allow = await refuseAuditInserts(db());
  try {
    expect((await gql(t.url, SEND, { body: 'Lost.' }, token)).errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    const reply = await gql(t.url, `mutation($id: ID!) { replyToThread(input: { threadId: $id, body: "Lost too." }) { id } }`, { id: threadId }, token);
    expect(reply.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
    const archive = await gql(t.url, `mutation($id: ID!) { archiveThread(threadId: $id) { id } }`, { id: threadId }, token);
    expect(archive.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
  } finally {
    await allow();
  }
  expect(await count('message_thread', `patient_id = '${patient}'`)).toBe(1);
  expect(await count('message', `thread_id = '${threadId}'`)).toBe(1);
  expect(await count('thread_reader_state', `thread_id = '${threadId}' AND archived_at IS NOT NULL`)).toBe(0);
});
