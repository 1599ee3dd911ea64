/**
 * A practitioner on none of a patient's care teams gets nothing of that
 * patient, from any subgraph, with identity's real care-team check (not the
 * stand-in map of kit/src/testing.ts): through the gateway and at each
 * subgraph called directly.
 *
 * The demo cast: Alex Kim is on Team Blue with Jane and John; Riley Chen on
 * Team Green with Jane only; Morgan Diaz on no team. Riley and Morgan have no
 * demo card, so their tokens are signed with identity's key for their real
 * accounts, with real sessions (harness `tokenFor`).
 */
import { DEMO } from '@portal/demo';
import { gql, type GraphQLResponse } from '@portal/kit/testing';
import { alexToken, operation, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let john: string;
let alex: string;
let morgan: string;
let riley: string;

/** What a patient's own token shows of their record: ids and words that must not reach anyone else. */
interface Record {
  patientId: string;
  appointmentIds: string[];
  threadIds: string[];
  prescriptionIds: string[];
  requestIds: string[];
  noteIds: string[];
  resultIds: string[];
  /** Strings only this patient's record holds. */
  secrets: string[];
}
const records: { [who: string]: Record } = {};

const OWN_RECORD = `{ me { patient {
  id dodId dateOfBirth
  appointments(first: 50) { edges { node { id reason } } }
  messageThreads(folder: INBOX, first: 50) { edges { node { id subject messages { body } } } }
  prescriptions { id directions pendingRequest { id } }
  labResults(first: 50) { edges { node { id } } }
  visitNotes(first: 50) { edges { node { id text } } }
} } }`;

async function recordOf(token: string): Promise<Record> {
  const res = await stack.query(OWN_RECORD, {}, token);
  expect(res.errors).toBeUndefined();
  const p = res.data.me.patient;
  const nodes = (c: { edges: { node: any }[] }) => c.edges.map((e) => e.node);
  const r: Record = {
    patientId: p.id,
    appointmentIds: nodes(p.appointments).map((a) => a.id),
    threadIds: nodes(p.messageThreads).map((t) => t.id),
    prescriptionIds: p.prescriptions.map((x: any) => x.id),
    requestIds: p.prescriptions.filter((x: any) => x.pendingRequest).map((x: any) => x.pendingRequest.id),
    noteIds: nodes(p.visitNotes).map((n) => n.id),
    resultIds: nodes(p.labResults).map((l) => l.id),
    secrets: [
      p.dodId,
      p.dateOfBirth,
      ...nodes(p.messageThreads).flatMap((t) => [t.subject, ...t.messages.map((m: any) => m.body)]),
      ...p.prescriptions.map((x: any) => x.directions),
      ...nodes(p.visitNotes).map((n) => n.text),
      ...nodes(p.appointments).map((a) => a.reason).filter(Boolean),
    ],
  };
  // Each kind of record exists, so that "nothing of it" below means something.
  for (const list of [r.appointmentIds, r.threadIds, r.prescriptionIds, r.requestIds, r.noteIds, r.resultIds]) expect(list.length).toBeGreaterThan(0);
  r.secrets.push(...r.appointmentIds, ...r.threadIds, ...r.prescriptionIds, ...r.requestIds, ...r.noteIds, ...r.resultIds);
  return r;
}

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  john = await stack.signIn('john.roe', 'Demo-Password-2');
  alex = await alexToken(stack);
  morgan = await stack.tokenFor({ accountId: 'ac-morgan-diaz', personId: DEMO.morgan, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [] });
  riley = await stack.tokenFor({ accountId: 'ac-riley-chen', personId: DEMO.riley, role: 'PRACTITIONER', method: 'CAC', careTeamIds: [DEMO.careTeamGreen] });
  // A pending request of each patient, so that pendingPharmacyRequests has something to leak.
  for (const token of [jane, john]) {
    const rx = (await stack.query('{ me { patient { prescriptions { id refillable renewable pendingRequest { id } } } } }', {}, token)).data.me.patient.prescriptions;
    if (rx.some((x: any) => x.pendingRequest)) continue;
    const refillable = rx.find((x: any) => x.refillable);
    expect(refillable).toBeDefined();
    const res = await stack.query(operation('RequestRefill'), { prescriptionId: refillable.id }, token);
    expect(res.errors).toBeUndefined();
  }
  records.jane = await recordOf(jane);
  records.john = await recordOf(john);
  // Words both records hold (the same directions, say) are no one's secret: Riley may see Jane's.
  const [a, b] = [new Set(records.jane.secrets), new Set(records.john.secrets)];
  records.jane.secrets = [...a].filter((x) => !b.has(x));
  records.john.secrets = [...b].filter((x) => !a.has(x));
});
afterAll(() => stack?.stop());

