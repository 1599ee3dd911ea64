import { DEMO } from '@portal/demo';
import {
  CareTeamInboxDocument,
  ClinicsDocument,
  HealthSummaryDocument,
  HealthTopicsDocument,
  LabResultsDocument,
  MessageThreadDocument,
  MessageThreadsDocument,
  MyAppointmentsDocument,
  PortalViewDocument,
  PrescriptionsDocument,
  SupportContactsDocument,
  VisitNotesDocument,
} from './generated/operations';
import { alexToken, dataOf, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let john: string;

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  john = await stack.signIn('john.roe', 'Demo-Password-2');
});
afterAll(() => stack?.stop());

describe('PortalView through the gateway', () => {
  it('gives Jane her whole portal view with data from all five subgraphs', async () => {
    const me = dataOf(await stack.query(PortalViewDocument, {}, jane)).me!;
    // identity
    expect(me.account).toEqual({ id: 'ac-jane-doe', username: 'jane.doe', status: 'ACTIVE', signInMethods: ['DS_LOGON', 'CAC'] });
    expect(me.session.method).toBe('DS_LOGON');
    const p = me.patient!;
    expect(p).toMatchObject({ id: DEMO.jane, dodId: '1000000001', name: { given: 'Jane', family: 'Doe' }, dateOfBirth: '1990-04-12' });
    expect(p.affiliations).toEqual([{ organization: 'DOD', status: 'ACTIVE_DUTY', startDate: '2012-06-01', endDate: null }]);
    // scheduling, with the practitioner's name from identity
    const upcoming = p.upcomingAppointments!;
    expect(upcoming.length).toBeGreaterThanOrEqual(2);
    const starts = upcoming.map((a) => Date.parse(a.start));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(starts[0]).toBeGreaterThan(Date.now());
    expect(upcoming[0]).toMatchObject({
      status: 'BOOKED',
      cancellable: true,
      clinic: { id: DEMO.familyHealthClinic, name: 'Family Health Clinic', timeZone: 'America/New_York' },
      practitioner: { id: DEMO.alex, name: { given: 'Alex', family: 'Kim' } },
    });
    // messaging, with the care team's name from identity
    expect(p.unreadMessageCount).toBeGreaterThanOrEqual(1);
    const threads = p.messageThreads!.edges.map((e) => e.node);
    expect(p.messageThreads!.totalCount).toBeGreaterThanOrEqual(threads.length);
    expect(threads.some((t) => t.unread && t.careTeam.name === 'Primary Care Team Blue')).toBe(true);
    expect(threads.some((t) => t.source === 'TRICARE_ONLINE' && t.canReply === false)).toBe(true);
    // pharmacy, with medication education from clinical-records and the prescriber from identity
    const rx = p.prescriptions!;
    const byCode = Object.fromEntries(rx.map((r) => [r.medication.rxnormCode, r]));
    expect(byCode['314076']).toMatchObject({ refillable: true, renewable: false, prescriber: { id: DEMO.alex, name: { family: 'Kim' } } });
    expect(byCode['861007']).toMatchObject({ refillsRemaining: 0, refillable: false, renewable: true });
    expect(byCode['861007'].medication.education!.map((t) => t.title)).toContain('Metformin: what to know');
    // clinical-records
    const labs = p.labResults!.edges.map((e) => e.node);
    const a1c = labs.find((l) => l.loincCode === '4548-4')!;
    expect(a1c).toMatchObject({ value: '6.9', unit: '%', interpretation: 'HIGH', referenceRange: { low: 4, high: 5.6 } });
    expect(a1c.education.map((t) => t.title)).toContain('Understanding your A1c');
    const notes = p.visitNotes!.edges.map((e) => e.node);
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes[0].author).toEqual({ id: DEMO.alex, name: { family: 'Kim' } });
  });

  it('gives a null me without a token', async () => {
    expect(dataOf(await stack.query(PortalViewDocument))).toEqual({ me: null });
  });

  it('refuses a tampered token with UNAUTHENTICATED and no data', async () => {
    const [h, payload, sig] = jane.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.pid = DEMO.john;
    const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
    const res = await stack.query(PortalViewDocument, {}, forged);
    expect(res.status).toBe(401);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(res.data).toBeUndefined();
  });

  it('shows John his records from both his DoD and VA periods', async () => {
    const view = dataOf(await stack.query(PortalViewDocument, {}, john));
    expect(view.me?.patient?.affiliations.map((a) => a.organization)).toEqual(['DOD', 'VA']);
    const notes = dataOf(await stack.query(VisitNotesDocument, { first: 20 }, john));
    const years = notes.me?.patient?.visitNotes?.edges.map((e) => e.node.authoredAt.slice(0, 4));
    expect(years).toEqual(expect.arrayContaining(['2010', '2021']));
  });
});

