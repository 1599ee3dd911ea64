import { randomUUID } from 'node:crypto';
import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '@portal/kit/testing';
import { MessageEntity, ThreadEntity } from './db/entities';
import { createMessagingModule } from './module';
import { seedDemo } from './seed';

const DAY = 86_400_000;
const blue = DEMO.careTeamBlue;
const green = DEMO.careTeamGreen;

const THREAD_FIELDS = `id subject category source canReply unread lastMessageAt careTeam { id } patient { id }
  messages { id body sentAt senderName senderRole practitioner { id } }`;
const SEND = `mutation($careTeamId: ID!, $category: MessageCategory!, $subject: String!, $body: String!, $idempotencyKey: String) {
  sendMessage(input: { careTeamId: $careTeamId, category: $category, subject: $subject, body: $body, idempotencyKey: $idempotencyKey }) { ${THREAD_FIELDS} }
}`;
const REPLY = `mutation($threadId: ID!, $body: String!, $idempotencyKey: String) {
  replyToThread(input: { threadId: $threadId, body: $body, idempotencyKey: $idempotencyKey }) { id body sentAt senderName senderRole practitioner { id } }
}`;
const MARK_READ = `mutation($threadId: ID!) { markThreadRead(threadId: $threadId) { id unread } }`;
const ARCHIVE = `mutation($threadId: ID!) { archiveThread(threadId: $threadId) { id } }`;
const THREAD = `query($id: ID!) { messageThread(id: $id) { ${THREAD_FIELDS} draft { id body } } }`;
const FOLDER = `query($r: [_Any!]!, $folder: MessageFolder!) { _entities(representations: $r) { ... on Patient {
  unreadMessageCount messageThreads(folder: $folder, first: 100) { totalCount edges { node { id unread canReply subject } } }
} } }`;
const TEAM = `query($r: [_Any!]!) { _entities(representations: $r) { ... on CareTeam { threads(first: 100) { totalCount edges { node { id unread patient { id } } } } } } }`;
const POST = `mutation($input: PostCareTeamMessageInput!) { postCareTeamMessage(input: $input) { ${THREAD_FIELDS} } }`;
const SAVE_DRAFT = `mutation($input: SaveMessageDraftInput!) { saveMessageDraft(input: $input) { id body updatedAt thread { id subject category canReply messages { id } careTeam { id } } } }`;
const UPDATE_DRAFT = `mutation($input: UpdateMessageDraftInput!) { updateMessageDraft(input: $input) { id body thread { id subject category careTeam { id } } } }`;
const SEND_DRAFT = `mutation($draftId: ID!) { sendMessageDraft(draftId: $draftId) { id subject category canReply messages { id body senderRole } draft { id } } }`;
const DELETE_DRAFT = `mutation($draftId: ID!) { deleteMessageDraft(draftId: $draftId) }`;

let t: TestSubgraph;
let jane: string;
let john: string;
let alex: string;
let sam: string;
let pharmacy: string;

beforeAll(async () => {
  t = await startTestSubgraph(createMessagingModule(), { careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.john] } });
  await seedDemo(t.server.database.dataSource);
  jane = await t.token({ personId: DEMO.jane, careTeamIds: [green, blue] });
  john = await t.token({ personId: DEMO.john, careTeamIds: [blue] });
  alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [blue] });
  sam = await t.token({ personId: DEMO.sam, role: 'PHARMACIST', method: 'CAC', careTeamIds: [] });
  pharmacy = await t.token({ personId: 'svc-pharmacy', role: 'SERVICE', method: 'SERVICE', scopes: ['messaging:write'] });
});
afterAll(() => t.stop());

const db = () => t.server.database.dataSource;
const count = async (table: string, where = '1 = 1', params: unknown[] = []) => {
  const q = db().options.type === 'postgres' ? where.replace(/\?/g, (() => { let i = 0; return () => `$${++i}`; })()) : where;
  return Number((await db().query(`SELECT COUNT(*) AS "n" FROM ${table} WHERE ${q}`, params))[0].n);
};
const counts = async () => ({
  threads: await count('message_thread'),
  messages: await count('message'),
  drafts: await count('message_draft'),
  readerStates: await count('thread_reader_state'),
});
const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
const send = (token: string | undefined, vars: Record<string, unknown>) =>
  gql(t.url, SEND, { careTeamId: blue, category: 'GENERAL', subject: 'A question', body: 'Hello.', ...vars }, token);
