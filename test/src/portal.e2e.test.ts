import { DEMO } from '@portal/kit';
import { alexToken, operation, startTestStack, type TestStack } from './harness';

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
    const res = await stack.query(operation('PortalView'), {}, jane);
    expect(res.errors).toBeUndefined();
    const { me } = res.data;
    // identity
    expect(me.account).toEqual({ id: 'ac-jane-doe', username: 'jane.doe', status: 'ACTIVE', signInMethods: ['DS_LOGON', 'CAC'] });
    expect(me.session.method).toBe('DS_LOGON');
    const p = me.patient;
    expect(p).toMatchObject({ id: DEMO.jane, dodId: '1000000001', name: { given: 'Jane', family: 'Doe' }, dateOfBirth: '1990-04-12' });
    expect(p.affiliations).toEqual([{ organization: 'DOD', status: 'ACTIVE_DUTY', startDate: '2012-06-01', endDate: null }]);
    // scheduling, with the practitioner's name from identity
    expect(p.upcomingAppointments.length).toBeGreaterThanOrEqual(2);
    const starts = p.upcomingAppointments.map((a: any) => Date.parse(a.start));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(starts[0]).toBeGreaterThan(Date.now());
    expect(p.upcomingAppointments[0]).toMatchObject({
      status: 'BOOKED',
      cancellable: true,
      clinic: { id: DEMO.familyHealthClinic, name: 'Family Health Clinic', timeZone: 'America/New_York' },
      practitioner: { id: DEMO.alex, name: { given: 'Alex', family: 'Kim' } },
    });
    // messaging, with the care team's name from identity
    expect(p.unreadMessageCount).toBeGreaterThanOrEqual(1);
    const threads = p.messageThreads.edges.map((e: any) => e.node);
    expect(p.messageThreads.totalCount).toBeGreaterThanOrEqual(threads.length);
    expect(threads.some((t: any) => t.unread && t.careTeam.name === 'Primary Care Team Blue')).toBe(true);
    expect(threads.some((t: any) => t.source === 'TRICARE_ONLINE' && t.canReply === false)).toBe(true);
    // pharmacy, with medication education from clinical-records and the prescriber from identity
    const rx = p.prescriptions;
    const byCode = Object.fromEntries(rx.map((r: any) => [r.medication.rxnormCode, r]));
    expect(byCode['314076']).toMatchObject({ refillable: true, renewable: false, prescriber: { id: DEMO.alex, name: { family: 'Kim' } } });
    expect(byCode['861007']).toMatchObject({ refillsRemaining: 0, refillable: false, renewable: true });
    expect(byCode['861007'].medication.education.map((t: any) => t.title)).toContain('Metformin: what to know');
    // clinical-records
    const labs = p.labResults.edges.map((e: any) => e.node);
    const a1c = labs.find((l: any) => l.loincCode === '4548-4');
    expect(a1c).toMatchObject({ value: '6.9', unit: '%', interpretation: 'HIGH', referenceRange: { low: 4, high: 5.6 } });
    expect(a1c.education.map((t: any) => t.title)).toContain('Understanding your A1c');
    const notes = p.visitNotes.edges.map((e: any) => e.node);
    expect(notes.length).toBeGreaterThanOrEqual(2);
    expect(notes[0].author).toEqual({ id: DEMO.alex, name: { family: 'Kim' } });
  });

  it('gives a null me without a token', async () => {
    const res = await stack.query(operation('PortalView'));
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ me: null });
  });

  it('refuses a tampered token with UNAUTHENTICATED and no data', async () => {
    const [h, payload, sig] = jane.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.pid = DEMO.john;
    const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
    const res = await stack.query(operation('PortalView'), {}, forged);
    expect(res.status).toBe(401);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(res.data).toBeUndefined();
  });

  it('shows John his records from both his DoD and VA periods', async () => {
    const res = await stack.query(operation('PortalView'), {}, john);
    expect(res.errors).toBeUndefined();
    expect(res.data.me.patient.affiliations.map((a: any) => a.organization)).toEqual(['DOD', 'VA']);
    const notes = await stack.query(operation('VisitNotes'), { first: 20 }, john);
    const years = notes.data.me.patient.visitNotes.edges.map((e: any) => e.node.authoredAt.slice(0, 4));
    expect(years).toEqual(expect.arrayContaining(['2010', '2021']));
  });
});

