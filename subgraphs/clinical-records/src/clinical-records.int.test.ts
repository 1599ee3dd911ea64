import { DEMO } from '@portal/demo';
import { gql, startTestSubgraph, type TestSubgraph } from '@portal/kit/testing';
import { createClinicalRecordsModule } from './module';
import { seedDemo, seedScalePatient } from './seed';

const NOW = new Date();
const FEW = 'pt-scale-few';
const MANY = 'pt-scale-many';
const STRANGER = 'pr-2000000099';

const at = (days: number, hour: number) => {
  const d = new Date(NOW.getTime() - days * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
};

const ENTITIES = (type: string, fields: string) =>
  `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { ${fields} } } }`;
const patients = (...ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'Patient', id })) });

/**
 * A refused entity without its null fields. The fields a subgraph adds to
 * another's entity are nullable (an outage of one subgraph costs only its
 * section), so a refusal nulls them, not the entity: what is left is at most
 * the key the caller sent.
 */
const refused = (entity: Record<string, unknown> | null) => entity && Object.fromEntries(Object.entries(entity).filter(([, v]) => v !== null));

const LAB_FIELDS = `labResults(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id testName loincCode value unit referenceRange { low high text } interpretation status source collectedAt resultedAt
    history { value resultedAt } education { id title } } }
}`;
const LABS = `query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on Patient { id ${LAB_FIELDS} } } }`;
const NOTES = ENTITIES('Patient', 'id visitNotes(first: 10) { totalCount edges { node { id title noteType status source authoredAt text author { id } appointment { id } } } }');
const SUMMARY = ENTITIES(
  'Patient',
  'id conditions { id name code clinicalStatus onsetDate education { id title } } allergies { id substance reaction severity } immunizations { id vaccine occurrenceDate } vitals(first: $first) { id kind value unit recordedAt }',
).replace('query($r: [_Any!]!)', 'query($r: [_Any!]!, $first: Int)');
const EVERYTHING = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id
  labResults(first: 100) { totalCount pageInfo { hasNextPage } edges { node { id interpretation history { value } education { id } } } }
  visitNotes(first: 100) { totalCount edges { node { id author { id } appointment { id } } } }
  conditions { id education { id } } allergies { id } immunizations { id } vitals(first: 100) { id }
  vitalSigns(first: 100) { totalCount edges { node { id } } }
} } }`;

let t: TestSubgraph;
let jane: string;
let john: string;
let alex: string;
let sam: string;
let stranger: string;

beforeAll(async () => {
  t = await startTestSubgraph(createClinicalRecordsModule(), { careAccess: { [DEMO.alex]: [DEMO.jane, DEMO.john, FEW, MANY] } });
  const db = t.server.database.dataSource;
  await seedDemo(db, NOW);
  await seedScalePatient(db, { patientId: FEW, count: 3 });
  await seedScalePatient(db, { patientId: MANY, count: 200 });
  jane = await t.token({ personId: DEMO.jane });
  john = await t.token({ personId: DEMO.john });
  alex = await t.token({ personId: DEMO.alex, role: 'PRACTITIONER', careTeamIds: [DEMO.careTeamBlue] });
  sam = await t.token({ personId: DEMO.sam, role: 'PHARMACIST' });
  stranger = await t.token({ personId: STRANGER, role: 'PRACTITIONER' });
});
afterAll(() => t?.stop());

const labsOf = async (patientId: string, token: string | undefined, vars: { first?: number; after?: string } = {}) =>
  gql(t.url, LABS, { ...patients(patientId), ...vars }, token);

describe('Patient.labResults', () => {
  it('lists Jane’s released results newest first, never the preliminary one', async () => {
    const res = await labsOf(DEMO.jane, jane, { first: 20 });
    expect(res.errors).toBeUndefined();
    const conn = res.data._entities[0].labResults;
    const nodes = conn.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => n.id)).toEqual([
      'lr-jane-a1c-3',
      'lr-jane-ldl',
      'lr-jane-hgb',
      'lr-jane-wbc',
      'lr-jane-a1c-2',
      'lr-jane-a1c-1',
      'lr-jane-tol-cholesterol',
    ]);
    expect(conn.totalCount).toBe(7);
    expect(conn.pageInfo.hasNextPage).toBe(false);
    expect(nodes.map((n: any) => n.status)).toEqual(['FINAL', 'FINAL', 'FINAL', 'CORRECTED', 'FINAL', 'FINAL', 'FINAL']);
    expect(JSON.stringify(res.data)).not.toContain('prelim');
  });

  it('gives the A1c its values, computed interpretation, earlier values oldest first and education', async () => {
    const res = await labsOf(DEMO.jane, jane, { first: 20 });
    const byId = Object.fromEntries(res.data._entities[0].labResults.edges.map((e: any) => [e.node.id, e.node]));
    expect(byId['lr-jane-a1c-3']).toEqual({
      id: 'lr-jane-a1c-3',
      testName: 'Hemoglobin A1c',
      loincCode: '4548-4',
      value: '6.9',
      unit: '%',
      referenceRange: { low: 4, high: 5.6, text: '4.0-5.6 %' },
      interpretation: 'HIGH',
      status: 'FINAL',
      source: 'MHS_GENESIS',
      collectedAt: at(6, 9),
      resultedAt: at(5, 15),
      history: [
        { value: '6.1', resultedAt: at(300, 14) },
        { value: '6.4', resultedAt: at(150, 14) },
      ],
      education: [{ id: 'ht-a1c', title: 'Understanding your A1c' }],
    });
    expect(byId['lr-jane-a1c-2'].history.map((h: any) => h.value)).toEqual(['6.1']);
    expect(byId['lr-jane-a1c-1'].history).toEqual([]);
    expect(byId['lr-jane-ldl']).toMatchObject({ value: '142', interpretation: 'HIGH', education: [{ id: 'ht-statins', title: 'Statins and cholesterol' }] });
    expect(byId['lr-jane-hgb']).toMatchObject({ interpretation: 'NORMAL', education: [{ id: 'ht-cbc', title: 'Your complete blood count (CBC)' }] });
    // No stored interpretation: computed from the range.
    expect(byId['lr-jane-wbc'].interpretation).toBe('NORMAL');
    expect(byId['lr-jane-tol-cholesterol']).toMatchObject({
      source: 'TRICARE_ONLINE',
      resultedAt: '2018-03-15T18:30:00.000Z',
      referenceRange: { low: null, high: 199, text: '<200 mg/dL' },
      interpretation: 'NORMAL',
      history: [],
      education: [],
    });
  });

  it('pages with cursors and keeps totalCount', async () => {
    const first = (await labsOf(DEMO.jane, jane, { first: 3 })).data._entities[0].labResults;
    expect(first.edges.map((e: any) => e.node.id)).toEqual(['lr-jane-a1c-3', 'lr-jane-ldl', 'lr-jane-hgb']);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[2].cursor });
    const second = (await labsOf(DEMO.jane, jane, { first: 3, after: first.pageInfo.endCursor })).data._entities[0].labResults;
    expect(second.edges.map((e: any) => e.node.id)).toEqual(['lr-jane-wbc', 'lr-jane-a1c-2', 'lr-jane-a1c-1']);
    expect(second.pageInfo.hasNextPage).toBe(true);
    const third = (await labsOf(DEMO.jane, jane, { first: 3, after: second.pageInfo.endCursor })).data._entities[0].labResults;
    expect(third.edges.map((e: any) => e.node.id)).toEqual(['lr-jane-tol-cholesterol']);
    expect(third.pageInfo.hasNextPage).toBe(false);
    expect([first.totalCount, second.totalCount, third.totalCount]).toEqual([7, 7, 7]);
    const none = (await labsOf(DEMO.jane, jane, { first: 0 })).data._entities[0].labResults;
    expect(none).toMatchObject({ totalCount: 7, edges: [], pageInfo: { hasNextPage: true, endCursor: null } });
    const byDefault = (await labsOf(DEMO.jane, jane)).data._entities[0].labResults;
    expect(byDefault.edges).toHaveLength(7);
  });

  it('refuses a page size out of range and a foreign cursor with BAD_USER_INPUT', async () => {
    const big = await labsOf(DEMO.jane, jane, { first: 101 });
    expect(big.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    const negative = await labsOf(DEMO.jane, jane, { first: -1 });
    expect(negative.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const cursor = await labsOf(DEMO.jane, jane, { after: 'not-a-cursor' });
    expect(cursor.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('shows John results from both his DoD and VA periods, with the trend across them', async () => {
    const res = await labsOf(DEMO.john, john, { first: 20 });
    expect(res.errors).toBeUndefined();
    const nodes = res.data._entities[0].labResults.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => [n.id, n.source, n.interpretation])).toEqual([
      ['lr-john-covid-2021', 'MHS_GENESIS', null],
      ['lr-john-ldl-2021', 'MHS_GENESIS', 'NORMAL'],
      ['lr-john-eos-2010', 'TRICARE_ONLINE', 'HIGH'],
      ['lr-john-ldl-2010', 'TRICARE_ONLINE', 'HIGH'],
    ]);
    expect(nodes[1].history).toEqual([{ value: '118', resultedAt: '2010-03-16T17:00:00.000Z' }]);
    expect(nodes[0].referenceRange).toEqual({ low: null, high: null, text: 'Not detected' });
  });

  it('refuses John’s token on Jane’s results with FORBIDDEN and none of her data, and audits it', async () => {
    const res = await gql(t.url, LABS, patients(DEMO.jane), john, { 'x-request-id': 'req-john-labs' });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
    const rows = await t.server.database.dataSource.query(
      `SELECT actor_person_id, patient_id, record_kind, action, outcome FROM audit_event WHERE request_id = 'req-john-labs'`,
    );
    expect(rows).toEqual([{ actor_person_id: DEMO.john, patient_id: DEMO.jane, record_kind: 'lab_result', action: 'read', outcome: 'DENIED' }]);
  });

  it('audits an allowed read once, whatever the number of rows', async () => {
    await gql(t.url, LABS, { ...patients(DEMO.jane), first: 20 }, jane, { 'x-request-id': 'req-jane-labs' });
    const rows = await t.server.database.dataSource.query(`SELECT record_kind, outcome FROM audit_event WHERE request_id = 'req-jane-labs'`);
    expect(rows).toEqual([{ record_kind: 'lab_result', outcome: 'ALLOWED' }]);
  });
});

describe('Patient.visitNotes and VisitNote', () => {
  it('lists Jane’s final and amended notes newest first, with appointment and author stubs, never the draft', async () => {
    const res = await gql(t.url, NOTES, patients(DEMO.jane), jane);
    expect(res.errors).toBeUndefined();
    const conn = res.data._entities[0].visitNotes;
    expect(conn.totalCount).toBe(3);
    expect(conn.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({ id: 'vn-jane-past-1', status: 'FINAL', source: 'MHS_GENESIS', authoredAt: at(20, 17), author: { id: DEMO.alex }, appointment: { id: 'ap-jane-past-1' } }),
      expect.objectContaining({ id: 'vn-jane-past-2', status: 'AMENDED', author: { id: DEMO.alex }, appointment: { id: 'ap-jane-past-2' } }),
      expect.objectContaining({ id: 'vn-jane-tol-2017', status: 'FINAL', source: 'TRICARE_ONLINE', authoredAt: '2017-11-06T15:20:00.000Z', appointment: null }),
    ]);
    expect(conn.edges[0].node.text).toContain('Blood pressure 128/82');
    expect(JSON.stringify(res.data)).not.toContain('draft');
  });

  it('shows John notes of his DoD (2010) and VA (2021) appointments', async () => {
    const res = await gql(t.url, NOTES, patients(DEMO.john), john);
    expect(res.data._entities[0].visitNotes.edges.map((e: any) => [e.node.id, e.node.source, e.node.appointment?.id])).toEqual([
      ['vn-john-2021', 'MHS_GENESIS', 'ap-john-2021'],
      ['vn-john-2010', 'TRICARE_ONLINE', 'ap-john-2010'],
    ]);
  });

  it('resolves a note by id for its patient and for a practitioner who treats her', async () => {
    const query = ENTITIES('VisitNote', 'id title status author { id } appointment { id }');
    const rep = { r: [{ __typename: 'VisitNote', id: 'vn-jane-past-2' }] };
    for (const token of [jane, alex]) {
      const res = await gql(t.url, query, rep, token);
      expect(res.errors).toBeUndefined();
      expect(res.data._entities[0]).toEqual({ id: 'vn-jane-past-2', title: 'Follow-up: blood pressure', status: 'AMENDED', author: { id: DEMO.alex }, appointment: { id: 'ap-jane-past-2' } });
    }
  });

  it('makes Jane’s note look missing to John, exactly like an unknown id or a draft', async () => {
    const query = ENTITIES('VisitNote', 'id title text');
    const theirs = await gql(t.url, query, { r: [{ __typename: 'VisitNote', id: 'vn-jane-past-1' }] }, john);
    const unknown = await gql(t.url, query, { r: [{ __typename: 'VisitNote', id: 'vn-no-such-note' }] }, john);
    const draft = await gql(t.url, query, { r: [{ __typename: 'VisitNote', id: 'vn-jane-draft' }] }, jane);
    for (const res of [theirs, unknown, draft]) {
      expect(res.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['NOT_FOUND', 'Visit note was not found.']]);
      expect(res.data).toEqual({ _entities: [null] });
    }
    expect(JSON.stringify(theirs)).not.toMatch(/Annual physical|128\/82/);
  });

  it('refuses a pharmacist notes and results with FORBIDDEN', async () => {
    const notes = await gql(t.url, NOTES, patients(DEMO.jane), sam);
    expect(notes.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(notes.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
    const labs = await labsOf(DEMO.jane, sam);
    expect(labs.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const note = await gql(t.url, ENTITIES('VisitNote', 'id text'), { r: [{ __typename: 'VisitNote', id: 'vn-jane-past-1' }] }, sam);
    expect(note.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses a practitioner outside the patient’s care teams', async () => {
    const res = await gql(t.url, NOTES, patients(DEMO.jane), stranger);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
  });
});

describe('Appointment.visitNote', () => {
  const query = ENTITIES('Appointment', 'id visitNote { id title status }');
  const appointments = (...ids: string[]) => ({ r: ids.map((id) => ({ __typename: 'Appointment', id })) });

  it('gives the note of each appointment, or null when there is none', async () => {
    const res = await gql(t.url, query, appointments('ap-jane-past-1', 'ap-jane-past-2', 'ap-jane-upcoming'), jane);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([
      { id: 'ap-jane-past-1', visitNote: { id: 'vn-jane-past-1', title: 'Annual physical and diabetes check', status: 'FINAL' } },
      { id: 'ap-jane-past-2', visitNote: { id: 'vn-jane-past-2', title: 'Follow-up: blood pressure', status: 'AMENDED' } },
      { id: 'ap-jane-upcoming', visitNote: null },
    ]);
  });

  it('gives null, and audits the refusal, when the note is someone else’s', async () => {
    const res = await gql(t.url, query, appointments('ap-jane-past-1', 'ap-john-2021'), john, { 'x-request-id': 'req-john-appt' });
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([
      { id: 'ap-jane-past-1', visitNote: null },
      { id: 'ap-john-2021', visitNote: { id: 'vn-john-2021', title: 'New patient visit (veteran)', status: 'FINAL' } },
    ]);
    const rows = await t.server.database.dataSource.query(
      `SELECT patient_id, record_kind, outcome FROM audit_event WHERE request_id = 'req-john-appt' ORDER BY patient_id`,
    );
    expect(rows).toEqual([
      { patient_id: DEMO.jane, record_kind: 'visit_note', outcome: 'DENIED' },
      { patient_id: DEMO.john, record_kind: 'visit_note', outcome: 'ALLOWED' },
    ]);
  });

  it('answers UNAUTHENTICATED without a token', async () => {
    const res = await gql(t.url, query, appointments('ap-jane-past-1'));
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(JSON.stringify(res.data)).not.toContain('vn-jane');
  });
});

describe('health summary lists', () => {
  it('gives Jane her conditions with education, allergies, immunizations and newest vitals', async () => {
    const res = await gql(t.url, SUMMARY, { ...patients(DEMO.jane), first: 2 }, jane);
    expect(res.errors).toBeUndefined();
    const p = res.data._entities[0];
    expect(p.conditions).toEqual([
      {
        id: 'cd-jane-htn',
        name: 'Essential (primary) hypertension',
        code: 'I10',
        clinicalStatus: 'ACTIVE',
        onsetDate: at(120, 14).slice(0, 10),
        education: [
          { id: 'ht-high-blood-pressure', title: 'High blood pressure basics' },
          { id: 'ht-lisinopril', title: 'Lisinopril and blood pressure' },
        ],
      },
      {
        id: 'cd-jane-t2d',
        name: 'Type 2 diabetes mellitus without complications',
        code: 'E11.9',
        clinicalStatus: 'ACTIVE',
        onsetDate: '2023-05-10',
        education: [
          { id: 'ht-type-2-diabetes', title: 'Living with type 2 diabetes' },
          { id: 'ht-a1c', title: 'Understanding your A1c' },
        ],
      },
    ]);
    expect(p.allergies).toEqual([{ id: 'al-jane-penicillin', substance: 'Penicillin', reaction: 'Hives', severity: 'MODERATE' }]);
    expect(p.immunizations).toEqual([
      { id: 'im-jane-flu', vaccine: 'Influenza, seasonal, injectable', occurrenceDate: at(40, 14).slice(0, 10) },
      { id: 'im-jane-tdap', vaccine: 'Tdap (tetanus, diphtheria, pertussis)', occurrenceDate: '2019-07-09' },
    ]);
    expect(p.vitals).toEqual([
      { id: 'vt-jane-wt-1', kind: 'WEIGHT', value: '68.5', unit: 'kg', recordedAt: at(20, 15) },
      { id: 'vt-jane-hr-1', kind: 'HEART_RATE', value: '72', unit: '/min', recordedAt: at(20, 15) },
    ]);
    const all = await gql(t.url, SUMMARY, patients(DEMO.jane), jane);
    expect(all.data._entities[0].vitals.map((v: any) => v.value)).toEqual(['68.5', '72', '128/82', '69.8', '76', '136/88']);
    const tooMany = await gql(t.url, SUMMARY, { ...patients(DEMO.jane), first: 500 }, jane);
    expect(tooMany.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('codes allergies (SNOMED CT) and immunizations (CVX) where the source did', async () => {
    const res = await gql(t.url, ENTITIES('Patient', 'allergies { id snomedCode } immunizations { id cvxCode }'), patients(DEMO.john), john);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities[0]).toEqual({
      allergies: [{ id: 'al-john-sulfa', snomedCode: '763875007' }],
      immunizations: [
        { id: 'im-john-flu-2021', cvxCode: '141' },
        { id: 'im-john-hepa', cvxCode: '85' },
      ],
    });
  });

  it('pages through every vital sign with cursors, sharing one statement with the vitals list', async () => {
    const query = `query($r: [_Any!]!, $first: Int, $after: String) { _entities(representations: $r) { ... on Patient {
      vitals(first: $first) { id }
      vitalSigns(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id kind value unit recordedAt } } }
    } } }`;
    t.resetStatements();
    const first = await gql(t.url, query, { ...patients(DEMO.jane), first: 4 }, jane);
    // page, count, audit
    expect(t.statements()).toBe(3);
    expect(first.errors).toBeUndefined();
    const p = first.data._entities[0];
    expect(p.vitals.map((v: any) => v.id)).toEqual(['vt-jane-wt-1', 'vt-jane-hr-1', 'vt-jane-bp-1', 'vt-jane-wt-2']);
    expect(p.vitalSigns.edges.map((e: any) => e.node.id)).toEqual(p.vitals.map((v: any) => v.id));
    expect(p.vitalSigns.totalCount).toBe(6);
    expect(p.vitalSigns.pageInfo).toEqual({ hasNextPage: true, endCursor: p.vitalSigns.edges[3].cursor });
    expect(p.vitalSigns.edges[2].node).toEqual({ id: 'vt-jane-bp-1', kind: 'BLOOD_PRESSURE', value: '128/82', unit: 'mmHg', recordedAt: at(20, 15) });
    const rest = await gql(t.url, query, { ...patients(DEMO.jane), first: 4, after: p.vitalSigns.pageInfo.endCursor }, jane);
    expect(rest.data._entities[0].vitalSigns.edges.map((e: any) => e.node.id)).toEqual(['vt-jane-hr-2', 'vt-jane-bp-2']);
    expect(rest.data._entities[0].vitalSigns.pageInfo.hasNextPage).toBe(false);
    const bad = await gql(t.url, query, { ...patients(DEMO.jane), first: 101 }, jane);
    expect(bad.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    const foreign = await gql(t.url, query, { ...patients(DEMO.john), first: 4 }, jane);
    expect(foreign.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(foreign.data._entities.map(refused)).toEqual([{}]);
  });

  it('refuses John’s token on each of Jane’s lists', async () => {
    for (const field of ['conditions { id }', 'allergies { id }', 'immunizations { id }', 'vitals { id }', 'vitalSigns { totalCount edges { node { id } } }']) {
      const res = await gql(t.url, ENTITIES('Patient', `id ${field}`), patients(DEMO.jane), john);
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
    }
  });
});

describe('without a token', () => {
  it('gives UNAUTHENTICATED and no data for every health field through _entities', async () => {
    for (const query of [LABS, NOTES, SUMMARY, EVERYTHING]) {
      const res = await gql(t.url, query, patients(DEMO.jane));
      expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.data._entities.map(refused)).toEqual([{ id: DEMO.jane }]);
    }
    const note = await gql(t.url, ENTITIES('VisitNote', 'id text'), { r: [{ __typename: 'VisitNote', id: 'vn-jane-past-1' }] });
    expect(note.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(note.data).toEqual({ _entities: [null] });
  });
});

describe('the health-information library', () => {
  const TOPICS = `query($search: String) { healthTopics(search: $search) { id title summary body reviewedBy reviewedAt } }`;
  const titles = async (search?: string | null) => {
    const res = await gql(t.url, TOPICS, { search });
    expect(res.errors).toBeUndefined();
    return res.data.healthTopics.map((x: any) => x.title);
  };

  it('searches title and summary case-insensitively without a token', async () => {
    expect(await titles('a1C')).toEqual(['Understanding your A1c']);
    expect(await titles('BLOOD PRESSURE')).toEqual(['High blood pressure basics', 'Lisinopril and blood pressure']);
    // "ldl" is only in a summary.
    expect(await titles('ldl')).toEqual(['Statins and cholesterol']);
    expect(await titles('no such topic')).toEqual([]);
  });

  it('lists every topic by title for an empty or absent search', async () => {
    const all = await titles();
    expect(all).toHaveLength(11);
    expect(all[0]).toBe('Albuterol inhaler use');
    expect(all).toEqual([...all].sort((a: string, b: string) => a.toLowerCase().localeCompare(b.toLowerCase())));
    expect(await titles('')).toEqual(all);
    expect(await titles('   ')).toEqual(all);
    expect(await titles(null)).toEqual(all);
  });

  it('gives each topic its review', async () => {
    const res = await gql(t.url, TOPICS, { search: 'metformin' });
    expect(res.data.healthTopics).toEqual([
      expect.objectContaining({ id: 'ht-metformin', reviewedBy: expect.stringContaining('MD'), reviewedAt: '2025-02-20', body: expect.stringContaining('with meals') }),
    ]);
  });

  it('treats LIKE wildcards in the search as plain characters', async () => {
    expect(await titles('%')).toEqual([]);
    expect(await titles('_')).toEqual([]);
  });

  it('refuses a search longer than 100 characters', async () => {
    expect((await gql(t.url, TOPICS, { search: 'x'.repeat(100) })).errors).toBeUndefined();
    const res = await gql(t.url, TOPICS, { search: 'x'.repeat(101) });
    expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'search' });
  });

  it('lists topics of medications, without a token, in one statement for many', async () => {
    const query = ENTITIES('Medication', 'rxnormCode education { id title }');
    t.resetStatements();
    const res = await gql(t.url, query, { r: ['861007', '617312', '314076', '000000'].map((rxnormCode) => ({ __typename: 'Medication', rxnormCode })) });
    expect(t.statements()).toBe(1);
    expect(res.errors).toBeUndefined();
    expect(res.data._entities).toEqual([
      { rxnormCode: '861007', education: [{ id: 'ht-metformin', title: 'Metformin: what to know' }] },
      { rxnormCode: '617312', education: [{ id: 'ht-statins', title: 'Statins and cholesterol' }] },
      { rxnormCode: '314076', education: [{ id: 'ht-lisinopril', title: 'Lisinopril and blood pressure' }] },
      { rxnormCode: '000000', education: [] },
    ]);
  });
});

describe('SQL statements per request', () => {
  const cost = async (token: string, ...ids: string[]) => {
    t.resetStatements();
    const res = await gql(t.url, EVERYTHING, patients(...ids), token);
    const n = t.statements();
    expect(res.errors).toBeUndefined();
    return { n, data: res.data };
  };

  it('is the same for a patient with 3 rows per list as for one with 200', async () => {
    const few = await cost(await t.token({ personId: FEW }), FEW);
    const many = await cost(await t.token({ personId: MANY }), MANY);
    const p = many.data._entities[0];
    expect(p.labResults.totalCount).toBe(200);
    expect(p.labResults.edges).toHaveLength(100);
    expect(p.labResults.pageInfo.hasNextPage).toBe(true);
    expect(p.labResults.edges[0].node.history.length).toBeGreaterThan(10);
    expect(p.labResults.edges[0].node.education.length).toBeGreaterThan(0);
    expect(p.visitNotes.totalCount).toBe(200);
    expect([p.conditions.length, p.allergies.length, p.immunizations.length, p.vitals.length]).toEqual([200, 200, 200, 100]);
    expect(p.vitalSigns.totalCount).toBe(200);
    expect(few.data._entities[0].labResults.totalCount).toBe(3);
    // Printed for the record (counts only, no data).
    console.info(`clinical-records SQL statements: 3 rows ${few.n}; 200 rows ${many.n}`);
    expect(many.n).toBe(few.n);
    // Pages and counts of results, notes and vitals (6), history, education (one per code system asked at once:
    // LOINC, then ICD-10), conditions, allergies, immunizations, the audit insert.
    expect(few.n).toBeLessThanOrEqual(13);
  });

  it('does not grow with the number of patients either', async () => {
    const one = await cost(alex, FEW);
    const three = await cost(alex, FEW, MANY, DEMO.jane);
    expect(three.data._entities.map((p: any) => p.labResults.totalCount)).toEqual([3, 200, 7]);
    expect(three.n).toBe(one.n);
  });
});

describe('seedDemo', () => {
  it('does nothing the second time', async () => {
    const db = t.server.database.dataSource;
    const before = await db.query('SELECT COUNT(*) AS n FROM lab_result');
    await seedDemo(db, NOW);
    expect(await db.query('SELECT COUNT(*) AS n FROM lab_result')).toEqual(before);
  });
});