const folderIds = async (token: string, patientId: string, folder: string) => {
  const res = await gql(t.url, FOLDER, { r: [{ __typename: 'Patient', id: patientId }], folder }, token);
  expect(res.errors).toBeUndefined();
  const p = res.data._entities[0];
  return { ids: p.messageThreads.edges.map((e: any) => e.node.id) as string[], nodes: p.messageThreads.edges.map((e: any) => e.node), unreadMessageCount: p.unreadMessageCount as number };
};
const teamThreads = async (token: string) => (await gql(t.url, TEAM, { r: [{ __typename: 'CareTeam', id: blue }] }, token)).data._entities[0].threads;

/** A thread whose newest message is `daysAgo` old, written straight to the database. */
async function oldThread(patientId: string, daysAgo: number, careTeamId = blue): Promise<string> {
  const id = `th-test-${randomUUID()}`;
  const sentAt = new Date(Date.now() - daysAgo * DAY).toISOString();
  await db().getRepository(ThreadEntity).insert({ id, patientId, careTeamId, subject: `Quiet for ${daysAgo} days`, category: 'GENERAL', source: 'MHS_GENESIS', state: 'OPEN', createdAt: sentAt, lastMessageAt: sentAt });
  await db().getRepository(MessageEntity).insert({ id: `msg-${id}`, threadId: id, senderId: DEMO.alex, senderRole: 'PRACTITIONER', senderName: 'Dr. Alex Kim', body: 'How are you feeling?', sentAt, idempotencyKey: null });
  return id;
}

