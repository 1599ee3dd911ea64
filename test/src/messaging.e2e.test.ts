import { randomUUID } from 'node:crypto';
import { loadSigningKey, signAccessToken } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { gql, type GraphQLResponse } from '@portal/kit/testing';
import {
  ArchiveThreadDocument,
  CareTeamInboxDocument,
  MarkThreadReadDocument,
  MessageThreadsDocument,
  ReplyToThreadDocument,
  SendMessageDocument,
  type MessageFolder,
} from './generated/operations';
import { alexToken, dataOf, operation, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let john: string;
let alex: string;

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  john = await stack.signIn('john.roe', 'Demo-Password-2');
  alex = await alexToken(stack);
});
afterAll(() => stack?.stop());

const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
const messagingCount = async (table: string) =>
  Number((await stack.subgraphs.messaging.database.dataSource.query(`SELECT COUNT(*) AS "n" FROM ${table}`))[0].n);
const inbox = async (token: string, folder: MessageFolder = 'INBOX') => {
  const patient = dataOf(await stack.query(MessageThreadsDocument, { folder, first: 50 }, token)).me!.patient!;
  return { ...patient, messageThreads: patient.messageThreads!, unreadMessageCount: patient.unreadMessageCount! };
};
/** A care team's threads in Alex's CareTeamInbox. */
const teamInbox = async (teamId: string) => {
  const teams = dataOf(await stack.query(CareTeamInboxDocument, { first: 10 }, alex)).me!.practitioner!.careTeams;
  return teams.find((t) => t.id === teamId)!;
};

