/**
 * Proxy access in clinical records: each part of the record needs its own
 * scope (RESULTS, NOTES, HEALTH_SUMMARY); a grant that hides sensitive records
 * (a parent of a 13 to 17 year old) never shows a sensitive result or note, in
 * lists (pages and totalCount agree), by id, or in a result's history; a
 * parent of a child under 13 sees everything. Reads are audited as PROXY.
 */
import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { LabResultEntity } from './db/entities';
import { createClinicalRecordsModule } from './module';
import { seedDemo } from './seed';

const ALL = ['APPOINTMENTS', 'MESSAGES', 'MEDICATIONS', 'RESULTS', 'NOTES', 'HEALTH_SUMMARY'];
/** Someone the family named for lab results only. */
const CAREGIVER = 'pt-proxy-caregiver';

const patients = (...ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'Patient', id })) });
const LABS = `query($r: [_Any!]!, $first: Int) { _entities(representations: $r) { ... on Patient { id
  labResults(first: $first) { totalCount pageInfo { hasNextPage } edges { node { id sensitivity history { value } } } } } } }`;
const NOTES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id
  visitNotes(first: 10) { totalCount edges { node { id sensitivity } } } } } }`;
const NOTE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on VisitNote { id sensitivity } } }`;
const APPOINTMENT_NOTE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Appointment { id visitNote { id } } } }`;
const EVERYTHING = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id
  labResults(first: 10) { totalCount edges { node { id history { value } } } }
  visitNotes(first: 10) { totalCount edges { node { id } } }
  conditions { id } allergies { id } immunizations { id } vitals { id }
} } }`;

const codes = (res: { errors?: { extensions?: { code?: string } }[] }) => res.errors?.map((e) => e.extensions?.code);
const idsOf = (conn: { edges: { node: { id: string } }[] }) => conn.edges.map((e) => e.node.id);

let t: TestSubgraph;
let jane: string;
let liam: string;
let caregiver: string;
let john: string;
const db = () => t.server.database.dataSource;

beforeAll(async () => {
  t = await startTestSubgraph(createClinicalRecordsModule(), {
    proxyGrants: {
      [DEMO.jane]: { [DEMO.emma]: { scopes: ALL, hideSensitive: false }, [DEMO.liam]: { scopes: ALL, hideSensitive: true } },
      [CAREGIVER]: { [DEMO.emma]: { scopes: ['RESULTS'], hideSensitive: false } },
    },
  });
  await seedDemo(db());
  await seedDemo(db()); // idempotent, the children's records too
  jane = await t.token({ personId: DEMO.jane });
  liam = await t.token({ personId: DEMO.liam });
  caregiver = await t.token({ personId: CAREGIVER });
  john = await t.token({ personId: DEMO.john });
});
afterAll(async () => {
  await t?.stop();
});