describe('sendMessage', () => {
  it('starts a thread with one of the patient’s care teams: thread and first message, body exactly as sent', async () => {
    const before = await counts();
    const body = '  <script>alert("x")</script> & <b>not bold</b>\nLine two — “quotes”, emoji 🩺, trailing spaces  ';
    const res = await send(jane, { category: 'TEST_RESULT', subject: '   Question about my A1c result   ', body });
    expect(res.errors).toBeUndefined();
    const thread = res.data.sendMessage;
    expect(thread).toMatchObject({
      subject: 'Question about my A1c result',
      category: 'TEST_RESULT',
      source: 'MHS_GENESIS',
      canReply: true,
      unread: false,
      careTeam: { id: blue },
      patient: { id: DEMO.jane },
    });
    expect(thread.messages).toEqual([{ id: expect.any(String), body, sentAt: thread.lastMessageAt, senderName: 'Patient', senderRole: 'PATIENT', practitioner: null }]);
    expect(await counts()).toEqual({ ...before, threads: before.threads + 1, messages: before.messages + 1 });

    // Where everyone expects it: Jane's INBOX and SENT (first), the team's threads, unread for Alex.
    expect((await folderIds(jane, DEMO.jane, 'INBOX')).ids[0]).toBe(thread.id);
    expect((await folderIds(jane, DEMO.jane, 'SENT')).ids[0]).toBe(thread.id);
    const team = await teamThreads(alex);
    expect(team.edges[0].node).toEqual({ id: thread.id, unread: true, patient: { id: DEMO.jane } });
    const read = await gql(t.url, THREAD, { id: thread.id }, alex);
    expect(read.data.messageThread.messages[0].body).toBe(body);
  });

  it('accepts a subject of exactly 120 characters and a body of exactly 10,000', async () => {
    const res = await send(jane, { subject: `  ${'s'.repeat(120)}  `, body: 'b'.repeat(10_000) });
    expect(res.errors).toBeUndefined();
    expect(res.data.sendMessage.subject).toHaveLength(120);
    expect(res.data.sendMessage.messages[0].body).toHaveLength(10_000);
  });

  it('refuses bad input with BAD_USER_INPUT naming the field, storing nothing', async () => {
    const before = await counts();
    const cases: [Record<string, unknown>, string][] = [
      [{ subject: '' }, 'subject'],
      [{ subject: '    ' }, 'subject'],
      [{ subject: 'x'.repeat(121) }, 'subject'],
      [{ body: '' }, 'body'],
      [{ body: ' \n\t ' }, 'body'],
      [{ body: 'x'.repeat(10_001) }, 'body'],
      [{ body: 'null \u0000 byte' }, 'body'],
      [{ idempotencyKey: '' }, 'idempotencyKey'],
      [{ idempotencyKey: 'k'.repeat(101) }, 'idempotencyKey'],
      [{ idempotencyKey: 'k\u0000' }, 'idempotencyKey'],
      [{ idempotencyKey: 'k\u001b' }, 'idempotencyKey'],
    ];
    for (const [vars, field] of cases) {
      const res = await send(jane, vars);
      expect([field, res.errors?.[0].extensions]).toEqual([field, { code: 'BAD_USER_INPUT', field }]);
      expect(res.data).toBeNull();
    }
    // An unknown category never reaches the resolver: GraphQL refuses it, as a variable and inline.
    const variable = await send(jane, { category: 'GOSSIP' });
    expect(codes(variable)).toEqual(['BAD_USER_INPUT']);
    const inline = await gql(t.url, `mutation { sendMessage(input: { careTeamId: "${blue}", category: GOSSIP, subject: "s", body: "b" }) { id } }`, {}, jane);
    expect(codes(inline)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(await counts()).toEqual(before);
  });

  it('refuses a care team the patient does not belong to with FORBIDDEN, and anyone but a patient', async () => {
    const before = await counts();
    const notMine = await send(john, { careTeamId: green, idempotencyKey: 'john-green' });
    expect(codes(notMine)).toEqual(['FORBIDDEN']);
    expect(notMine.errors?.[0].message).toMatch(/care team you belong to/);
    expect(codes(await send(jane, { careTeamId: 'ct-does-not-exist' }))).toEqual(['FORBIDDEN']);
    for (const token of [alex, sam, pharmacy]) expect(codes(await send(token, {}))).toEqual(['FORBIDDEN']);
    expect(codes(await send(undefined, {}))).toEqual(['UNAUTHENTICATED']);
    expect(await counts()).toEqual(before);
  });

  it('audits the change with action create', async () => {
    const res = await gql(t.url, SEND, { careTeamId: blue, category: 'GENERAL', subject: 'Audited', body: 'Audit me.' }, jane, { 'x-request-id': 'req-send-audit' });
    expect(res.errors).toBeUndefined();
    const audit = await db().query(`SELECT patient_id, record_kind, action, outcome, actor_role FROM audit_event WHERE request_id = 'req-send-audit' AND action <> 'read'`);
    expect(audit).toEqual([{ patient_id: DEMO.jane, record_kind: 'message', action: 'create', outcome: 'ALLOWED', actor_role: 'PATIENT' }]);
  });
});

describe('ids in inputs', () => {
  const BAD_IDS = ['th\u0000', 'x'.repeat(65), 'a b', "th-1'--", '../th-1', '-th', ''];

  it('refuses a bad careTeamId, threadId or draftId with BAD_USER_INPUT naming the field, storing nothing', async () => {
    const saved = await gql(t.url, SAVE_DRAFT, { input: { careTeamId: blue, category: 'GENERAL', subject: 'Kept', body: 'A draft.' } }, jane);
    expect(saved.errors).toBeUndefined();
    const before = await counts();
    for (const id of BAD_IDS) {
      const calls: [string, Promise<GraphQLResponse>][] = [
        ['careTeamId', send(jane, { careTeamId: id })],
        ['threadId', gql(t.url, REPLY, { threadId: id, body: 'Hello.' }, jane)],
        ['threadId', gql(t.url, MARK_READ, { threadId: id }, jane)],
        ['threadId', gql(t.url, ARCHIVE, { threadId: id }, jane)],
        ['threadId', gql(t.url, SAVE_DRAFT, { input: { threadId: id, body: 'x' } }, jane)],
        ['careTeamId', gql(t.url, SAVE_DRAFT, { input: { careTeamId: id, category: 'GENERAL', body: 'x' } }, jane)],
        ['draftId', gql(t.url, UPDATE_DRAFT, { input: { draftId: id, body: 'x' } }, jane)],
        ['draftId', gql(t.url, SEND_DRAFT, { draftId: id }, jane)],
        ['draftId', gql(t.url, DELETE_DRAFT, { draftId: id }, jane)],
      ];
      for (const [field, call] of calls) {
        const res = await call;
        expect([id, field, res.errors?.[0].extensions]).toEqual([id, field, { code: 'BAD_USER_INPUT', field }]);
      }
    }
    expect(await counts()).toEqual(before);
    const kept = await gql(t.url, DELETE_DRAFT, { draftId: saved.data.saveMessageDraft.id }, jane);
    expect(kept.errors).toBeUndefined();
  });
});

describe('idempotency', () => {
  it('returns the first thread for a retried send and stores nothing new; another body with the key is a CONFLICT', async () => {
    const key = `key-${randomUUID()}`;
    const first = await send(jane, { idempotencyKey: key, subject: 'Retry me', body: 'Once only.' });
    const before = await counts();
    const again = await send(jane, { idempotencyKey: key, subject: 'Retry me', body: 'Once only.' });
    expect(again).toEqual(first);
    const other = await send(jane, { idempotencyKey: key, subject: 'Retry me', body: 'Something else.' });
    expect(other.errors?.[0].extensions).toEqual({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect(codes(await send(jane, { idempotencyKey: key, subject: 'Retry me', body: 'Once only.', careTeamId: green }))).toEqual(['CONFLICT']);
    // A key used to start a thread cannot also carry a reply.
    expect(codes(await gql(t.url, REPLY, { threadId: first.data.sendMessage.id, body: 'Once only.', idempotencyKey: key }, jane))).toEqual(['CONFLICT']);
    expect(await counts()).toEqual(before);
    // Keys belong to their sender: John's same key starts his own thread.
    const johns = await send(john, { idempotencyKey: key, subject: 'Retry me', body: 'Once only.' });
    expect(johns.data.sendMessage.id).not.toBe(first.data.sendMessage.id);
  });

  it('stores one thread and one message for 10 identical sends arriving at the same moment', async () => {
    const key = `burst-${randomUUID()}`;
    const before = await counts();
    const responses = await Promise.all(Array.from({ length: 10 }, () => send(jane, { idempotencyKey: key, subject: 'Burst', body: 'Sent ten times at once.' })));
    for (const r of responses) expect(r.errors).toBeUndefined();
    expect(new Set(responses.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect(await counts()).toEqual({ ...before, threads: before.threads + 1, messages: before.messages + 1 });
    expect(await count('message', 'idempotency_key = ?', [key])).toBe(1);
  });

  it('stores one reply for 10 identical replies arriving at the same moment', async () => {
    const thread = (await send(jane, { subject: 'Reply burst' })).data.sendMessage.id;
    const key = `reply-burst-${randomUUID()}`;
    const before = await counts();
    const responses = await Promise.all(Array.from({ length: 10 }, () => gql(t.url, REPLY, { threadId: thread, body: 'Only once, please.', idempotencyKey: key }, alex)));
    for (const r of responses) expect(r.errors).toBeUndefined();
    expect(new Set(responses.map((r) => JSON.stringify(r.data))).size).toBe(1);
    expect(await counts()).toEqual({ ...before, messages: before.messages + 1 });
    const other = await gql(t.url, REPLY, { threadId: thread, body: 'A different reply.', idempotencyKey: key }, alex);
    expect(other.errors?.[0].extensions).toEqual({ code: 'CONFLICT', field: 'idempotencyKey' });
  });
});

describe('replyToThread', () => {
  it('lets the patient and a practitioner of the team reply; the other side sees it unread', async () => {
    const thread = (await send(jane, { subject: 'Back and forth', body: 'First.' })).data.sendMessage;
    const alexReply = await gql(t.url, REPLY, { threadId: thread.id, body: 'Second, from Alex.' }, alex);
    expect(alexReply.errors).toBeUndefined();
    expect(alexReply.data.replyToThread).toMatchObject({ body: 'Second, from Alex.', senderRole: 'PRACTITIONER', senderName: 'Care team member', practitioner: { id: DEMO.alex } });

    const seen = (await gql(t.url, THREAD, { id: thread.id }, jane)).data.messageThread;
    expect(seen.unread).toBe(true);
    expect(seen.lastMessageAt).toBe(alexReply.data.replyToThread.sentAt);
    expect(seen.messages.map((m: any) => [m.senderRole, m.body])).toEqual([
      ['PATIENT', 'First.'],
      ['PRACTITIONER', 'Second, from Alex.'],
    ]);
    const janeReply = await gql(t.url, REPLY, { threadId: thread.id, body: 'Third, from Jane.' }, jane);
    expect(janeReply.data.replyToThread).toMatchObject({ senderRole: 'PATIENT', senderName: 'Patient', practitioner: null });
    expect((await gql(t.url, THREAD, { id: thread.id }, alex)).data.messageThread.unread).toBe(true);
    expect((await teamThreads(alex)).edges[0].node.id).toBe(thread.id);
  });

  it('refuses a reply when the newest message is more than 45 days old, and in a legacy TRICARE Online thread', async () => {
    const open = await oldThread(DEMO.jane, 44);
    const closed = await oldThread(DEMO.jane, 46);
    expect((await gql(t.url, REPLY, { threadId: open, body: 'Still in time.' }, jane)).errors).toBeUndefined();
    const before = await counts();
    const late = await gql(t.url, REPLY, { threadId: closed, body: 'Too late.' }, jane);
    expect(codes(late)).toEqual(['REPLY_WINDOW_CLOSED']);
    expect(late.errors?.[0].message).toMatch(/more than 45 days old.*Start a new thread/);
    expect(codes(await gql(t.url, REPLY, { threadId: 'th-jane-old', body: 'Too late.' }, alex))).toEqual(['REPLY_WINDOW_CLOSED']);
    const legacy = await gql(t.url, REPLY, { threadId: 'th-jane-legacy', body: 'Hello?' }, jane);
    expect(codes(legacy)).toEqual(['REPLY_WINDOW_CLOSED']);
    expect(legacy.errors?.[0].message).toMatch(/TRICARE Online.*read-only/);
    expect(await counts()).toEqual(before);
    expect((await gql(t.url, THREAD, { id: closed }, jane)).data.messageThread.canReply).toBe(false);
  });

  it('answers another patient’s thread, or another team’s, exactly like a missing one, leaking nothing', async () => {
    const before = await counts();
    const other = await gql(t.url, REPLY, { threadId: 'th-jane-unread', body: 'Not mine.' }, john);
    const missing = await gql(t.url, REPLY, { threadId: 'th-nope', body: 'Not mine.' }, john);
    expect(codes(other)).toEqual(['NOT_FOUND']);
    expect(other.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(JSON.stringify(other)).not.toMatch(/blood pressure|142\/91|Alex/i);
    expect(codes(await gql(t.url, REPLY, { threadId: 'th-jane-green', body: 'Not my team.' }, alex))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(t.url, REPLY, { threadId: 'th-jane-unread', body: 'Pharmacist.' }, sam))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, REPLY, { threadId: 'th-jane-unread', body: 'Service.' }, pharmacy))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, REPLY, { threadId: 'th-jane-unread', body: 'Nobody.' }))).toEqual(['UNAUTHENTICATED']);
    expect((await gql(t.url, REPLY, { threadId: 'th-jane-unread', body: '   ' }, jane)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'body' });
    expect((await gql(t.url, REPLY, { threadId: 'th-jane-unread', body: 'x'.repeat(10_001) }, jane)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'body' });
    expect(await counts()).toEqual(before);
  });
});

describe('read and archive state, per reader', () => {
  it('markThreadRead clears unread for the viewer only', async () => {
    const thread = (await send(jane, { subject: 'Read state' })).data.sendMessage.id;
    await gql(t.url, REPLY, { threadId: thread, body: 'Alex answers.' }, alex);
    const before = await folderIds(jane, DEMO.jane, 'INBOX');
    expect(before.nodes.find((n: any) => n.id === thread).unread).toBe(true);

    const res = await gql(t.url, MARK_READ, { threadId: thread }, jane, { 'x-request-id': 'req-mark-read' });
    expect(res.errors).toBeUndefined();
    expect(res.data.markThreadRead).toEqual({ id: thread, unread: false });
    const after = await folderIds(jane, DEMO.jane, 'INBOX');
    expect(after.unreadMessageCount).toBe(before.unreadMessageCount - 1);
    expect(after.nodes.find((n: any) => n.id === thread).unread).toBe(false);
    // Alex's read state is his own: th-jane-old is still unread for him.
    expect((await folderIds(alex, DEMO.jane, 'INBOX')).nodes.find((n: any) => n.id === 'th-jane-old').unread).toBe(true);
    const audit = await db().query(`SELECT action, outcome FROM audit_event WHERE request_id = 'req-mark-read' AND action <> 'read'`);
    expect(audit).toEqual([{ action: 'update', outcome: 'ALLOWED' }]);

    const other = await gql(t.url, MARK_READ, { threadId: thread }, john);
    expect(codes(other)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(other)).not.toMatch(/Read state/);
  });

  it('archiveThread moves the thread to the viewer’s ARCHIVE only; a new message from either side brings it back', async () => {
    const thread = (await send(jane, { subject: 'Archive me' })).data.sendMessage.id;
    expect((await gql(t.url, ARCHIVE, { threadId: thread }, jane)).data.archiveThread).toEqual({ id: thread });
    expect((await folderIds(jane, DEMO.jane, 'INBOX')).ids).not.toContain(thread);
    expect((await folderIds(jane, DEMO.jane, 'ARCHIVE')).ids).toContain(thread);
    expect((await folderIds(alex, DEMO.jane, 'INBOX')).ids).toContain(thread);

    await gql(t.url, REPLY, { threadId: thread, body: 'A new message from the team.' }, alex);
    expect((await folderIds(jane, DEMO.jane, 'INBOX')).ids[0]).toBe(thread);
    expect((await folderIds(jane, DEMO.jane, 'ARCHIVE')).ids).not.toContain(thread);

    await gql(t.url, ARCHIVE, { threadId: thread }, jane);
    await gql(t.url, REPLY, { threadId: thread, body: 'Jane writes again.' }, jane);
    expect((await folderIds(jane, DEMO.jane, 'INBOX')).ids[0]).toBe(thread);

    expect(codes(await gql(t.url, ARCHIVE, { threadId: thread }, john))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(t.url, ARCHIVE, { threadId: thread }, sam))).toEqual(['FORBIDDEN']);
  });
});

