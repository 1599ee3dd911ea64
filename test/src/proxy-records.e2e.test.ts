/**
 * Proxy access end to end, through the gateway: Jane, the demo parent, reads
 * and acts for her children (Emma, 12: everything; Liam, 15: sensitive
 * records hidden), and downloads their records as FHIR; anyone else's id
 * reads NOT_FOUND (404 for the download).
 *
 * Needs identity's half of proxy access (the guardian links, Query.patient(id:)
 * and the proxy answer of /internal/care-access): it passes once both halves
 * of issue 17 point 1 are merged.
 */
import type { Bundle, FhirResource } from 'fhir/r4';
import { DEMO } from '@portal/demo';
import { gql } from '@portal/kit/testing';
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

const RECORD = `query($id: ID!) { patient(id: $id) { id
  appointments(first: 20) { totalCount edges { node { id } } }
  messageThreads(folder: INBOX, first: 20) { totalCount edges { node { id sensitivity } } }
  unreadMessageCount
  prescriptions { id }
  labResults(first: 20) { totalCount edges { node { id sensitivity } } }
  visitNotes(first: 20) { totalCount edges { node { id sensitivity } } }
} }`;

const idsOf = (conn: { edges: { node: { id: string } }[] }) => conn.edges.map((e) => e.node.id).sort();