describe('the read side operations of portal.graphql', () => {
  it('SupportContacts needs no sign-in', async () => {
    const res = await stack.query(operation('SupportContacts'));
    expect(res.data.supportContacts.map((c: any) => c.purpose)).toHaveLength(2);
  });

  it('HealthTopics needs no sign-in and searches case-insensitively', async () => {
    const res = await stack.query(operation('HealthTopics'), { search: 'a1C' });
    expect(res.data.healthTopics.map((t: any) => t.title)).toContain('Understanding your A1c');
  });

  it('Clinics lists the Family Health Clinic', async () => {
    const res = await stack.query(operation('Clinics'), {}, jane);
    expect(res.data.clinics).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: DEMO.familyHealthClinic, timeZone: 'America/New_York', appointmentTypes: expect.arrayContaining(['PRIMARY_CARE']) })]),
    );
  });

  it('MyAppointments pages with cursors, newest first, and links visit notes across subgraphs', async () => {
    const first = await stack.query(operation('MyAppointments'), { first: 2 }, jane);
    const conn = first.data.me.patient.appointments;
    expect(conn.edges).toHaveLength(2);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    const next = await stack.query(operation('MyAppointments'), { first: 50, after: conn.pageInfo.endCursor }, jane);
    const rest = next.data.me.patient.appointments;
    expect(rest.totalCount).toBe(conn.totalCount);
    const all = [...conn.edges, ...rest.edges].map((e: any) => e.node);
    expect(all).toHaveLength(conn.totalCount);
    const starts = all.map((a: any) => Date.parse(a.start));
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);
    const past = all.find((a: any) => a.id === 'ap-jane-past-1');
    expect(past.visitNote).toEqual({ id: expect.any(String), title: expect.any(String) });
  });

  it('MessageThreads and MessageThread show Jane her threads and care teams', async () => {
    const res = await stack.query(operation('MessageThreads'), { folder: 'INBOX', first: 10 }, jane);
    expect(res.errors).toBeUndefined();
    const p = res.data.me.patient;
    expect(p.careTeams.map((t: any) => t.name)).toContain('Primary Care Team Blue');
    const id = p.messageThreads.edges[0].node.id;
    const thread = await stack.query(operation('MessageThread'), { id }, jane);
    expect(thread.data.messageThread.id).toBe(id);
    expect(thread.data.messageThread.messages.length).toBeGreaterThan(0);
  });

  it('Prescriptions, LabResults, VisitNotes and HealthSummary answer for Jane', async () => {
    const rx = await stack.query(operation('Prescriptions'), { status: 'ACTIVE' }, jane);
    expect(rx.errors).toBeUndefined();
    expect(rx.data.me.patient.prescriptions.length).toBeGreaterThan(0);
    expect(rx.data.me.patient.prescriptions.every((p: any) => p.status === 'ACTIVE')).toBe(true);
    const labs = await stack.query(operation('LabResults'), { first: 10 }, jane);
    expect(labs.errors).toBeUndefined();
    const a1c = labs.data.me.patient.labResults.edges.map((e: any) => e.node).find((n: any) => n.loincCode === '4548-4');
    expect(a1c.history.map((h: any) => h.value)).toEqual(['6.1', '6.4']);
    const notes = await stack.query(operation('VisitNotes'), { first: 10 }, jane);
    expect(notes.errors).toBeUndefined();
    const linked = notes.data.me.patient.visitNotes.edges.map((e: any) => e.node).find((n: any) => n.appointment?.id === 'ap-jane-past-1');
    expect(linked.appointment.clinic.name).toBe('Family Health Clinic');
    const summary = await stack.query(operation('HealthSummary'), {}, jane);
    expect(summary.errors).toBeUndefined();
    expect(summary.data.me.patient.conditions.map((c: any) => c.code)).toEqual(expect.arrayContaining(['E11.9', 'I10']));
    expect(summary.data.me.patient.allergies[0].substance).toBe('Penicillin');
  });

  it('CareTeamInbox shows Alex the threads of his care team with the patients’ names', async () => {
    const res = await stack.query(operation('CareTeamInbox'), { first: 20 }, await alexToken(stack));
    expect(res.errors).toBeUndefined();
    const teams = res.data.me.practitioner.careTeams;
    expect(teams.map((t: any) => t.name)).toEqual(['Primary Care Team Blue']);
    const patients = new Set(teams[0].threads.edges.map((e: any) => e.node.patient.name.family));
    expect(patients).toEqual(new Set(['Doe', 'Roe']));
  });
});