/**
 * Nothing of `r` in the answer: its data holds none of the patient's ids or
 * words beyond `sent`, the key the caller put in its own representation. (The
 * fields other subgraphs add to Patient are nullable, so a refused one is null
 * inside an entity that echoes that key; the patient id holds the DoD ID.)
 */
function expectNothingOf(res: GraphQLResponse, r: Record, sent?: string): void {
  const text = JSON.stringify(res.data ?? null);
  const beyondEcho = sent ? text.replaceAll(`"id":${JSON.stringify(sent)}`, '"id":"(sent)"') : text;
  for (const secret of r.secrets) expect(beyondEcho).not.toContain(secret);
}

const codes = (res: GraphQLResponse) => [...new Set((res.errors ?? []).map((e) => e.extensions?.code))];

const ENTITIES = (selection: string) => `query($r: [_Any!]!) { _entities(representations: $r) { __typename ${selection} } }`;
const rep = (typename: string, id: string) => ({ __typename: typename, id });

/** At each subgraph, the patient's own fields through _entities. */
const PATIENT_FIELDS: { [subgraph: string]: string } = {
  identity: 'dodId name { given family } dateOfBirth affiliations { organization status } careTeams { id name }',
  scheduling: 'appointments(first: 50) { totalCount edges { node { id reason } } }',
  messaging: 'messageThreads(folder: INBOX, first: 50) { totalCount edges { node { id subject } } }',
  pharmacy: 'prescriptions { id directions }',
  'clinical-records': 'labResults(first: 50) { totalCount edges { node { id value } } }',
};
/** Fields of a patient each subgraph refuses with FORBIDDEN as a whole: the ones above, plus the rest of its Patient fields one by one. */
const MORE_PATIENT_FIELDS: [string, string][] = [
  ['scheduling', 'upcomingAppointments { id reason }'],
  ['messaging', 'unreadMessageCount'],
  ['clinical-records', 'visitNotes(first: 50) { edges { node { id text } } }'],
  ['clinical-records', 'conditions { name }'],
  ['clinical-records', 'allergies { substance }'],
  ['clinical-records', 'immunizations { vaccine }'],
  ['clinical-records', 'vitalSigns(first: 50) { edges { node { id } } }'],
];

describe.each([
  ['Morgan Diaz (on no care team)', 'jane', () => morgan, DEMO.morgan],
  ['Morgan Diaz (on no care team)', 'john', () => morgan, DEMO.morgan],
  ['Riley Chen (Team Green, not John’s)', 'john', () => riley, DEMO.riley],
])('%s asking for %s’s record', (_, who, token, viewerId) => {
  const subgraph = (name: string) => stack.subgraphs[name as keyof typeof stack.subgraphs];

  it.each(Object.keys(PATIENT_FIELDS).filter((name) => name !== 'identity'))('%s refuses the patient’s fields through _entities with FORBIDDEN', async (name) => {
    const r = records[who];
    const res = await gql(subgraph(name).graphqlUrl, ENTITIES(`... on Patient { id ${PATIENT_FIELDS[name]} }`), { r: [rep('Patient', r.patientId)] }, token());
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expectNothingOf(res, r, r.patientId);
  });

  // Identity answers a patient the caller may not see exactly as one that does not exist: null, no error.
  it('identity answers the patient through _entities as it answers an unknown id: null, with no error', async () => {
    const r = records[who];
    const selection = `... on Patient { id ${PATIENT_FIELDS.identity} }`;
    const hidden = await gql(subgraph('identity').graphqlUrl, ENTITIES(selection), { r: [rep('Patient', r.patientId)] }, token());
    const unknown = await gql(subgraph('identity').graphqlUrl, ENTITIES(selection), { r: [rep('Patient', 'pt-does-not-exist')] }, token());
    expect(hidden.errors).toBeUndefined();
    expect(hidden.data?._entities).toEqual([null]);
    expect(hidden).toEqual(unknown);
    expectNothingOf(hidden, r);
  });

  it.each(MORE_PATIENT_FIELDS)('%s refuses %s with FORBIDDEN', async (name, fields) => {
    const r = records[who];
    const res = await gql(subgraph(name).graphqlUrl, ENTITIES(`... on Patient { id ${fields} }`), { r: [rep('Patient', r.patientId)] }, token());
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expectNothingOf(res, r, r.patientId);
  });

  it('every record of the patient, asked for by id at the subgraph that owns it, looks missing', async () => {
    const r = records[who];
    const asks: [string, string, string, string[]][] = [
      ['scheduling', 'Appointment', '... on Appointment { id start reason patient { id } }', r.appointmentIds],
      ['messaging', 'MessageThread', '... on MessageThread { id subject messages { body } }', r.threadIds],
      ['pharmacy', 'Prescription', '... on Prescription { id directions }', r.prescriptionIds],
      ['pharmacy', 'PharmacyRequest', '... on PharmacyRequest { id note patient { id } }', r.requestIds],
      ['clinical-records', 'VisitNote', '... on VisitNote { id text }', r.noteIds],
    ];
    for (const [name, typename, selection, ids] of asks) {
      const res = await gql(subgraph(name).graphqlUrl, ENTITIES(selection), { r: ids.map((id) => rep(typename, id)) }, token());
      expect({ name, typename, codes: codes(res) }).toEqual({ name, typename, codes: ['NOT_FOUND'] });
      expect(res.errors).toHaveLength(ids.length);
      expect(res.data?._entities ?? ids.map(() => null)).toEqual(ids.map(() => null));
      expectNothingOf(res, r);
    }
    // Clinical-records does not own appointments (scheduling decides who sees them): it answers for any id, without the note.
    const notes = await gql(subgraph('clinical-records').graphqlUrl, ENTITIES('... on Appointment { id visitNote { id text } }'), { r: r.appointmentIds.map((id) => rep('Appointment', id)) }, token());
    expect(notes.errors).toBeUndefined();
    expect(notes.data._entities).toEqual(r.appointmentIds.map((id) => ({ __typename: 'Appointment', id, visitNote: null })));
    expect(JSON.stringify(notes.data)).not.toMatch(new RegExp(r.noteIds.join('|')));
  });

  it('through the gateway: the patient’s threads look missing, and no list of the viewer holds any of the record', async () => {
    const r = records[who];
    for (const id of r.threadIds) {
      const res = await stack.query(operation('MessageThread'), { id }, token());
      expect(codes(res)).toEqual(['NOT_FOUND']);
      expectNothingOf(res, r);
    }
    // The longest range a schedule answers (31 days).
    const from = new Date(Date.now() - 15 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 15 * 86_400_000).toISOString();
    const own = await stack.query(
      `query($from: DateTime!, $to: DateTime!) { me { practitioner { id careTeams { id threads(first: 50) { edges { node { id subject patient { id } } } } }
         schedule(from: $from, to: $to) { id patient { id } } } }
         pendingPharmacyRequests { id patient { id } prescription { id directions } } }`,
      { from, to },
      token(),
    );
    expect(own.errors).toBeUndefined();
    expect(own.data.me.practitioner.id).toBe(viewerId);
    expectNothingOf(own, r);
    expect(JSON.stringify(own.data)).not.toContain(r.patientId);
  });
});

