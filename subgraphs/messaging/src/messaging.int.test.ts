import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type GraphQLResponse, type TestSubgraph } from '@portal/kit/testing';
import { createMessagingModule } from './module';
import { seedDemo, seedScalePatient } from './seed';

const SCALE_FEW = 'pt-scale-few';
const SCALE_MANY = 'pt-scale-many';
const SCALE_TEAM = 'pt-scale-team';
/** A practitioner on both demo teams, to batch CareTeam.threads over two teams. */
const BOTH_TEAMS = 'pr-test-both-teams';
/** A practitioner on the blue team who treats Jane but no longer John. */
const JANE_ONLY = 'pr-test-jane-only';

const ENTITIES = (selection: string) => `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`;
const patientRef = (id: string) => ({ r: [{ __typename: 'Patient', id }] });
const teamRefs = (...ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'CareTeam', id })) });

/**
 * A refused entity without its null fields. The fields a subgraph adds to
 * another's entity are nullable (an outage of one subgraph costs only its
 * section), so a refusal nulls them, not the entity: what is left is at most
 * the key the caller sent.
 */
const refused = (entity: Record<string, unknown> | null) => entity && Object.fromEntries(Object.entries(entity).filter(([, v]) => v !== null));

const FOLDER = ENTITIES(`... on Patient {
  unreadMessageCount
  messageThreads(folder: $folder, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id subject category source unread canReply lastMessageAt careTeam { id } patient { id } } }
  }
}`).replace('query($r: [_Any!]!)', 'query($r: [_Any!]!, $folder: MessageFolder!, $first: Int, $after: String)');

const THREAD = `query($id: ID!) { messageThread(id: $id) {
  id subject category source canReply unread lastMessageAt careTeam { id } patient { id }
  messages { id body sentAt senderName senderRole }
} }`;

const TEAM_THREADS = ENTITIES(`... on CareTeam { id threads(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id subject unread lastMessageAt patient { id } } }
} }`).replace('query($r: [_Any!]!)', 'query($r: [_Any!]!, $first: Int, $after: String)');

let t: TestSubgraph;
let jane: string;
let john: string;
let alex: string;
let sam: string;

beforeAll(async () => {
  const patients = [DEMO.jane, DEMO.john, SCALE_FEW, SCALE_MANY, SCALE_TEAM];
  t = await startTestSubgraph(createMessagingModule(), { careAccess: { [DEMO.alex]: patients, [BOTH_TEAMS]: patients, [JANE_ONLY]: [DEMO.jane] } });
  await seedDemo(t.server.database.dataSource);
  await seedDemo(t.server.database.dataSource); // idempotent
  jane = await t.token({ personId: DEMO.jane });
  john = await t.token({ personId: DEMO.john });
  alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [DEMO.careTeamBlue] });
  sam = await t.token({ personId: DEMO.sam, role: 'PHARMACIST', method: 'CAC', careTeamIds: [] });
});
afterAll(() => t.stop());

const folder = async (token: string | undefined, patientId: string, name: string, first?: number, after?: string) => {
  const res = await gql(t.url, FOLDER, { ...patientRef(patientId), folder: name, first, after }, token);
  return { res, patient: res.data?._entities?.[0] };
};
const idsOf = (conn: { edges: { node: { id: string } }[] }) => conn.edges.map((e) => e.node.id);

