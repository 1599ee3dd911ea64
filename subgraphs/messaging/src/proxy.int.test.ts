/**
 * Proxy access in messaging: a parent or caregiver whose grant covers MESSAGES
 * reads the patient's threads and writes in the patient's name (the message
 * records the proxy as its author, so the care team sees who wrote); a grant
 * that hides sensitive records never shows a sensitive thread, in lists, by
 * id or in counts; without the scope a proxy is refused. Decisions are audited
 * with the actor role PROXY.
 */
import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { createMessagingModule } from './module';
import { seedDemo } from './seed';

const ALL = ['APPOINTMENTS', 'MESSAGES', 'MEDICATIONS', 'RESULTS', 'NOTES', 'HEALTH_SUMMARY'];
/** Someone the family named for appointments only. */
const CAREGIVER = 'pt-proxy-caregiver';

const FOLDER = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id
  unreadMessageCount messageThreads(folder: INBOX, first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { id sensitivity } } } } } }`;
const ALL_THREADS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id
  unreadMessageCount messageThreads(folder: INBOX, first: 100) { totalCount edges { node { id sensitivity } } } } } }`;
const MESSAGE_FIELDS = 'id body senderRole writtenByProxy writtenBy { id }';
const THREAD = `query($id: ID!) { messageThread(id: $id) { id sensitivity patient { id } messages { ${MESSAGE_FIELDS} } } }`;
const THREAD_REF = `query($r: [_Any!]!) { _entities(representations: $r) { ... on MessageThread { id } } }`;
const SEND = `mutation($p: ID, $team: ID!) {
  sendMessage(input: { patientId: $p, careTeamId: $team, category: GENERAL, subject: "Field trip form", body: "Could you sign Emma's form?" }) {
    id patient { id } sensitivity messages { ${MESSAGE_FIELDS} } } }`;
const SAVE_DRAFT = `mutation($p: ID) { saveMessageDraft(input: { patientId: $p, careTeamId: "${DEMO.careTeamBlue}", category: GENERAL, subject: "Allergy form", body: "Draft for Emma" }) {
  id thread { id patient { id } } } }`;
const SEND_DRAFT = `mutation($id: ID!) { sendMessageDraft(draftId: $id) { id patient { id } messages { ${MESSAGE_FIELDS} } } }`;
const REPLY = `mutation($id: ID!) { replyToThread(input: { threadId: $id, body: "Thanks, we will pick it up." }) { ${MESSAGE_FIELDS} } }`;

const patients = (...ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'Patient', id })) });
const codes = (res: { errors?: { extensions?: { code?: string } }[] }) => res.errors?.map((e) => e.extensions?.code);
const idsOf = (conn: { edges: { node: { id: string } }[] }) => conn.edges.map((e) => e.node.id);

let t: TestSubgraph;
let jane: string;
let liam: string;
let emma: string;
let caregiver: string;
let alex: string;
const db = () => t.server.database.dataSource;

beforeAll(async () => {
  t = await startTestSubgraph(createMessagingModule(), {
    careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.emma, DEMO.liam] },
    careTeams: { [DEMO.jane]: [DEMO.careTeamBlue], [DEMO.emma]: [DEMO.careTeamBlue], [DEMO.liam]: [DEMO.careTeamBlue, DEMO.careTeamGreen] },
    proxyGrants: {
      [DEMO.jane]: { [DEMO.emma]: { scopes: ALL, hideSensitive: false }, [DEMO.liam]: { scopes: ALL, hideSensitive: true } },
      [CAREGIVER]: { [DEMO.emma]: { scopes: ['APPOINTMENTS'], hideSensitive: false } },
    },
  });
  await seedDemo(db());
  await seedDemo(db()); // idempotent, the children's threads too
  jane = await t.token({ personId: DEMO.jane });
  emma = await t.token({ personId: DEMO.emma });
  liam = await t.token({ personId: DEMO.liam });
  caregiver = await t.token({ personId: CAREGIVER });
  alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [DEMO.careTeamBlue] });
});
afterAll(async () => {
  await t?.stop();
});

