/**
 * Issue 7 through the gateway: results with trends, visit notes, the health
 * summary, legacy TRICARE Online records and the health library, as clients
 * send the operations of the contract.
 */
import { DEMO } from '@portal/demo';
import { gql } from '@portal/kit/testing';
import { operation, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let john: string;

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  john = await stack.signIn('john.roe', 'Demo-Password-2');
});
afterAll(() => stack?.stop());

const labsOf = async (token: string | undefined, variables: Record<string, unknown> = { first: 20 }) => stack.query(operation('LabResults'), variables, token);
const notesOf = async (token: string, first = 20) => stack.query(operation('VisitNotes'), { first }, token);

describe('LabResults', () => {
  it('gives Jane her released results newest first, with range, interpretation, status, source and dates', async () => {
    const res = await labsOf(jane);
    expect(res.errors).toBeUndefined();
    const conn = res.data.me.patient.labResults;
    const nodes = conn.edges.map((e: any) => e.node);
    expect(conn.totalCount).toBe(7);
    expect(nodes.map((n: any) => n.id)).toEqual(['lr-jane-a1c-3', 'lr-jane-ldl', 'lr-jane-hgb', 'lr-jane-wbc', 'lr-jane-a1c-2', 'lr-jane-a1c-1', 'lr-jane-tol-cholesterol']);
    const resulted = nodes.map((n: any) => Date.parse(n.resultedAt));
    expect([...resulted].sort((a, b) => b - a)).toEqual(resulted);
    const a1c = nodes[0];
    expect(a1c).toMatchObject({
      testName: 'Hemoglobin A1c',
      loincCode: '4548-4',
      value: '6.9',
      unit: '%',
      referenceRange: { low: 4, high: 5.6, text: '4.0-5.6 %' },
      // The lab sent no flag: computed from the value and the range.
      interpretation: 'HIGH',
      status: 'FINAL',
      source: 'MHS_GENESIS',
    });
    expect(Date.parse(a1c.collectedAt)).toBeLessThan(Date.parse(a1c.resultedAt));
    // The trend: earlier values of the same LOINC test, oldest first.
    expect(a1c.history.map((h: any) => h.value)).toEqual(['6.1', '6.4']);
    expect(Date.parse(a1c.history[0].resultedAt)).toBeLessThan(Date.parse(a1c.history[1].resultedAt));
    expect(a1c.education).toEqual([{ id: 'ht-a1c', title: 'Understanding your A1c' }]);
    expect(nodes.find((n: any) => n.id === 'lr-jane-wbc')).toMatchObject({ status: 'CORRECTED', interpretation: 'NORMAL' });
    expect(nodes.find((n: any) => n.id === 'lr-jane-tol-cholesterol')).toMatchObject({ source: 'TRICARE_ONLINE', resultedAt: '2018-03-15T18:30:00.000Z' });
    expect(JSON.stringify(res.data)).not.toContain('prelim');
  });

  it('releases a result the moment it is final, and never a preliminary one', async () => {
    const db = stack.subgraphs['clinical-records'].database.dataSource;
    const now = new Date().toISOString();
    const row = (id: string, status: string) => ({
      id, patientId: DEMO.jane, testName: 'Potassium', loincCode: '2823-3', value: '4.1', unit: 'mmol/L', refLow: 3.5, refHigh: 5.1,
      refText: null, interpretation: null, status, source: 'MHS_GENESIS', collectedAt: now, resultedAt: now,
    });
    const results = db.getRepository('LabResult');
    await results.insert([row('lr-e2e-k-final', 'FINAL'), row('lr-e2e-k-prelim', 'PRELIMINARY')]);
    try {
      const res = await labsOf(jane, { first: 1 });
      expect(res.data.me.patient.labResults.edges[0].node).toMatchObject({ id: 'lr-e2e-k-final', interpretation: 'NORMAL' });
      expect(res.data.me.patient.labResults.totalCount).toBe(8);
    } finally {
      await results.delete(['lr-e2e-k-final', 'lr-e2e-k-prelim']);
    }
  });

  it('pages with cursors', async () => {
    const first = (await labsOf(jane, { first: 4 })).data.me.patient.labResults;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await labsOf(jane, { first: 4, after: first.pageInfo.endCursor })).data.me.patient.labResults;
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect([...first.edges, ...rest.edges].map((e: any) => e.node.id)).toHaveLength(7);
  });

  it('refuses page sizes out of 0..100 and a cursor it did not give out, with BAD_USER_INPUT', async () => {
    for (const variables of [{ first: 101 }, { first: -1 }, { first: 10, after: 'bm90LWEtY3Vyc29y' }]) {
      const res = await labsOf(jane, variables);
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors?.[0].message).toMatch(/first|after/);
      expect(JSON.stringify(res.data)).not.toContain('lr-jane');
    }
    const notes = await stack.query(operation('VisitNotes'), { first: 1000 }, jane);
    expect(notes.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('gives nothing without a token', async () => {
    const res = await labsOf(undefined);
    expect(res.data).toEqual({ me: null });
  });
});

describe('VisitNotes and appointments', () => {
  it('gives Jane final and amended notes with author, text and the appointment from scheduling', async () => {
    const res = await notesOf(jane);
    expect(res.errors).toBeUndefined();
    const nodes = res.data.me.patient.visitNotes.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => [n.id, n.status, n.source])).toEqual([
      ['vn-jane-past-1', 'FINAL', 'MHS_GENESIS'],
      ['vn-jane-past-2', 'AMENDED', 'MHS_GENESIS'],
      ['vn-jane-tol-2017', 'FINAL', 'TRICARE_ONLINE'],
    ]);
    expect(nodes[0]).toMatchObject({
      title: 'Annual physical and diabetes check',
      noteType: 'PROGRESS_NOTE',
      author: { id: DEMO.alex, name: { family: 'Kim' } },
      appointment: { id: 'ap-jane-past-1', clinic: { name: 'Family Health Clinic' } },
    });
    expect(nodes[0].text).toContain('Blood pressure 128/82');
    expect(Date.parse(nodes[0].appointment.start)).toBeLessThan(Date.parse(nodes[0].authoredAt));
    expect(nodes[2].appointment).toBeNull();
    expect(JSON.stringify(res.data)).not.toContain('vn-jane-draft');
  });

  it('links each past appointment to its note the other way (Appointment.visitNote)', async () => {
    const res = await stack.query(operation('MyAppointments'), { first: 50 }, jane);
    const byId = Object.fromEntries(res.data.me.patient.appointments.edges.map((e: any) => [e.node.id, e.node]));
    expect(byId['ap-jane-past-1'].visitNote).toEqual({ id: 'vn-jane-past-1', title: 'Annual physical and diabetes check' });
    expect(byId['ap-jane-past-2'].visitNote).toEqual({ id: 'vn-jane-past-2', title: 'Follow-up: blood pressure' });
  });

  it('makes Jane’s note look exactly like a missing one to John, even called directly', async () => {
    const url = stack.subgraphs['clinical-records'].graphqlUrl;
    const query = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on VisitNote { id title text } } }';
    const theirs = await gql(url, query, { r: [{ __typename: 'VisitNote', id: 'vn-jane-past-1' }] }, john);
    const missing = await gql(url, query, { r: [{ __typename: 'VisitNote', id: 'vn-does-not-exist' }] }, john);
    expect(theirs.errors?.map((e) => [e.extensions?.code, e.message])).toEqual(missing.errors?.map((e) => [e.extensions?.code, e.message]));
    expect(theirs.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(theirs.data).toEqual(missing.data);
    expect(JSON.stringify(theirs)).not.toMatch(/Annual physical|128\/82/);
  });
});