describe('the read side operations of portal.graphql', () => {
  it('SupportContacts needs no sign-in', async () => {
    const res = await stack.query(SupportContactsDocument);
    expect(dataOf(res).supportContacts.map((c) => c.purpose)).toHaveLength(2);
  });

  it('HealthTopics needs no sign-in and searches case-insensitively', async () => {
    const res = await stack.query(HealthTopicsDocument, { search: 'a1C' });
    expect(dataOf(res).healthTopics.map((t) => t.title)).toContain('Understanding your A1c');
  });

  it('Clinics lists the Family Health Clinic', async () => {
    const res = await stack.query(ClinicsDocument, {}, jane);
    expect(dataOf(res).clinics).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: DEMO.familyHealthClinic, timeZone: 'America/New_York', appointmentTypes: expect.arrayContaining(['PRIMARY_CARE']) })]),
    );
  });

  it('MyAppointments pages with cursors, newest first, and links visit notes across subgraphs', async () => {
    const first = dataOf(await stack.query(MyAppointmentsDocument, { first: 2 }, jane));
    const conn = first.me!.patient!.appointments!;
    expect(conn.edges).toHaveLength(2);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    const next = dataOf(await stack.query(MyAppointmentsDocument, { first: 50, after: conn.pageInfo.endCursor }, jane));
    const rest = next.me!.patient!.appointments!;
    expect(rest.totalCount).toBe(conn.totalCount);
    const all = [...conn.edges, ...rest.edges].map((e) => e.node);
    expect(all).toHaveLength(conn.totalCount);
    const starts = all.map((a) => Date.parse(a.start));
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);
    const past = all.find((a) => a.id === 'ap-jane-past-1');
    expect(past?.visitNote).toEqual({ id: expect.any(String), title: expect.any(String) });
  });

  it('MessageThreads and MessageThread show Jane her threads and care teams', async () => {
    const p = dataOf(await stack.query(MessageThreadsDocument, { folder: 'INBOX', first: 10 }, jane)).me!.patient!;
    expect(p.careTeams.map((t) => t.name)).toContain('Primary Care Team Blue');
    const id = p.messageThreads!.edges[0].node.id;
    const thread = dataOf(await stack.query(MessageThreadDocument, { id }, jane)).messageThread!;
    expect(thread.id).toBe(id);
    expect(thread.messages.length).toBeGreaterThan(0);
  });

  it('Prescriptions, LabResults, VisitNotes and HealthSummary answer for Jane', async () => {
    const rx = dataOf(await stack.query(PrescriptionsDocument, { status: 'ACTIVE' }, jane)).me!.patient!.prescriptions!;
    expect(rx.length).toBeGreaterThan(0);
    expect(rx.every((p) => p.status === 'ACTIVE')).toBe(true);
    const labs = dataOf(await stack.query(LabResultsDocument, { first: 10 }, jane)).me!.patient!.labResults!;
    const a1c = labs.edges.map((e) => e.node).find((n) => n.loincCode === '4548-4');
    expect(a1c?.history.map((h) => h.value)).toEqual(['6.1', '6.4']);
    const notes = dataOf(await stack.query(VisitNotesDocument, { first: 10 }, jane)).me!.patient!.visitNotes!;
    const linked = notes.edges.map((e) => e.node).find((n) => n.appointment?.id === 'ap-jane-past-1');
    expect(linked?.appointment?.clinic.name).toBe('Family Health Clinic');
    const summary = dataOf(await stack.query(HealthSummaryDocument, {}, jane)).me!.patient!;
    expect(summary.conditions?.map((c) => c.code)).toEqual(expect.arrayContaining(['E11.9', 'I10']));
    expect(summary.allergies?.[0].substance).toBe('Penicillin');
  });

  it('CareTeamInbox shows Alex the threads of his care team with the patients’ names', async () => {
    const teams = dataOf(await stack.query(CareTeamInboxDocument, { first: 20 }, await alexToken(stack))).me!.practitioner!.careTeams;
    expect(teams.map((t) => t.name)).toEqual(['Primary Care Team Blue']);
    const patients = new Set(teams[0].threads?.edges.map((e) => e.node.patient.name.family));
    expect(patients).toEqual(new Set(['Doe', 'Roe']));
  });
});