describe('secure messaging through the gateway', () => {
  it('round trip: Jane sends, Alex sees it unread in CareTeamInbox and replies, Jane sees it unread and marks it read', async () => {
    const body = 'My new cuff reads 150/95 <i>twice</i> today & I feel dizzy.\nShould I come in?';
    const vars = { careTeamId: DEMO.careTeamBlue, category: 'TEST_RESULT', subject: 'Blood pressure still high', body, idempotencyKey: `e2e-${randomUUID()}` } as const;
    const sent = await stack.query(SendMessageDocument, vars, jane);
    const thread = dataOf(sent).sendMessage;
    expect(thread).toEqual({ id: expect.any(String), subject: 'Blood pressure still high', category: 'TEST_RESULT', messages: [{ id: expect.any(String), body, sentAt: expect.any(String) }] });
    expect(await stack.query(SendMessageDocument, vars, jane)).toEqual(sent);

    const before = await inbox(jane);
    const blue = await teamInbox(DEMO.careTeamBlue);
    expect(blue.name).toBe('Primary Care Team Blue');
    expect(blue.threads?.edges[0].node).toEqual({
      id: thread.id,
      subject: 'Blood pressure still high',
      unread: true,
      lastMessageAt: thread.messages[0].sentAt,
      patient: { id: DEMO.jane, name: { family: 'Doe' } },
    });

    const reply = await stack.query(ReplyToThreadDocument, { threadId: thread.id, body: 'Please come in today; we have a slot at 3 pm.', idempotencyKey: `e2e-${randomUUID()}` }, alex);
    expect(dataOf(reply).replyToThread).toMatchObject({ body: 'Please come in today; we have a slot at 3 pm.', senderRole: 'PRACTITIONER' });

    const after = await inbox(jane);
    expect(after.unreadMessageCount).toBe(before.unreadMessageCount + 1);
    expect(after.messageThreads.edges[0].node).toMatchObject({ id: thread.id, unread: true, canReply: true, careTeam: { id: DEMO.careTeamBlue, name: 'Primary Care Team Blue' } });

    // The reply's author comes from identity through Message.practitioner.
    const full = await stack.query(`query($id: ID!) { messageThread(id: $id) { messages { senderRole senderName practitioner { id name { family } } } } }`, { id: thread.id }, jane);
    expect(full.data.messageThread.messages).toEqual([
      { senderRole: 'PATIENT', senderName: 'Patient', practitioner: null },
      { senderRole: 'PRACTITIONER', senderName: 'Care team member', practitioner: { id: DEMO.alex, name: { family: 'Kim' } } },
    ]);

    const read = await stack.query(MarkThreadReadDocument, { threadId: thread.id }, jane);
    expect(dataOf(read).markThreadRead).toEqual({ id: thread.id, unread: false });
    expect((await inbox(jane)).unreadMessageCount).toBe(before.unreadMessageCount);
    // Alex's own read state did not change: Jane's thread is still unread for him (she wrote it).
    expect((await teamInbox(DEMO.careTeamBlue)).threads?.edges[0].node).toMatchObject({ id: thread.id, unread: true });
  });

  it('archives a thread for Jane only, and a new message brings it back to her inbox', async () => {
    const thread = dataOf(await stack.query(SendMessageDocument, { careTeamId: DEMO.careTeamBlue, category: 'GENERAL', subject: 'Archive round trip', body: 'Hello.' }, jane)).sendMessage;
    const archived = await stack.query(ArchiveThreadDocument, { threadId: thread.id }, jane);
    expect(archived.data).toEqual({ archiveThread: { id: thread.id } });
    expect((await inbox(jane)).messageThreads.edges.map((e) => e.node.id)).not.toContain(thread.id);
    expect((await inbox(jane, 'ARCHIVE')).messageThreads.edges.map((e) => e.node.id)).toContain(thread.id);
    await stack.query(ReplyToThreadDocument, { threadId: thread.id, body: 'A new message from the team.' }, alex);
    expect((await inbox(jane)).messageThreads.edges[0].node.id).toBe(thread.id);
  });

  it('stores one message for 10 identical sends at the same moment', async () => {
    const vars = { careTeamId: DEMO.careTeamBlue, category: 'GENERAL', subject: 'Sent ten times', body: 'Once.', idempotencyKey: `e2e-burst-${randomUUID()}` } as const;
    const [threads, messages] = [await messagingCount('message_thread'), await messagingCount('message')];
    const responses = await Promise.all(Array.from({ length: 10 }, () => stack.query(SendMessageDocument, vars, jane)));
    // The codes of any errors, so a failure says what went wrong.
    expect(responses.map((r) => r.errors?.map((e) => e.extensions?.code) ?? [])).toEqual(Array.from({ length: 10 }, () => []));
    expect(new Set(responses.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect([await messagingCount('message_thread'), await messagingCount('message')]).toEqual([threads + 1, messages + 1]);
  });

  it('refuses with clear codes and stores nothing: closed window, legacy thread, bad input, another team, another patient’s thread', async () => {
    const messages = await messagingCount('message');
    const closed = await stack.query(ReplyToThreadDocument, { threadId: 'th-jane-old', body: 'Late.' }, jane);
    expect(codes(closed)).toEqual(['REPLY_WINDOW_CLOSED']);
    expect(codes(await stack.query(ReplyToThreadDocument, { threadId: 'th-jane-legacy', body: 'Hi.' }, jane))).toEqual(['REPLY_WINDOW_CLOSED']);
    // Untyped on purpose: some of these variables are not what the schema allows.
    const send = (over: Record<string, unknown>, token = jane) =>
      stack.query(operation('SendMessage'), { careTeamId: DEMO.careTeamBlue, category: 'GENERAL', subject: 'S', body: 'B', ...over }, token);
    expect(codes(await send({ subject: 'x'.repeat(121) }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send({ body: '' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send({ body: 'x'.repeat(10_001) }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send({ category: 'GOSSIP' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await send({ careTeamId: DEMO.careTeamGreen }, john))).toEqual(['FORBIDDEN']);
    const other = await stack.query(ReplyToThreadDocument, { threadId: 'th-jane-unread', body: 'Not mine.' }, john);
    expect(codes(other)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(other)).not.toMatch(/blood pressure|142\/91/i);
    expect(codes(await stack.query(MarkThreadReadDocument, { threadId: 'th-jane-unread' }, john))).toEqual(['NOT_FOUND']);
    expect(codes(await stack.query(ArchiveThreadDocument, { threadId: 'th-jane-unread' }))).toEqual(['UNAUTHENTICATED']);
    expect(await messagingCount('message')).toBe(messages);
  });

  it('lets a pharmacy service credential post to Jane from her care team, idempotently; a patient cannot', async () => {
    // A service credential as identity issues one (client credentials): signed with identity's key, no session.
    const key = await loadSigningKey({ dataDir: stack.dataDir, production: false });
    const claims = { accountId: 'service:pharmacy', personId: 'service:pharmacy', role: 'SERVICE', method: 'SERVICE', sessionId: randomUUID() } as const;
    const svc = (await signAccessToken(key, { ...claims, scopes: ['messaging:write'] }, 300)).token;
    const readOnly = (await signAccessToken(key, { ...claims, scopes: ['messaging:read'] }, 300)).token;
    const POST = `mutation($input: PostCareTeamMessageInput!) { postCareTeamMessage(input: $input) { id subject messages { body senderName senderRole } } }`;
    const input = { patientId: DEMO.jane, careTeamId: DEMO.careTeamBlue, category: 'MEDICATION', subject: 'Renewal approved', body: 'Your renewal was approved.', idempotencyKey: `rx-${randomUUID()}`, senderName: 'Pharmacy' };
    // Services call the messaging subgraph directly, as pharmacy will.
    const direct = (token: string, vars = input) => gql(stack.subgraphs.messaging.graphqlUrl, POST, { input: vars }, token);
    const posted = await direct(svc);
    expect(posted.errors).toBeUndefined();
    expect(posted.data.postCareTeamMessage.messages).toEqual([{ body: 'Your renewal was approved.', senderName: 'Pharmacy', senderRole: 'SYSTEM' }]);
    expect(await direct(svc)).toEqual(posted);
    expect((await stack.query(POST, { input }, svc)).data).toEqual(posted.data);
    expect((await inbox(jane)).messageThreads.edges[0].node).toMatchObject({ id: posted.data.postCareTeamMessage.id, unread: true });
    const messages = await messagingCount('message');
    expect(codes(await direct(jane, { ...input, idempotencyKey: `rx-${randomUUID()}` }))).toEqual(['FORBIDDEN']);
    expect(codes(await direct(readOnly, { ...input, idempotencyKey: `rx-${randomUUID()}` }))).toEqual(['FORBIDDEN']);
    expect(await messagingCount('message')).toBe(messages);
  });
});