async function download(token: string, patient?: string) {
  const res = await fetch(`${stack.gatewayUrl}/fhir/Patient/$everything${patient ? `?patient=${encodeURIComponent(patient)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Bundle<FhirResource> & { resourceType: string; issue?: { code: string }[] } };
}
const idsOfType = (b: Bundle<FhirResource>, type: string) => (b.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType === type).map((r) => r.id);

describe('reading as a parent', () => {
  it('gives Jane everything of Emma (12), her sensitive note included', async () => {
    const res = await stack.query(RECORD, { id: DEMO.emma }, jane);
    expect(res.errors).toBeUndefined();
    const emma = res.data.patient;
    expect(idsOf(emma.appointments)).toEqual(['ap-emma-past-1', 'ap-emma-upcoming-1']);
    expect(idsOf(emma.messageThreads)).toEqual(['th-emma-care']);
    expect(emma.prescriptions.map((p: { id: string }) => p.id)).toEqual(['rx-emma-albuterol']);
    expect(idsOf(emma.visitNotes)).toEqual(['vn-emma-counseling', 'vn-emma-past-1']);
  });

  it('gives Jane Liam’s (15) record without his sensitive thread, result and note, in lists, totals and counts', async () => {
    const res = await stack.query(RECORD, { id: DEMO.liam }, jane);
    expect(res.errors).toBeUndefined();
    const liam = res.data.patient;
    expect(liam.messageThreads).toMatchObject({ totalCount: 1, edges: [{ node: { id: 'th-liam-care', sensitivity: 'NORMAL' } }] });
    expect(liam.unreadMessageCount).toBe(2);
    expect(liam.labResults).toMatchObject({ totalCount: 1, edges: [{ node: { id: 'lr-liam-hgb' } }] });
    expect(liam.visitNotes).toMatchObject({ totalCount: 1, edges: [{ node: { id: 'vn-liam-past-1' } }] });
    const thread = await stack.query(operation('MessageThreadWithAuthors'), { id: 'th-liam-counseling' }, jane);
    expect(thread.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('reads NOT_FOUND for anyone else’s id, whether or not it exists', async () => {
    for (const id of [DEMO.john, 'pt-9999999999']) {
      const res = await stack.query(RECORD, { id }, jane);
      expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(res.data?.patient ?? null).toBeNull();
    }
    const johnAsksForEmma = await stack.query(RECORD, { id: DEMO.emma }, john);
    expect(johnAsksForEmma.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('acting in the child’s name', () => {
  it('books and cancels Emma’s appointment, and writes to her care team as Jane, which Alex sees', async () => {
    const from = new Date(Date.now() + 20 * 86_400_000);
    const to = new Date(from.getTime() + 14 * 86_400_000);
    const slots = await stack.query(operation('AvailableSlots'), { clinicId: DEMO.familyHealthClinic, appointmentType: 'PRIMARY_CARE', from: from.toISOString(), to: to.toISOString() }, jane);
    const slotId = slots.data.availableSlots[0].id;
    const booked = await stack.query(operation('BookAppointmentFor'), { slotId, patientId: DEMO.emma, reason: 'Sports physical' }, jane);
    expect(booked.errors).toBeUndefined();
    expect(booked.data.bookAppointment.patient).toEqual({ id: DEMO.emma });
    const cancelled = await stack.query(operation('CancelAppointment'), { appointmentId: booked.data.bookAppointment.id }, jane);
    expect(cancelled.data.cancelAppointment.status).toBe('CANCELLED');

    const sent = await stack.query(
      operation('SendMessageFor'),
      { patientId: DEMO.emma, careTeamId: DEMO.careTeamBlue, category: 'GENERAL', subject: 'Inhaler at school', body: 'Emma needs a second inhaler for school.' },
      jane,
    );
    expect(sent.errors).toBeUndefined();
    expect(sent.data.sendMessage).toMatchObject({ patient: { id: DEMO.emma }, messages: [{ writtenByProxy: true }] });
    const forAlex = await stack.query(operation('MessageThreadWithAuthors'), { id: sent.data.sendMessage.id }, await alexToken(stack));
    expect(forAlex.errors).toBeUndefined();
    expect(forAlex.data.messageThread.messages[0]).toMatchObject({ writtenByProxy: true, writtenBy: { id: DEMO.jane, name: { given: 'Jane', family: 'Doe' } } });
  });

  it('shows the care team who wrote a caregiver’s message, even a practitioner who does not treat the caregiver', async () => {
    const endsOn = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const grant = (await stack.query(operation('GrantProxyAccess'), { dodId: '1000000002', scopes: ['MESSAGES'], endsOn }, jane)).data.grantProxyAccess;
    try {
      // John writes to Team Green in Jane's name: Riley Chen is on it, treats Jane and not John.
      const sent = await stack.query(
        operation('SendMessageFor'),
        { patientId: DEMO.jane, careTeamId: DEMO.careTeamGreen, category: 'GENERAL', subject: 'For Jane', body: 'Jane asked me to write about her next visit.' },
        john,
      );
      expect(sent.errors).toBeUndefined();
      const riley = await stack.tokenFor({ accountId: 'ac-riley-chen', personId: DEMO.riley, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [DEMO.careTeamGreen] });
      const read = await stack.query(operation('MessageThreadWithAuthors'), { id: sent.data.sendMessage.id }, riley);
      expect(read.errors).toBeUndefined();
      const [message] = read.data.messageThread.messages;
      expect(message).toMatchObject({ writtenByProxy: true, proxyAuthor: { id: DEMO.john, name: { given: 'John', family: 'Roe' } } });
      // John's own record stays closed to Riley: the Patient reference is null, no more than the name leaks.
      expect(message.writtenBy).toBeNull();
      // Jane, whose thread it is, sees who wrote it too.
      const forJane = await stack.query(operation('MessageThreadWithAuthors'), { id: sent.data.sendMessage.id }, jane);
      expect(forJane.data.messageThread.messages[0].proxyAuthor).toEqual({ id: DEMO.john, name: { given: 'John', family: 'Roe' } });
      // A forged reference naming someone who never acted for Jane answers nothing, even to her care team.
      const forged = await gql(
        stack.subgraphs.identity.graphqlUrl,
        'query($r: [_Any!]!) { _entities(representations: $r) { ... on ProxyAuthor { id name { given family } } } }',
        { r: [{ __typename: 'ProxyAuthor', id: DEMO.emma, patientId: DEMO.jane }, { __typename: 'ProxyAuthor', id: DEMO.john, patientId: DEMO.emma }] },
        riley,
      );
      expect(forged.data._entities).toEqual([null, null]);
      // Once Jane revokes the grant, what John wrote still says who wrote it.
      expect((await stack.query(operation('RevokeProxyAccess'), { id: grant.id }, jane)).errors).toBeUndefined();
      const later = await stack.query(operation('MessageThreadWithAuthors'), { id: sent.data.sendMessage.id }, riley);
      expect(later.data.messageThread.messages[0].proxyAuthor).toEqual({ id: DEMO.john, name: { given: 'John', family: 'Roe' } });
    } finally {
      await stack.query(operation('RevokeProxyAccess'), { id: grant.id }, jane);
    }
  });

  it('refuses John, who is no one’s proxy, a booking in Emma’s name', async () => {
    const from = new Date(Date.now() + 20 * 86_400_000);
    const to = new Date(from.getTime() + 14 * 86_400_000);
    const slots = await stack.query(operation('AvailableSlots'), { clinicId: DEMO.familyHealthClinic, appointmentType: 'PRIMARY_CARE', from: from.toISOString(), to: to.toISOString() }, john);
    const res = await stack.query(operation('BookAppointmentFor'), { slotId: slots.data.availableSlots[0].id, patientId: DEMO.emma }, john);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('GET /fhir/Patient/$everything?patient=', () => {
  it('downloads Liam’s record for Jane without what his grant hides', async () => {
    const { status, body } = await download(jane, DEMO.liam);
    expect(status).toBe(200);
    expect(idsOfType(body, 'Patient')).toEqual([DEMO.liam]);
    expect(idsOfType(body, 'DocumentReference')).toEqual(['vn-liam-past-1']);
    expect(idsOfType(body, 'Observation')).not.toContain('lr-liam-chlamydia');
    expect(JSON.stringify(body)).not.toMatch(/counselor|Chlamydia|Talking to someone/);
  });

  it('downloads Emma’s record for Jane in full, her sensitive note included', async () => {
    const { status, body } = await download(jane, DEMO.emma);
    expect(status).toBe(200);
    expect(idsOfType(body, 'DocumentReference').sort()).toEqual(['vn-emma-counseling', 'vn-emma-past-1']);
  });

  it('answers 404 with an OperationOutcome for a patient Jane may not see, and Jane’s own record without the parameter', async () => {
    for (const id of [DEMO.john, 'pt-9999999999']) {
      const { status, body } = await download(jane, id);
      expect(status).toBe(404);
      expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-found' }] });
    }
    const own = await download(jane);
    expect(own.status).toBe(200);
    expect(idsOfType(own.body, 'Patient')).toEqual([DEMO.jane]);
  });
});

/**
 * A caller who skips the gateway and asks a subgraph itself, with a real
 * token: the subgraph asks identity's real care-access route and refuses the
 * same way (NOT_FOUND by id, nothing in a list), so the gateway is no part of
 * the enforcement.
 */
describe('a subgraph called directly, not through the gateway', () => {
  const NOTE = `query($r: [_Any!]!) { _entities(representations: $r) { ... on VisitNote { id sensitivity } } }`;
  const THREAD = `query($id: ID!) { messageThread(id: $id) { id } }`;
  const APPOINTMENTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id appointments(first: 10) { totalCount edges { node { id } } } } } }`;
  const APPOINTMENT = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Appointment { id patient { id } } } }`;
  const codes = (res: { errors?: { extensions?: Record<string, unknown> }[] }) => res.errors?.map((e) => e.extensions?.code);

  it('gives Jane nothing of Liam’s sensitive note or thread: NOT_FOUND, like a missing id', async () => {
    const note = await gql(stack.subgraphs['clinical-records'].graphqlUrl, NOTE, { r: [{ __typename: 'VisitNote', id: 'vn-liam-counseling' }] }, jane);
    expect(codes(note)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(note.data ?? null)).not.toContain('BEHAVIORAL_HEALTH');
    const thread = await gql(stack.subgraphs.messaging.graphqlUrl, THREAD, { id: 'th-liam-counseling' }, jane);
    expect(codes(thread)).toEqual(['NOT_FOUND']);
    expect(thread.data?.messageThread ?? null).toBeNull();
    // The same calls answer Liam's ordinary records to her: the refusal is the sensitivity's.
    const ordinary = await gql(stack.subgraphs.messaging.graphqlUrl, THREAD, { id: 'th-liam-care' }, jane);
    expect(ordinary.data.messageThread).toEqual({ id: 'th-liam-care' });
  });

  it('gives John, who holds no grant, nothing of Emma’s appointments', async () => {
    const url = stack.subgraphs.scheduling.graphqlUrl;
    const list = await gql(url, APPOINTMENTS, { r: [{ __typename: 'Patient', id: DEMO.emma }] }, john);
    expect(codes(list)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(list.data ?? null)).not.toContain('ap-emma');
    for (const id of ['ap-emma-upcoming-1', 'ap-emma-past-1']) {
      const one = await gql(url, APPOINTMENT, { r: [{ __typename: 'Appointment', id }] }, john);
      expect(codes(one)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(one.data ?? null)).not.toContain('ap-emma');
    }
  });
});