describe('Patient.messageThreads folders', () => {
  it('lists Jane’s inbox newest first, without the thread she archived', async () => {
    const { res, patient } = await folder(jane, DEMO.jane, 'INBOX');
    expect(res.errors).toBeUndefined();
    expect(idsOf(patient.messageThreads)).toEqual(['th-jane-unread', 'th-jane-green', 'th-jane-read', 'th-jane-old', 'th-jane-legacy']);
    expect(patient.messageThreads.totalCount).toBe(5);
    expect(patient.messageThreads.pageInfo.hasNextPage).toBe(false);
    const legacy = patient.messageThreads.edges[4].node;
    expect(legacy).toMatchObject({ source: 'TRICARE_ONLINE', lastMessageAt: '2019-05-03T09:25:00.000Z', careTeam: { id: DEMO.careTeamBlue }, patient: { id: DEMO.jane } });
    expect(patient.messageThreads.edges[1].node.careTeam).toEqual({ id: DEMO.careTeamGreen });
  });

  it('keeps the archived thread in ARCHIVE, threads Jane wrote in in SENT, her draft in DRAFTS', async () => {
    expect(idsOf((await folder(jane, DEMO.jane, 'ARCHIVE')).patient.messageThreads)).toEqual(['th-jane-archived']);
    const sent = (await folder(jane, DEMO.jane, 'SENT')).patient.messageThreads;
    expect(idsOf(sent)).toEqual(['th-jane-unread', 'th-jane-green', 'th-jane-old', 'th-jane-legacy']);
    expect(sent.totalCount).toBe(4);
    expect(idsOf((await folder(jane, DEMO.jane, 'DRAFTS')).patient.messageThreads)).toEqual(['th-jane-unread']);
  });

  it('pages with keyset cursors, counting every thread', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    const pages: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const conn = (await folder(jane, DEMO.jane, 'INBOX', 2, after)).patient.messageThreads;
      expect(conn.totalCount).toBe(5);
      seen.push(...idsOf(conn));
      pages.push(conn.pageInfo.hasNextPage);
      expect(conn.pageInfo.endCursor).toBe(conn.edges[conn.edges.length - 1].cursor);
      after = conn.pageInfo.endCursor;
    }
    expect(pages).toEqual([true, true, false]);
    expect(seen).toEqual(['th-jane-unread', 'th-jane-green', 'th-jane-read', 'th-jane-old', 'th-jane-legacy']);

    const empty = (await folder(jane, DEMO.jane, 'INBOX', 0)).patient.messageThreads;
    expect(empty).toMatchObject({ totalCount: 5, edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
  });

  it('refuses a page size over 100 and a cursor it did not give out', async () => {
    const big = await folder(jane, DEMO.jane, 'INBOX', 101);
    expect(big.res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    const forged = await folder(jane, DEMO.jane, 'INBOX', 2, 'not-a-cursor');
    expect(forged.res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('read state is per reader', () => {
  it('shows Jane only the thread Alex answered after her last read as unread', async () => {
    const { patient } = await folder(jane, DEMO.jane, 'INBOX');
    expect(patient.unreadMessageCount).toBe(1);
    expect(patient.messageThreads.edges.filter((e: any) => e.node.unread).map((e: any) => e.node.id)).toEqual(['th-jane-unread']);
  });

  it('shows Alex his own unread threads, only of his team, and the thread Jane archived in his inbox', async () => {
    const { res, patient } = await folder(alex, DEMO.jane, 'INBOX');
    expect(res.errors).toBeUndefined();
    // No Behavioral Health thread: Alex is not on that team.
    expect(idsOf(patient.messageThreads)).toEqual(['th-jane-unread', 'th-jane-read', 'th-jane-archived', 'th-jane-old', 'th-jane-legacy']);
    expect(patient.messageThreads.edges.filter((e: any) => e.node.unread).map((e: any) => e.node.id)).toEqual(['th-jane-old']);
    expect(patient.unreadMessageCount).toBe(1);
    expect(idsOf((await folder(alex, DEMO.jane, 'SENT')).patient.messageThreads)).toEqual(['th-jane-unread', 'th-jane-read', 'th-jane-archived', 'th-jane-old']);
    expect((await folder(alex, DEMO.jane, 'ARCHIVE')).patient.messageThreads.totalCount).toBe(0);
    expect((await folder(alex, DEMO.john, 'INBOX')).patient.unreadMessageCount).toBe(1);
  });
});

describe('canReply', () => {
  it('is false for the thread whose newest message is 60 days old and for the legacy thread', async () => {
    const { patient } = await folder(jane, DEMO.jane, 'INBOX');
    const canReply = Object.fromEntries(patient.messageThreads.edges.map((e: any) => [e.node.id, e.node.canReply]));
    expect(canReply).toEqual({ 'th-jane-unread': true, 'th-jane-green': true, 'th-jane-read': true, 'th-jane-old': false, 'th-jane-legacy': false });
  });
});

describe('Query.messageThread', () => {
  it('gives Jane her thread with its messages oldest first, bodies exactly as stored', async () => {
    const res = await gql(t.url, THREAD, { id: 'th-jane-unread' }, jane);
    expect(res.errors).toBeUndefined();
    const thread = res.data.messageThread;
    expect(thread).toMatchObject({
      id: 'th-jane-unread',
      subject: 'Home blood pressure readings',
      category: 'TEST_RESULT',
      source: 'MHS_GENESIS',
      canReply: true,
      unread: true,
      careTeam: { id: DEMO.careTeamBlue },
      patient: { id: DEMO.jane },
    });
    expect(thread.messages.map((m: any) => [m.id, m.senderName, m.senderRole])).toEqual([
      ['msg-jane-unread-1', 'Jane Doe', 'PATIENT'],
      ['msg-jane-unread-2', 'Dr. Alex Kim', 'PRACTITIONER'],
    ]);
    expect(thread.messages[0].body).toBe('My home cuff showed 142/91 this morning & 138/88 tonight. The app exported it as <b>markup</b> "bold" text. Should I worry?');
    expect(Date.parse(thread.messages[0].sentAt)).toBeLessThan(Date.parse(thread.messages[1].sentAt));
    expect(thread.lastMessageAt).toBe(thread.messages[1].sentAt);
  });

  it('answers another patient’s thread exactly like a missing one, leaking nothing of it', async () => {
    const other = await gql(t.url, THREAD, { id: 'th-jane-unread' }, john, { 'x-request-id': 'req-msg-denied' });
    const missing = await gql(t.url, THREAD, { id: 'th-does-not-exist' }, john);
    expect(other.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(other.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(other.data).toEqual({ messageThread: null });
    expect(JSON.stringify(other)).not.toMatch(/blood pressure|142\/91|Alex/i);
    const audit = await t.server.database.dataSource.query(`SELECT patient_id, record_kind, outcome FROM audit_event WHERE request_id = 'req-msg-denied'`);
    expect(audit).toEqual([{ patient_id: DEMO.jane, record_kind: 'message', outcome: 'DENIED' }]);
  });

  it('lets a practitioner read threads of his own team only, and a pharmacist none', async () => {
    expect((await gql(t.url, THREAD, { id: 'th-jane-unread' }, alex)).data.messageThread.unread).toBe(false);
    const otherTeam = await gql(t.url, THREAD, { id: 'th-jane-green' }, alex);
    expect(otherTeam.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(otherTeam)).not.toMatch(/counseling/i);
    const pharmacist = await gql(t.url, THREAD, { id: 'th-jane-unread' }, sam);
    expect(pharmacist.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('resolves a MessageThread reference only for a viewer who may read it', async () => {
    const q = ENTITIES('... on MessageThread { id subject }');
    const r = { r: [{ __typename: 'MessageThread', id: 'th-jane-read' }] };
    expect((await gql(t.url, q, r, jane)).data._entities).toEqual([{ id: 'th-jane-read', subject: 'Time for your annual flu vaccine' }]);
    const other = await gql(t.url, q, r, john);
    expect(other.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(other.data._entities).toEqual([null]);
  });
});

describe('refusals', () => {
  it('gives another patient and a pharmacist FORBIDDEN and none of Jane’s threads', async () => {
    for (const token of [john, sam]) {
      const { res } = await folder(token, DEMO.jane, 'INBOX');
      expect(res.errors?.length).toBeGreaterThan(0);
      expect(res.errors?.every((e) => e.extensions?.code === 'FORBIDDEN')).toBe(true);
      expect(res.data._entities.map(refused)).toEqual([{}]);
    }
  });

  it('gives no health data without a token, even on a direct _entities call', async () => {
    const thread = await gql(t.url, THREAD, { id: 'th-jane-unread' });
    expect(thread.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(thread.data).toEqual({ messageThread: null });
    const { res } = await folder(undefined, DEMO.jane, 'INBOX');
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.data._entities.map(refused)).toEqual([{}]);
    const team = await gql(t.url, TEAM_THREADS, teamRefs(DEMO.careTeamBlue));
    expect(team.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(team.data._entities.map(refused)).toEqual([{ id: DEMO.careTeamBlue }]);
  });
});

describe('CareTeam.threads', () => {
  it('lists all of the team’s threads newest first for a member, with his own unread state', async () => {
    const res = await gql(t.url, TEAM_THREADS, teamRefs(DEMO.careTeamBlue), alex);
    expect(res.errors).toBeUndefined();
    const threads = res.data._entities[0].threads;
    expect(threads.totalCount).toBe(6);
    expect(idsOf(threads)).toEqual(['th-john-records', 'th-jane-unread', 'th-jane-read', 'th-jane-archived', 'th-jane-old', 'th-jane-legacy']);
    expect(threads.edges.filter((e: any) => e.node.unread).map((e: any) => e.node.id)).toEqual(['th-john-records', 'th-jane-old']);
    expect(threads.edges[0].node.patient).toEqual({ id: DEMO.john });

    const page1 = (await gql(t.url, TEAM_THREADS, { ...teamRefs(DEMO.careTeamBlue), first: 4 }, alex)).data._entities[0].threads;
    const page2 = (await gql(t.url, TEAM_THREADS, { ...teamRefs(DEMO.careTeamBlue), first: 4, after: page1.pageInfo.endCursor }, alex)).data._entities[0].threads;
    expect([page1.pageInfo.hasNextPage, page2.pageInfo.hasNextPage]).toEqual([true, false]);
    expect([...idsOf(page1), ...idsOf(page2)]).toEqual(idsOf(threads));
  });

  it('leaves out a patient the member no longer treats in the query itself: full pages, totalCount of what the pages hold, the refusal audited', async () => {
    const token = await t.token({ personId: JANE_ONLY, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [DEMO.careTeamBlue] });
    const all = (await gql(t.url, TEAM_THREADS, { ...teamRefs(DEMO.careTeamBlue), first: 100 }, token)).data._entities[0].threads;
    const janes = ['th-jane-unread', 'th-jane-read', 'th-jane-archived', 'th-jane-old', 'th-jane-legacy'];
    expect(idsOf(all)).toEqual(janes);
    expect(all.totalCount).toBe(5);
    // John's thread is the team's newest: filtering after the page would leave this first page empty.
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res: GraphQLResponse = await gql(t.url, TEAM_THREADS, { ...teamRefs(DEMO.careTeamBlue), first: 2, after }, token, { 'x-request-id': `req-jane-only-${i}` });
      expect(res.errors).toBeUndefined();
      const page: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number } = res.data._entities[0].threads;
      expect([i, idsOf(page).length, page.pageInfo.hasNextPage, page.totalCount]).toEqual([i, i < 2 ? 2 : 1, i < 2, 5]);
      seen.push(...idsOf(page));
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(janes);
    const audit = await t.server.database.dataSource.query(`SELECT patient_id, outcome FROM audit_event WHERE request_id = 'req-jane-only-0' ORDER BY outcome, patient_id`);
    expect(audit).toEqual([
      { patient_id: DEMO.jane, outcome: 'ALLOWED' },
      { patient_id: DEMO.john, outcome: 'DENIED' },
      // Jane's children write to team Blue too (demo seed), and this member does not treat them.
      { patient_id: DEMO.emma, outcome: 'DENIED' },
      { patient_id: DEMO.liam, outcome: 'DENIED' },
    ]);
  });

  it('refuses a practitioner who is not on the team, and a patient, with FORBIDDEN', async () => {
    const res = await gql(t.url, TEAM_THREADS, teamRefs(DEMO.careTeamBlue, DEMO.careTeamGreen), alex);
    expect(res.data._entities[0].threads.totalCount).toBe(6);
    expect(refused(res.data._entities[1])).toEqual({ id: DEMO.careTeamGreen });
    expect(res.errors?.map((e) => [e.extensions?.code, e.path?.[1]])).toEqual([['FORBIDDEN', 1]]);
    const patient = await gql(t.url, TEAM_THREADS, teamRefs(DEMO.careTeamBlue), jane);
    expect(patient.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(patient.data._entities.map(refused)).toEqual([{ id: DEMO.careTeamBlue }]);
  });
});

describe('SQL statements per request do not grow with rows', () => {
  const ALL_FOLDERS = ENTITIES(`... on Patient {
    unreadMessageCount
    inbox: messageThreads(folder: INBOX, first: 100) { totalCount edges { node { id unread canReply careTeam { id } messages { id body senderName practitioner { id } } draft { id body } } } }
    sent: messageThreads(folder: SENT, first: 100) { totalCount edges { node { id unread } } }
    drafts: messageThreads(folder: DRAFTS, first: 100) { totalCount edges { node { id } } }
    archive: messageThreads(folder: ARCHIVE, first: 100) { totalCount edges { node { id unread messages { id } } } }
  }`);

  const measure = async (query: string, variables: Record<string, unknown>, token: string) => {
    t.resetStatements();
    const res = await gql(t.url, query, variables, token);
    expect(res.errors).toBeUndefined();
    return { statements: t.statements(), data: res.data };
  };

  it('Patient.messageThreads and unreadMessageCount: same for 3 threads per folder as for 200', async () => {
    const db = t.server.database.dataSource;
    await seedScalePatient(db, { patientId: SCALE_FEW, count: 3 });
    await seedScalePatient(db, { patientId: SCALE_MANY, count: 200 });
    const few = await measure(ALL_FOLDERS, patientRef(SCALE_FEW), await t.token({ personId: SCALE_FEW }));
    const many = await measure(ALL_FOLDERS, patientRef(SCALE_MANY), await t.token({ personId: SCALE_MANY }));
    const [f, m] = [few.data._entities[0], many.data._entities[0]];
    expect([f.inbox.totalCount, f.sent.totalCount, f.drafts.totalCount, f.archive.totalCount]).toEqual([3, 6, 3, 3]);
    expect([m.inbox.totalCount, m.sent.totalCount, m.drafts.totalCount, m.archive.totalCount]).toEqual([200, 400, 200, 200]);
    expect(m.inbox.edges).toHaveLength(100);
    expect(m.inbox.edges[0].node.messages).toHaveLength(2);
    expect(m.inbox.edges[0].node.messages[1].practitioner).toEqual({ id: DEMO.alex });
    expect(m.inbox.edges.every((e: any) => e.node.draft?.body === 'Synthetic draft.')).toBe(true);
    // Every other thread (archived ones too) was last read before Alex's reply.
    expect(f.unreadMessageCount).toBe(3);
    expect(m.unreadMessageCount).toBe(200);
    expect(many.statements).toBe(few.statements);
    console.info(`[messaging] Patient folders + unread: ${few.statements} statements for 3 rows, ${many.statements} for 200`);
  });

  it('Patient.messageThreads for several patients at once costs what one costs', async () => {
    const query = ENTITIES('... on Patient { id unreadMessageCount messageThreads(folder: INBOX) { totalCount edges { node { id unread } } } }');
    const one = await measure(query, { r: [{ __typename: 'Patient', id: DEMO.jane }] }, alex);
    const three = await measure(query, { r: [DEMO.jane, DEMO.john, SCALE_MANY].map((id) => ({ __typename: 'Patient', id })) }, alex);
    expect(three.data._entities.map((p: any) => [p.id, p.messageThreads.totalCount, p.unreadMessageCount])).toEqual([
      [DEMO.jane, 5, 1],
      [DEMO.john, 1, 1],
      // The patient archived half of the 400 threads, not Alex; and Alex never opened any of them.
      [SCALE_MANY, 400, 400],
    ]);
    expect(three.statements).toBe(one.statements);
  });

  it('counts only for a query that asks for totalCount', async () => {
    const vars = { ...teamRefs(DEMO.careTeamBlue), first: 3 };
    const counted = await measure(TEAM_THREADS, vars, alex);
    const uncounted = await measure(TEAM_THREADS.replace('totalCount', ''), vars, alex);
    expect(uncounted.data._entities[0].threads.edges).toEqual(counted.data._entities[0].threads.edges);
    expect(uncounted.statements).toBe(counted.statements - 1);
    const folders = await measure(FOLDER, { ...patientRef(DEMO.jane), folder: 'INBOX', first: 2 }, jane);
    const noCount = await measure(FOLDER.replace('totalCount', ''), { ...patientRef(DEMO.jane), folder: 'INBOX', first: 2 }, jane);
    expect(noCount.statements).toBe(folders.statements - 1);
  });

  it('CareTeam.threads over two teams: same before and after 150 more threads, in O(1) statements', async () => {
    const both = await t.token({ personId: BOTH_TEAMS, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [DEMO.careTeamBlue, DEMO.careTeamGreen] });
    const vars = { ...teamRefs(DEMO.careTeamBlue, DEMO.careTeamGreen), first: 100 };
    const query = TEAM_THREADS.replace('patient { id }', 'patient { id } canReply');
    const before = await measure(query, vars, both);
    const one = await measure(query, { ...teamRefs(DEMO.careTeamBlue), first: 100 }, both);
    await seedScalePatient(t.server.database.dataSource, { patientId: SCALE_TEAM, count: 150 });
    const after = await measure(query, vars, both);
    expect(before.data._entities[1].threads.totalCount).toBe(1);
    expect(after.data._entities[0].threads.totalCount).toBe(before.data._entities[0].threads.totalCount + 300);
    expect(after.data._entities[0].threads.edges).toHaveLength(100);
    expect(after.statements).toBe(before.statements);
    expect(one.statements).toBe(before.statements);
    console.info(`[messaging] CareTeam.threads x2: ${before.statements} statements before, ${after.statements} after 300 more threads`);
  });
});