describe('HealthSummary', () => {
  it('gives Jane conditions with their topics, allergies, immunizations and the newest vitals', async () => {
    const res = await stack.query(operation('HealthSummary'), {}, jane);
    expect(res.errors).toBeUndefined();
    const p = res.data.me.patient;
    expect(p.conditions.map((c: any) => [c.code, c.clinicalStatus, c.education.map((t: any) => t.id)])).toEqual([
      ['I10', 'ACTIVE', ['ht-high-blood-pressure', 'ht-lisinopril']],
      ['E11.9', 'ACTIVE', ['ht-type-2-diabetes', 'ht-a1c']],
    ]);
    expect(p.allergies).toEqual([{ id: 'al-jane-penicillin', substance: 'Penicillin', reaction: 'Hives', severity: 'MODERATE' }]);
    expect(p.immunizations.map((i: any) => i.id)).toEqual(['im-jane-flu', 'im-jane-tdap']);
    expect(p.vitals.map((v: any) => v.kind)).toEqual(['WEIGHT', 'HEART_RATE', 'BLOOD_PRESSURE', 'WEIGHT', 'HEART_RATE', 'BLOOD_PRESSURE']);
    const recorded = p.vitals.map((v: any) => Date.parse(v.recordedAt));
    expect([...recorded].sort((a, b) => b - a)).toEqual(recorded);
  });
});