describe('reading as a proxy', () => {
  it('lists a 15-year-old’s threads without the sensitive one for a parent whose grant hides it: pages, totalCount and unread count agree', async () => {
    const own = (await gql(t.url, ALL_THREADS, patients(DEMO.liam), liam)).data._entities[0];
    expect(idsOf(own.messageThreads).sort()).toEqual(['th-liam-care', 'th-liam-counseling']);
    // Liam read his counseling thread; Alex's answer in the other one is new.
    expect(own.unreadMessageCount).toBe(1);

    const res = await gql(t.url, FOLDER, patients(DEMO.liam), jane);
    expect(res.errors).toBeUndefined();
    const seen = res.data._entities[0];
    expect(seen.messageThreads).toMatchObject({ totalCount: 1, pageInfo: { hasNextPage: false } });
    expect(seen.messageThreads.edges).toEqual([{ node: { id: 'th-liam-care', sensitivity: 'NORMAL' } }]);
    // Jane's own read state: both messages of the thread she may see, none of the two in the hidden one.
    expect(seen.unreadMessageCount).toBe(2);
  });

  it('shows a 12-year-old’s threads to her parent in full', async () => {
    const seen = (await gql(t.url, ALL_THREADS, patients(DEMO.emma), jane)).data._entities[0];
    expect(idsOf(seen.messageThreads)).toEqual(['th-emma-care']);
    expect(seen.unreadMessageCount).toBe(2);
  });

  it('refuses the sensitive thread by id and by reference exactly like a missing one', async () => {
    const byId = await gql(t.url, THREAD, { id: 'th-liam-counseling' }, jane);
    expect(codes(byId)).toEqual(['NOT_FOUND']);
    const byRef = await gql(t.url, THREAD_REF, { r: [{ __typename: 'MessageThread', id: 'th-liam-counseling' }] }, jane);
    expect(codes(byRef)).toEqual(['NOT_FOUND']);
    expect(codes(await gql(t.url, REPLY, { id: 'th-liam-counseling' }, jane))).toEqual(['NOT_FOUND']);
    const normal = await gql(t.url, THREAD, { id: 'th-liam-care' }, jane);
    expect(normal.data.messageThread).toMatchObject({ id: 'th-liam-care', sensitivity: 'NORMAL', patient: { id: DEMO.liam } });
  });

  it('refuses a proxy without the MESSAGES scope: folders FORBIDDEN, a thread NOT_FOUND', async () => {
    const list = await gql(t.url, FOLDER, patients(DEMO.emma), caregiver);
    expect(codes(list)).toContain('FORBIDDEN');
    expect(list.data._entities[0]).toEqual({ id: DEMO.emma, unreadMessageCount: null, messageThreads: null });
    expect(codes(await gql(t.url, THREAD, { id: 'th-emma-care' }, caregiver))).toEqual(['NOT_FOUND']);
  });

  it('reads a proxy’s folder with as many statements as the patient’s own', async () => {
    await gql(t.url, FOLDER, patients(DEMO.liam), liam);
    t.resetStatements();
    await gql(t.url, FOLDER, patients(DEMO.liam), liam);
    const own = t.statements();
    t.resetStatements();
    await gql(t.url, FOLDER, patients(DEMO.liam), jane);
    expect(t.statements()).toBe(own);
  });
});

