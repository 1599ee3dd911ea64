/**
 * Prescriptions through the gateway: the contract's pharmacy operations, as
 * the demo cast sends them, with messaging running (the outage case is in
 * pharmacy-outbox.e2e.test.ts).
 */
import { DEMO } from '@portal/demo';
import type { GraphQLResponse } from '@portal/kit/testing';
import { pharmacyFactory } from '@portal/pharmacy/testing';
import {
  DecideRenewalDocument,
  MessageThreadsDocument,
  PendingPharmacyRequestsDocument,
  PrescriptionsDocument,
  RequestRefillDocument,
  RequestRenewalDocument,
  type PrescriptionStatus,
} from './generated/operations';
import { alexToken, dataOf, operation, samToken, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let john: string;
let alex: string;
let sam: string;

beforeAll(async () => {
  stack = await startTestStack();
  [jane, john, alex, sam] = await Promise.all([
    stack.signIn('jane.doe', 'Demo-Password-1'),
    stack.signIn('john.roe', 'Demo-Password-2'),
    alexToken(stack),
    samToken(stack),
  ]);
});
afterAll(async () => {
  // Let the worker finish telling patients first: a post in flight while messaging closes fails noisily.
  for (const deadline = Date.now() + 20_000; stack && Date.now() < deadline; ) {
    const [{ n }] = await pharmacyDb().query(`SELECT COUNT(*) AS "n" FROM pharmacy_outbox WHERE delivered_at IS NULL`);
    if (Number(n) === 0) break;
    await sleep(100);
  }
  await stack?.stop();
});

const codes = (res: GraphQLResponse) => res.errors?.map((e) => e.extensions?.code);
const pharmacyDb = () => stack.subgraphs.pharmacy.database.dataSource;
const count = async (table: string, where: string) => Number((await pharmacyDb().query(`SELECT COUNT(*) AS "n" FROM ${table} WHERE ${where}`))[0].n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const prescriptionsOf = async (token: string, status?: PrescriptionStatus) =>
  dataOf(await stack.query(PrescriptionsDocument, status ? { status } : {}, token)).me!.patient!.prescriptions!;

describe('prescriptions through the gateway', () => {
  it('shows Jane her active prescriptions with the one action available, and her prescriber from identity', async () => {
    const active = await prescriptionsOf(jane, 'ACTIVE');
    expect(active.map((p) => [p.id, p.status, p.refillsRemaining, p.refillable, p.renewable, p.prescriber, p.pendingRequest, p.renewedFrom])).toEqual([
      ['rx-jane-lisinopril', 'ACTIVE', 3, true, false, { id: DEMO.alex, name: { family: 'Kim' } }, null, null],
      ['rx-jane-metformin', 'ACTIVE', 0, false, true, { id: DEMO.alex, name: { family: 'Kim' } }, null, null],
    ]);
    expect(active[0].medication).toEqual({ rxnormCode: '314076', name: 'Lisinopril', strength: '10 mg', form: 'tablet' });
  });

  it('adds Medication.education from clinical-records', async () => {
    const res = await stack.query(`{ me { patient { prescriptions(status: ACTIVE) { id medication { rxnormCode name education { id title } } } } } }`, {}, jane);
    expect(res.errors).toBeUndefined();
    expect(res.data.me.patient.prescriptions.map((p: any) => [p.medication.name, p.medication.education])).toEqual([
      ['Lisinopril', [{ id: 'ht-lisinopril', title: 'Lisinopril and blood pressure' }]],
      ['Metformin', [{ id: 'ht-metformin', title: 'Metformin: what to know' }]],
    ]);
  });
});

describe('refill, renewal, decision and the patient told', () => {
  it('round trip: Jane asks, Sam sees the queue, Alex approves, Jane sees the new prescription and a message', async () => {
    const refill = await stack.query(RequestRefillDocument, { prescriptionId: 'rx-jane-lisinopril', idempotencyKey: 'e2e-refill-1' }, jane);
    const refillRequest = dataOf(refill).requestRefill;
    expect(refillRequest).toEqual({
      id: expect.any(String), kind: 'REFILL', status: 'PENDING', requestedAt: expect.any(String), prescription: { id: 'rx-jane-lisinopril', refillable: false },
    });
    expect(await stack.query(RequestRefillDocument, { prescriptionId: 'rx-jane-lisinopril', idempotencyKey: 'e2e-refill-1' }, jane)).toEqual(refill);

    const renewal = dataOf(await stack.query(RequestRenewalDocument, { prescriptionId: 'rx-jane-metformin', note: 'Nearly out of tablets.' }, jane));
    expect(renewal.requestRenewal).toMatchObject({ kind: 'RENEWAL', status: 'PENDING', prescription: { id: 'rx-jane-metformin', renewable: false } });
    const renewalId = renewal.requestRenewal.id;

    const list = dataOf(await stack.query(PendingPharmacyRequestsDocument, {}, sam)).pendingPharmacyRequests;
    // Oldest first: John's seeded renewal (two days old) before Jane's new requests.
    expect(list.map((r) => r.id)).toEqual(['rq-john-atorvastatin-renewal', refillRequest.id, renewalId]);
    expect(list[2]).toEqual({
      id: renewalId, kind: 'RENEWAL', status: 'PENDING', requestedAt: expect.any(String), note: 'Nearly out of tablets.',
      patient: { id: DEMO.jane, name: { family: 'Doe' } }, prescription: { id: 'rx-jane-metformin', medication: { name: 'Metformin' } },
    });
    const renewalsOnly = dataOf(await stack.query(PendingPharmacyRequestsDocument, { kind: 'RENEWAL' }, alex));
    expect(renewalsOnly.pendingPharmacyRequests.map((r) => r.id)).toEqual(['rq-john-atorvastatin-renewal', renewalId]);

    const decided = dataOf(await stack.query(DecideRenewalDocument, { requestId: renewalId, approve: true, refills: 3, daysSupply: 90, note: 'Renewed for a year.' }, alex));
    const newRx = decided.decideRenewal.newPrescription;
    expect(decided.decideRenewal).toEqual({
      id: renewalId, status: 'APPROVED', decidedAt: expect.any(String), decisionNote: 'Renewed for a year.',
      newPrescription: { id: expect.any(String), status: 'ACTIVE', refillsRemaining: 3, expiresOn: expect.any(String), renewedFrom: { id: 'rx-jane-metformin' } },
    });

    const after = await prescriptionsOf(jane, 'ACTIVE');
    expect(after.find((p) => p.id === newRx?.id)).toMatchObject({ refillsRemaining: 3, daysSupply: 90, renewedFrom: { id: 'rx-jane-metformin' }, prescriber: { id: DEMO.alex } });
    expect(after.find((p) => p.id === 'rx-jane-metformin')).toMatchObject({ renewable: false, pendingRequest: null });

    // The patient is told, from her care team, shortly after the decision.
    let threads: { id: string }[] = [];
    // Polled up to a generous deadline (the worker is kicked at once, but a loaded machine may be slow).
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const inbox = dataOf(await stack.query(MessageThreadsDocument, { folder: 'INBOX', first: 20 }, jane)).me?.patient?.messageThreads;
      threads = (inbox?.edges ?? []).map((e) => e.node).filter((n) => n.subject === 'Your prescription renewal was approved');
      if (threads.length) break;
      await sleep(100);
    }
    expect(threads).toEqual([expect.objectContaining({ category: 'MEDICATION', unread: true, canReply: true, careTeam: { id: DEMO.careTeamBlue, name: 'Primary Care Team Blue' } })]);
    const thread = await stack.query(`query($id: ID!) { messageThread(id: $id) { messages { body senderName senderRole } } }`, { id: threads[0].id }, jane);
    expect(thread.data.messageThread.messages).toEqual([
      { body: expect.stringContaining('approved your request to renew your Metformin prescription'), senderName: 'Your care team', senderRole: 'SYSTEM' },
    ]);
    expect(thread.data.messageThread.messages[0].body).toContain('Note from your care team: Renewed for a year.');
  });

  it('answers bad input with clear codes and stores nothing half-written', async () => {
    const make = pharmacyFactory(pharmacyDb());
    const old = await make.prescription(DEMO.john, { refillsRemaining: 0 });
    const request = await make.request(old, 'RENEWAL');
    const before = { rx: await count('prescription', '1 = 1'), outbox: await count('pharmacy_outbox', '1 = 1') };

    // Another patient's prescription id looks exactly like a missing one.
    const theirs = await stack.query(RequestRefillDocument, { prescriptionId: 'rx-jane-lisinopril' }, john);
    const missing = await stack.query(RequestRefillDocument, { prescriptionId: 'rx-nothing' }, john);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.errors?.[0].message).toBe(missing.errors?.[0].message);
    expect(JSON.stringify(theirs)).not.toMatch(/Lisinopril/);

    // Patients calling staff operations.
    expect(codes(await stack.query(PendingPharmacyRequestsDocument, {}, jane))).toEqual(['FORBIDDEN']);
    expect(codes(await stack.query(DecideRenewalDocument, { requestId: request.id, approve: true }, john))).toEqual(['FORBIDDEN']);

    // Refills and days of supply out of range.
    for (const vars of [{ refills: 12 }, { refills: -1 }, { daysSupply: 0 }, { daysSupply: 400 }]) {
      const res = await stack.query(DecideRenewalDocument, { requestId: request.id, approve: true, ...vars }, alex);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    }
    expect({ rx: await count('prescription', '1 = 1'), outbox: await count('pharmacy_outbox', '1 = 1') }).toEqual(before);

    // Only a practitioner decides: a pharmacist is FORBIDDEN.
    expect(codes(await stack.query(DecideRenewalDocument, { requestId: request.id, approve: true }, sam))).toEqual(['FORBIDDEN']);

    // A second decision.
    expect((await stack.query(DecideRenewalDocument, { requestId: request.id, approve: false, note: 'Book a visit first.' }, alex)).errors).toBeUndefined();
    const second = await stack.query(DecideRenewalDocument, { requestId: request.id, approve: true }, alex);
    expect(codes(second)).toEqual(['CONFLICT']);
    expect(await count('prescription', `renewed_from_id = '${old.id}'`)).toBe(0);
    expect(await count('pharmacy_outbox', `request_id = '${request.id}'`)).toBe(1);

    // Refusals by the rules say why.
    const noRefills = await stack.query(RequestRefillDocument, { prescriptionId: 'rx-john-atorvastatin' }, john);
    expect(codes(noRefills)).toEqual(['REFILL_NOT_ALLOWED']);
    expect(noRefills.errors?.[0].message).toMatch(/no refills left/);
    const hasRefills = await stack.query(RequestRenewalDocument, { prescriptionId: 'rx-john-albuterol-2' }, john);
    expect(codes(hasRefills)).toEqual(['RENEWAL_NOT_ALLOWED']);
    expect(hasRefills.errors?.[0].message).toMatch(/Request a refill instead/);
  });

  it('stores one refill request of ten sent at the same moment', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => stack.query(RequestRefillDocument, { prescriptionId: 'rx-john-albuterol-2' }, john)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap((r) => codes(r) ?? [])).toEqual(Array(9).fill('REFILL_NOT_ALLOWED'));
    expect(await count('pharmacy_request', `prescription_id = 'rx-john-albuterol-2' AND kind = 'REFILL'`)).toBe(1);
  });

  it('decides a request once when Alex decides it twice at the same moment (Sam, a pharmacist, may not)', async () => {
    const decisions = await Promise.all([
      stack.query(DecideRenewalDocument, { requestId: 'rq-john-atorvastatin-renewal', approve: true, refills: 2 }, sam),
      stack.query(DecideRenewalDocument, { requestId: 'rq-john-atorvastatin-renewal', approve: false, note: 'Needs a lipid panel first.' }, alex),
      stack.query(DecideRenewalDocument, { requestId: 'rq-john-atorvastatin-renewal', approve: true, refills: 5 }, alex),
      stack.query(DecideRenewalDocument, { requestId: 'rq-john-atorvastatin-renewal', approve: false, note: 'No.' }, sam),
    ]);
    const winners = decisions.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    expect(decisions.flatMap((r) => codes(r) ?? [])).toEqual(['FORBIDDEN', 'CONFLICT', 'FORBIDDEN']);
    const newRx = await count('prescription', `renewed_from_id = 'rx-john-atorvastatin'`);
    expect(newRx).toBe(winners[0].data?.decideRenewal.status === 'APPROVED' ? 1 : 0);
    expect(newRx).toBeLessThanOrEqual(1);
    expect(await count('pharmacy_outbox', `request_id = 'rq-john-atorvastatin-renewal'`)).toBe(1);
  });
});