describe('drafts', () => {
  it('saves, updates and sends a draft of a new thread, shown in DRAFTS to its author only', async () => {
    const before = await counts();
    const saved = await gql(t.url, SAVE_DRAFT, { input: { careTeamId: blue, category: 'MEDICATION', body: 'Half a thought' } }, jane);
    expect(saved.errors).toBeUndefined();
    const draft = saved.data.saveMessageDraft;
    expect(draft).toMatchObject({ body: 'Half a thought', thread: { subject: '', category: 'MEDICATION', canReply: false, messages: [], careTeam: { id: blue } } });
    const threadId = draft.thread.id;
    expect(await counts()).toEqual({ ...before, threads: before.threads + 1, drafts: before.drafts + 1 });

    expect((await folderIds(jane, DEMO.jane, 'DRAFTS')).ids[0]).toBe(threadId);
    for (const folder of ['INBOX', 'SENT', 'ARCHIVE']) expect((await folderIds(jane, DEMO.jane, folder)).ids).not.toContain(threadId);
    expect((await teamThreads(alex)).edges.map((e: any) => e.node.id)).not.toContain(threadId);
    expect(codes(await gql(t.url, THREAD, { id: threadId }, alex))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(t.url, THREAD, { id: threadId }, john))).toEqual(['NOT_FOUND']);
    expect((await gql(t.url, THREAD, { id: threadId }, jane)).data.messageThread.draft).toEqual({ id: draft.id, body: 'Half a thought' });

    // Not sendable without a subject: nothing changes.
    const unsendable = await gql(t.url, SEND_DRAFT, { draftId: draft.id }, jane);
    expect(unsendable.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'subject' });
    expect(codes(await gql(t.url, UPDATE_DRAFT, { input: { draftId: draft.id, subject: 'x'.repeat(121) } }, jane))).toEqual(['BAD_USER_INPUT']);

    const updated = await gql(t.url, UPDATE_DRAFT, { input: { draftId: draft.id, subject: ' Metformin timing ', category: 'GENERAL', body: 'Should I take metformin with dinner?' } }, jane);
    expect(updated.data.updateMessageDraft).toEqual({ id: draft.id, body: 'Should I take metformin with dinner?', thread: { id: threadId, subject: 'Metformin timing', category: 'GENERAL', careTeam: { id: blue } } });
    expect(codes(await gql(t.url, UPDATE_DRAFT, { input: { draftId: draft.id, body: 'mine now' } }, john))).toEqual(['NOT_FOUND']);

    const sent = await gql(t.url, SEND_DRAFT, { draftId: draft.id }, jane);
    expect(sent.errors).toBeUndefined();
    expect(sent.data.sendMessageDraft).toEqual({
      id: threadId,
      subject: 'Metformin timing',
      category: 'GENERAL',
      canReply: true,
      messages: [{ id: draft.id, body: 'Should I take metformin with dinner?', senderRole: 'PATIENT' }],
      draft: null,
    });
    expect(await counts()).toEqual({ ...before, threads: before.threads + 1, messages: before.messages + 1 });
    expect((await folderIds(jane, DEMO.jane, 'DRAFTS')).ids).not.toContain(threadId);
    expect((await folderIds(jane, DEMO.jane, 'INBOX')).ids[0]).toBe(threadId);
    expect((await teamThreads(alex)).edges[0].node).toEqual({ id: threadId, unread: true, patient: { id: DEMO.jane } });

    // Sending it again answers with the same thread and stores nothing.
    expect((await gql(t.url, SEND_DRAFT, { draftId: draft.id }, jane)).data).toEqual(sent.data);
    expect(codes(await gql(t.url, SEND_DRAFT, { draftId: draft.id }, john))).toEqual(['NOT_FOUND']);
    expect(await counts()).toEqual({ ...before, threads: before.threads + 1, messages: before.messages + 1 });
  });

  it('keeps one reply draft per author and thread, sends it as a reply, and hides it from others', async () => {
    const thread = (await send(jane, { subject: 'Reply drafts' })).data.sendMessage.id;
    const first = await gql(t.url, SAVE_DRAFT, { input: { threadId: thread, body: 'Draft one' } }, jane);
    const second = await gql(t.url, SAVE_DRAFT, { input: { threadId: thread, body: 'Draft two' } }, jane);
    expect(second.data.saveMessageDraft.id).toBe(first.data.saveMessageDraft.id);
    expect(await count('message_draft', 'thread_id = ?', [thread])).toBe(1);
    expect((await folderIds(jane, DEMO.jane, 'DRAFTS')).ids[0]).toBe(thread);
    expect((await gql(t.url, THREAD, { id: thread }, jane)).data.messageThread.draft.body).toBe('Draft two');
    expect((await gql(t.url, THREAD, { id: thread }, alex)).data.messageThread.draft).toBeNull();
    expect((await gql(t.url, SAVE_DRAFT, { input: { threadId: thread, body: 'x', subject: 'no' } }, jane)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'subject' });
    expect(codes(await gql(t.url, SAVE_DRAFT, { input: { threadId: thread, body: 'x' } }, john))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(t.url, SAVE_DRAFT, { input: { threadId: 'th-jane-old', body: 'x' } }, jane))).toEqual(['REPLY_WINDOW_CLOSED']);

    const sent = await gql(t.url, SEND_DRAFT, { draftId: first.data.saveMessageDraft.id }, jane);
    expect(sent.data.sendMessageDraft.messages.map((m: any) => m.body)).toEqual(['Hello.', 'Draft two']);
    expect(await count('message_draft', 'thread_id = ?', [thread])).toBe(0);
    expect((await folderIds(jane, DEMO.jane, 'DRAFTS')).ids).not.toContain(thread);
  });

  it('deletes a draft (with its unsent thread); others get NOT_FOUND; bad drafts are refused', async () => {
    const before = await counts();
    const draft = (await gql(t.url, SAVE_DRAFT, { input: { careTeamId: green, category: 'APPOINTMENT', subject: 'Maybe', body: '' } }, jane)).data.saveMessageDraft;
    expect(codes(await gql(t.url, DELETE_DRAFT, { draftId: draft.id }, john))).toEqual(['NOT_FOUND']);
    expect((await gql(t.url, DELETE_DRAFT, { draftId: draft.id }, jane)).data).toEqual({ deleteMessageDraft: draft.id });
    expect(codes(await gql(t.url, DELETE_DRAFT, { draftId: draft.id }, jane))).toEqual(['NOT_FOUND']);
    expect(await counts()).toEqual(before);

    expect(codes(await gql(t.url, SAVE_DRAFT, { input: { careTeamId: green, category: 'GENERAL', body: 'x' } }, john))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, SAVE_DRAFT, { input: { careTeamId: blue, category: 'GENERAL', body: 'x' } }, alex))).toEqual(['FORBIDDEN']);
    expect((await gql(t.url, SAVE_DRAFT, { input: { careTeamId: blue, body: 'x' } }, jane)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'category' });
    expect((await gql(t.url, SAVE_DRAFT, { input: { careTeamId: blue, category: 'GENERAL', body: 'x'.repeat(10_001) } }, jane)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'body' });
    expect(await counts()).toEqual(before);
  });
});