describe('writing in the patient’s name', () => {
  it('starts a thread for the child with a care team the child writes with: the message names the proxy, for the care team too', async () => {
    const res = await gql(t.url, SEND, { p: DEMO.emma, team: DEMO.careTeamBlue }, jane, { 'x-request-id': 'req-proxy-send' });
    expect(res.errors).toBeUndefined();
    const thread = res.data.sendMessage;
    expect(thread).toMatchObject({ patient: { id: DEMO.emma }, sensitivity: 'NORMAL' });
    expect(thread.messages).toEqual([expect.objectContaining({ senderRole: 'PATIENT', writtenByProxy: true, writtenBy: { id: DEMO.jane } })]);
    const forAlex = await gql(t.url, THREAD, { id: thread.id }, alex);
    expect(forAlex.data.messageThread.messages[0]).toMatchObject({ writtenByProxy: true, writtenBy: { id: DEMO.jane } });
    const forEmma = await gql(t.url, THREAD, { id: thread.id }, emma);
    expect(forEmma.data.messageThread.messages[0]).toMatchObject({ writtenByProxy: true, writtenBy: { id: DEMO.jane } });
    const audit = await db().query(`SELECT actor_person_id, actor_role, patient_id, action, outcome FROM audit_event WHERE request_id = 'req-proxy-send' AND action = 'create'`);
    expect(audit).toEqual([{ actor_person_id: DEMO.jane, actor_role: 'PROXY', patient_id: DEMO.emma, action: 'create', outcome: 'ALLOWED' }]);
  });

  it('replies in the child’s thread as a proxy; the patient’s own messages are not a proxy’s', async () => {
    const res = await gql(t.url, REPLY, { id: 'th-emma-care' }, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.replyToThread).toMatchObject({ senderRole: 'PATIENT', writtenByProxy: true, writtenBy: { id: DEMO.jane } });
    const thread = (await gql(t.url, THREAD, { id: 'th-emma-care' }, alex)).data.messageThread;
    expect(thread.messages.map((m: any) => [m.senderRole, m.writtenByProxy, m.writtenBy])).toEqual([
      ['PATIENT', false, null],
      ['PRACTITIONER', false, null],
      ['PATIENT', true, { id: DEMO.jane }],
    ]);
  });

  it('refuses a new thread to a care team the child does not write with, and any write without the MESSAGES scope', async () => {
    const res = await gql(t.url, SEND, { p: DEMO.emma, team: DEMO.careTeamGreen }, jane);
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, SEND, { p: DEMO.emma, team: DEMO.careTeamBlue }, caregiver))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(t.url, REPLY, { id: 'th-emma-care' }, caregiver))).toEqual(['NOT_FOUND']);
    const count = await db().query(`SELECT COUNT(*) AS "n" FROM message m JOIN message_thread t ON t.id = m.thread_id WHERE t.patient_id = '${DEMO.emma}' AND m.sender_id = '${CAREGIVER}'`);
    expect(Number(count[0].n)).toBe(0);
  });

  it('drafts a new thread in the child’s name: the draft is the parent’s alone until sent, then the child’s thread written by the parent', async () => {
    const saved = await gql(t.url, SAVE_DRAFT, { p: DEMO.emma }, jane);
    expect(saved.errors).toBeUndefined();
    const { id: draftId, thread } = saved.data.saveMessageDraft;
    expect(thread.patient).toEqual({ id: DEMO.emma });
    // Unsent, it is Jane's: Emma and the care team do not see it.
    expect(codes(await gql(t.url, THREAD, { id: thread.id }, emma))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(t.url, THREAD, { id: thread.id }, alex))).toEqual(['NOT_FOUND']);
    expect((await gql(t.url, THREAD, { id: thread.id }, jane)).data.messageThread.id).toBe(thread.id);
    const sent = await gql(t.url, SEND_DRAFT, { id: draftId }, jane);
    expect(sent.errors).toBeUndefined();
    expect(sent.data.sendMessageDraft).toMatchObject({ id: thread.id, patient: { id: DEMO.emma }, messages: [{ body: 'Draft for Emma', writtenByProxy: true, writtenBy: { id: DEMO.jane } }] });
    expect((await gql(t.url, THREAD, { id: thread.id }, emma)).data.messageThread.messages[0]).toMatchObject({ writtenByProxy: true });
  });

  it('refuses a draft of a new thread in the name of a patient the viewer has no MESSAGES scope for', async () => {
    for (const token of [caregiver, await t.token({ personId: DEMO.john })]) expect(codes(await gql(t.url, SAVE_DRAFT, { p: DEMO.emma }, token))).toEqual(['FORBIDDEN']);
  });
});