describe('refills filled and denied through the gateway', () => {
  /** Jane's inbox threads with this subject, polled up to a generous deadline (delivery is asynchronous). */
  const threadsAbout = async (subject: string, n: number) => {
    let threads: any[] = [];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const inbox = await stack.query(operation('MessageThreads'), { folder: 'INBOX', first: 50 }, jane);
      threads = inbox.data.me.patient.messageThreads.edges.map((e: any) => e.node).filter((t: any) => t.subject === subject);
      if (threads.length >= n) break;
      await sleep(100);
    }
    return threads;
  };
  const bodyOf = async (threadId: string) =>
    (await stack.query(`query($id: ID!) { messageThread(id: $id) { messages { body senderName senderRole } } }`, { id: threadId }, jane)).data.messageThread.messages;

  it('Sam fills one refill and denies another with a reason; Jane is told of each by a secure message from her care team', async () => {
    const make = pharmacyFactory(pharmacyDb());
    const first = await make.prescription(DEMO.jane, { refillsRemaining: 2 });
    const second = await make.prescription(DEMO.jane, { refillsRemaining: 2 });
    const asked = await Promise.all([first, second].map((rx) => stack.query(operation('RequestRefill'), { prescriptionId: rx.id }, jane)));
    const [fillId, denyId] = asked.map((r) => r.data.requestRefill.id);

    // Only a pharmacist denies: Alex treats Jane and still may not; Jane may not either.
    expect(codes(await stack.query(operation('DenyRefill'), { requestId: denyId, reason: 'No.' }, alex))).toEqual(['FORBIDDEN']);
    expect(codes(await stack.query(operation('DenyRefill'), { requestId: denyId, reason: 'No.' }, jane))).toEqual(['FORBIDDEN']);
    expect(codes(await stack.query(operation('DenyRefill'), { requestId: denyId, reason: ' ' }, sam))).toEqual(['BAD_USER_INPUT']);

    const filled = await stack.query(operation('CompleteRefill'), { requestId: fillId }, sam);
    expect(filled.errors).toBeUndefined();
    expect(filled.data.completeRefill).toMatchObject({ id: fillId, status: 'COMPLETED', prescription: { id: first.id, refillsRemaining: 1 } });
    const denied = await stack.query(operation('DenyRefill'), { requestId: denyId, reason: 'Your insurance needs a new prior authorization.' }, sam);
    expect(denied.errors).toBeUndefined();
    expect(denied.data.denyRefill).toEqual({ id: denyId, status: 'DENIED', decidedAt: expect.any(String), decisionNote: 'Your insurance needs a new prior authorization.' });
    // Decided is decided: filling the denied one is refused (CONFLICT; NOT_FOUND once Sam has no case of Jane's left), and nothing was filled.
    expect(['CONFLICT', 'NOT_FOUND']).toContain(codes(await stack.query(operation('CompleteRefill'), { requestId: denyId }, sam))?.[0]);
    expect(await count('fill', `prescription_id = '${second.id}'`)).toBe(0);

    const [filledThread] = await threadsAbout('Your prescription refill was filled', 1);
    const [deniedThread] = await threadsAbout('Your prescription refill was not filled', 1);
    for (const t of [filledThread, deniedThread]) {
      expect(t).toEqual(expect.objectContaining({ category: 'MEDICATION', unread: true, careTeam: { id: DEMO.careTeamBlue, name: 'Primary Care Team Blue' } }));
    }
    expect(await bodyOf(filledThread.id)).toEqual([
      { body: expect.stringContaining('The pharmacy filled your request to refill your Lisinopril prescription.'), senderName: 'Your care team', senderRole: 'SYSTEM' },
    ]);
    const [deniedMessage] = await bodyOf(deniedThread.id);
    expect(deniedMessage.body).toContain('Reason: Your insurance needs a new prior authorization.');
    // No more health data than a renewal's message: the medication's name, not its strength or directions.
    expect(deniedMessage.body + (await bodyOf(filledThread.id))[0].body).not.toMatch(/10 mg|tablet|Take /);
    // One message per decision, however often the worker ran.
    expect(await count('pharmacy_outbox', `request_id IN ('${fillId}', '${denyId}')`)).toBe(2);
  });
});