describe('the same questions from practitioners who do treat the patient (so the refusals above are the care-team check’s)', () => {
  it('Riley (Team Green) sees Jane’s record at every subgraph', async () => {
    for (const [name, fields] of Object.entries(PATIENT_FIELDS)) {
      const res = await gql(stack.subgraphs[name as keyof typeof stack.subgraphs].graphqlUrl, ENTITIES(`... on Patient { id ${fields} }`), { r: [rep('Patient', DEMO.jane)] }, riley);
      expect({ name, errors: res.errors }).toEqual({ name, errors: undefined });
      expect(res.data._entities[0].id).toBe(DEMO.jane);
    }
    const notes = await gql(stack.subgraphs['clinical-records'].graphqlUrl, ENTITIES('... on VisitNote { id text }'), { r: records.jane.noteIds.map((id) => rep('VisitNote', id)) }, riley);
    expect(notes.data._entities.map((n: any) => n.id)).toEqual(records.jane.noteIds);
    const ofAppointments = await gql(stack.subgraphs['clinical-records'].graphqlUrl, ENTITIES('... on Appointment { id visitNote { id } }'), { r: records.jane.appointmentIds.map((id) => rep('Appointment', id)) }, riley);
    expect(ofAppointments.data._entities.filter((a: any) => a.visitNote).length).toBeGreaterThan(0);
    const pending = await stack.query('{ pendingPharmacyRequests { id patient { id } } }', {}, riley);
    expect(pending.data.pendingPharmacyRequests.map((p: any) => p.patient.id)).toContain(DEMO.jane);
    expect(pending.data.pendingPharmacyRequests.map((p: any) => p.patient.id)).not.toContain(DEMO.john);
  });

  it('Alex (Team Blue) sees John’s thread through the gateway, and his requests among the pending ones', async () => {
    const thread = await stack.query(operation('MessageThread'), { id: records.john.threadIds[0] }, alex);
    expect(thread.errors).toBeUndefined();
    expect(thread.data.messageThread.id).toBe(records.john.threadIds[0]);
    const pending = await stack.query('{ pendingPharmacyRequests { id patient { id } } }', {}, alex);
    expect(pending.data.pendingPharmacyRequests.map((p: any) => p.id)).toEqual(expect.arrayContaining(records.john.requestIds));
  });
});