describe('a grant that hides sensitive records (Liam, 15)', () => {
  it('leaves the sensitive result and note out of the parent’s lists, pages and totals', async () => {
    const own = (await gql(t.url, LABS, { ...patients(DEMO.liam), first: 10 }, liam)).data._entities[0];
    expect(idsOf(own.labResults).sort()).toEqual(['lr-liam-chlamydia', 'lr-liam-hgb']);

    const labs = await gql(t.url, LABS, { ...patients(DEMO.liam), first: 1 }, jane);
    expect(labs.errors).toBeUndefined();
    expect(labs.data._entities[0].labResults).toMatchObject({ totalCount: 1, pageInfo: { hasNextPage: false } });
    expect(labs.data._entities[0].labResults.edges).toEqual([{ node: { id: 'lr-liam-hgb', sensitivity: 'NORMAL', history: [] } }]);

    const notes = (await gql(t.url, NOTES, patients(DEMO.liam), jane)).data._entities[0].visitNotes;
    expect(notes).toEqual({ totalCount: 1, edges: [{ node: { id: 'vn-liam-past-1', sensitivity: 'NORMAL' } }] });
    const ownNotes = (await gql(t.url, NOTES, patients(DEMO.liam), liam)).data._entities[0].visitNotes;
    expect(ownNotes.totalCount).toBe(2);
  });

  it('refuses the sensitive note by id exactly like a missing one; the appointment’s ordinary note stays visible', async () => {
    const note = await gql(t.url, NOTE, { r: [{ __typename: 'VisitNote', id: 'vn-liam-counseling' }] }, jane);
    expect(codes(note)).toEqual(['NOT_FOUND']);
    const own = await gql(t.url, NOTE, { r: [{ __typename: 'VisitNote', id: 'vn-liam-counseling' }] }, liam);
    expect(own.data._entities).toEqual([{ id: 'vn-liam-counseling', sensitivity: 'BEHAVIORAL_HEALTH' }]);
    const visit = await gql(t.url, APPOINTMENT_NOTE, { r: [{ __typename: 'Appointment', id: 'ap-liam-past-1' }] }, jane);
    expect(visit.data._entities).toEqual([{ id: 'ap-liam-past-1', visitNote: { id: 'vn-liam-past-1' } }]);
  });

  it('leaves an earlier sensitive value of the same test out of a result’s history (trend)', async () => {
    const earlier = { ...(await db().getRepository(LabResultEntity).findOneByOrFail({ id: 'lr-liam-hgb' })), id: 'lr-liam-hgb-earlier', value: '13.1', sensitivity: 'SUBSTANCE_USE' as const };
    earlier.resultedAt = new Date(Date.parse(earlier.resultedAt) - 30 * 86_400_000).toISOString();
    await db().getRepository(LabResultEntity).insert(earlier);
    try {
      const history = async (token: string) =>
        (await gql(t.url, LABS, { ...patients(DEMO.liam), first: 10 }, token)).data._entities[0].labResults.edges.find((e: any) => e.node.id === 'lr-liam-hgb').node.history;
      expect(await history(liam)).toEqual([{ value: '13.1' }]);
      expect(await history(jane)).toEqual([]);
    } finally {
      await db().getRepository(LabResultEntity).delete({ id: 'lr-liam-hgb-earlier' });
    }
  });

  it('reads the parent’s view with as many statements as the patient’s own', async () => {
    await gql(t.url, EVERYTHING, patients(DEMO.liam), liam);
    t.resetStatements();
    await gql(t.url, EVERYTHING, patients(DEMO.liam), liam);
    const own = t.statements();
    t.resetStatements();
    const res = await gql(t.url, EVERYTHING, patients(DEMO.liam, DEMO.emma), jane);
    expect(res.errors).toBeUndefined();
    expect(t.statements()).toBe(own);
  });
});

describe('a parent of a child under 13 (Emma, 12)', () => {
  it('sees her sensitive note too, audited as PROXY', async () => {
    const res = await gql(t.url, NOTES, patients(DEMO.emma), jane, { 'x-request-id': 'req-proxy-notes' });
    expect(res.data._entities[0].visitNotes.edges.map((e: any) => e.node).sort((a: any, b: any) => a.id.localeCompare(b.id))).toEqual([
      { id: 'vn-emma-counseling', sensitivity: 'BEHAVIORAL_HEALTH' },
      { id: 'vn-emma-past-1', sensitivity: 'NORMAL' },
    ]);
    const audit = await db().query(`SELECT actor_person_id, actor_role, patient_id, record_kind, outcome FROM audit_event WHERE request_id = 'req-proxy-notes'`);
    expect(audit).toEqual([{ actor_person_id: DEMO.jane, actor_role: 'PROXY', patient_id: DEMO.emma, record_kind: 'visit_note', outcome: 'ALLOWED' }]);
  });
});

describe('scopes', () => {
  it('gives a proxy with RESULTS only the results: notes and the health summary are refused (FORBIDDEN, a note by id NOT_FOUND)', async () => {
    const res = await gql(t.url, EVERYTHING, patients(DEMO.emma), caregiver);
    const emma = res.data._entities[0];
    expect(idsOf(emma.labResults).sort()).toEqual(['lr-emma-hgb', 'lr-emma-lead']);
    expect(emma).toMatchObject({ visitNotes: null, conditions: null, allergies: null, immunizations: null, vitals: null });
    expect(new Set(codes(res))).toEqual(new Set(['FORBIDDEN']));
    expect(codes(await gql(t.url, NOTE, { r: [{ __typename: 'VisitNote', id: 'vn-emma-past-1' }] }, caregiver))).toEqual(['NOT_FOUND']);
  });

  it('refuses a patient without a grant', async () => {
    const res = await gql(t.url, EVERYTHING, patients(DEMO.emma), john);
    expect(res.data._entities[0]).toMatchObject({ labResults: null, visitNotes: null, conditions: null });
  });
});