describe('John’s DoD (TRICARE Online) and VA records in one record', () => {
  it('shows his 2010 legacy results and notes beside his 2021 ones, with the trend across them', async () => {
    const labs = (await labsOf(john)).data.me.patient.labResults.edges.map((e: any) => e.node);
    expect(labs.map((n: any) => [n.resultedAt.slice(0, 4), n.source])).toEqual([
      ['2021', 'MHS_GENESIS'],
      ['2021', 'MHS_GENESIS'],
      ['2010', 'TRICARE_ONLINE'],
      ['2010', 'TRICARE_ONLINE'],
    ]);
    const ldl2021 = labs.find((n: any) => n.id === 'lr-john-ldl-2021');
    expect(ldl2021.history).toEqual([{ value: '118', resultedAt: '2010-03-16T17:00:00.000Z' }]);
    const notes = (await notesOf(john)).data.me.patient.visitNotes.edges.map((e: any) => e.node);
    expect(notes.map((n: any) => [n.id, n.source, n.appointment?.id])).toEqual([
      ['vn-john-2021', 'MHS_GENESIS', 'ap-john-2021'],
      ['vn-john-2010', 'TRICARE_ONLINE', 'ap-john-2010'],
    ]);
    expect(notes[1].appointment.start).toBe('2010-03-15T14:00:00.000Z');
  });
});

describe('the health-information library', () => {
  const topics = async (search: unknown) => stack.query(operation('HealthTopics'), { search });

  it('searches titles and summaries case-insensitively without sign-in', async () => {
    expect((await topics('BLOOD pressure')).data.healthTopics.map((t: any) => t.title)).toEqual(['High blood pressure basics', 'Lisinopril and blood pressure']);
    // Only in a summary.
    expect((await topics('ldl')).data.healthTopics.map((t: any) => t.id)).toEqual(['ht-statins']);
    const all = (await topics(null)).data.healthTopics;
    expect(all.length).toBeGreaterThanOrEqual(11);
    expect(all.length).toBeLessThanOrEqual(50);
    expect(all[0]).toEqual({ id: expect.any(String), title: expect.any(String), summary: expect.any(String), reviewedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
  });

  it('refuses a search over 100 characters', async () => {
    const res = await topics('x'.repeat(101));
    expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'search' });
  });

  it('lists a medication’s topics in the portal view (Medication.education)', async () => {
    const res = await stack.query(operation('PortalView'), {}, jane);
    const metformin = res.data.me.patient.prescriptions.find((p: any) => p.medication.rxnormCode === '861007');
    expect(metformin.medication.education).toEqual([{ id: 'ht-metformin', title: 'Metformin: what to know' }]);
  });
});