describe('postCareTeamMessage (service-facing)', () => {
  const input = (over: Record<string, unknown> = {}) => ({
    patientId: DEMO.jane,
    careTeamId: blue,
    category: 'MEDICATION',
    subject: 'Your renewal request was approved',
    body: 'Your metformin renewal was approved. Request a refill when you need one.',
    idempotencyKey: `renewal-${randomUUID()}`,
    senderName: 'Pharmacy',
    ...over,
  });

  it('posts a new thread from the care team to the patient, unread for her; a retried delivery stores nothing new', async () => {
    const before = await counts();
    const vars = input();
    const res = await gql(t.url, POST, { input: vars }, pharmacy, { 'x-request-id': 'req-post' });
    expect(res.errors).toBeUndefined();
    const thread = res.data.postCareTeamMessage;
    expect(thread).toMatchObject({ subject: vars.subject, category: 'MEDICATION', careTeam: { id: blue }, patient: { id: DEMO.jane } });
    expect(thread.messages).toEqual([{ id: expect.any(String), body: vars.body, sentAt: expect.any(String), senderName: 'Pharmacy', senderRole: 'SYSTEM', practitioner: null }]);
    const inbox = await folderIds(jane, DEMO.jane, 'INBOX');
    expect(inbox.nodes[0]).toMatchObject({ id: thread.id, unread: true, canReply: true });
    const audit = await db().query(`SELECT action, outcome, actor_role FROM audit_event WHERE request_id = 'req-post'`);
    expect(audit).toEqual([{ action: 'create', outcome: 'ALLOWED', actor_role: 'SERVICE' }]);

    const retries = await Promise.all(Array.from({ length: 5 }, () => gql(t.url, POST, { input: vars }, pharmacy)));
    for (const r of retries) expect(r.data).toEqual(res.data);
    expect(await counts()).toEqual({ ...before, threads: before.threads + 1, messages: before.messages + 1 });
    expect(codes(await gql(t.url, POST, { input: { ...vars, body: 'Changed.' } }, pharmacy))).toEqual(['CONFLICT']);

    // The patient can answer it, within the reply window.
    expect((await gql(t.url, REPLY, { threadId: thread.id, body: 'Thank you!' }, jane)).errors).toBeUndefined();
  });

  it('signs as "Your care team" when no sender name is given', async () => {
    const res = await gql(t.url, POST, { input: input({ senderName: undefined }) }, pharmacy);
    expect(res.data.postCareTeamMessage.messages[0].senderName).toBe('Your care team');
  });

  it('is refused to patients, practitioners, pharmacists and services without messaging:write; bad input is refused', async () => {
    const before = await counts();
    const reader = await t.token({ personId: 'svc-reader', role: 'SERVICE', method: 'SERVICE', scopes: ['messaging:read', 'pharmacy:write'] });
    for (const token of [jane, alex, sam, reader]) {
      const res = await gql(t.url, POST, { input: input() }, token);
      expect(codes(res)).toEqual(['FORBIDDEN']);
      expect(res.data).toBeNull();
    }
    expect(codes(await gql(t.url, POST, { input: input() }))).toEqual(['UNAUTHENTICATED']);
    for (const [over, field] of [
      [{ subject: ' ' }, 'subject'],
      [{ body: 'x'.repeat(10_001) }, 'body'],
      [{ idempotencyKey: '' }, 'idempotencyKey'],
      [{ senderName: '  ' }, 'senderName'],
      [{ patientId: '' }, 'patientId'],
      [{ patientId: 'pt 1000000001' }, 'patientId'],
      [{ careTeamId: 'ct-primary-blue\u0000' }, 'careTeamId'],
    ] as const) {
      expect((await gql(t.url, POST, { input: input(over) }, pharmacy)).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    }
    expect(await counts()).toEqual(before);
  });
});
