import type { Bundle, FhirResource, Observation } from 'fhir/r4';
import { DEMO } from '@portal/demo';
import { mintToken, testSigningKey } from '@portal/kit/testing';
import { bundleProblems } from '@portal/gateway/testing';
import { seedScalePatient as identityScale } from '@portal/identity';
import { seedScalePatient as schedulingScale } from '@portal/scheduling';
import { seedScalePatient as messagingScale } from '@portal/messaging';
import { seedScalePatient as pharmacyScale } from '@portal/pharmacy';
import { seedScalePatient as clinicalScale } from '@portal/clinical-records';
import { alexToken, samToken, startTestStack, type TestStack } from './harness';

let stack: TestStack;
let jane: string;
let john: string;

beforeAll(async () => {
  stack = await startTestStack();
  jane = await stack.signIn('jane.doe', 'Demo-Password-1');
  john = await stack.signIn('john.roe', 'Demo-Password-2');
});
afterAll(() => stack?.stop());

async function download(token?: string, path = '/fhir/Patient/$everything') {
  const res = await fetch(`${stack.gatewayUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text, body: JSON.parse(text) };
}

/** What the graph itself says the patient has, list by list. */
const COUNTS = `query {
  me { patient {
    id
    appointments(first: 100) { totalCount }
    inbox: messageThreads(folder: INBOX, first: 100) { totalCount edges { node { id messages { id } } } }
    archive: messageThreads(folder: ARCHIVE, first: 100) { totalCount edges { node { id messages { id } } } }
    prescriptions { id fills { id } }
    labResults(first: 100) { totalCount edges { node { id collectedAt source } } }
    visitNotes(first: 100) { totalCount }
    conditions { id } allergies { id } immunizations { id }
    vitalSigns(first: 100) { totalCount }
  } }
}`;

async function expectedCounts(token: string): Promise<Record<string, number>> {
  const res = await stack.query(COUNTS, {}, token);
  expect(res.errors).toBeUndefined();
  const p = res.data.me.patient;
  const messages = [...p.inbox.edges, ...p.archive.edges].reduce((n: number, e: any) => n + e.node.messages.length, 0);
  const collections = new Set(p.labResults.edges.map((e: any) => `${e.node.collectedAt}|${e.node.source}`));
  return {
    Patient: 1,
    Appointment: p.appointments.totalCount,
    Communication: messages,
    MedicationRequest: p.prescriptions.length,
    MedicationDispense: p.prescriptions.reduce((n: number, rx: any) => n + rx.fills.length, 0),
    DiagnosticReport: collections.size,
    Observation: p.labResults.totalCount + p.vitalSigns.totalCount,
    DocumentReference: p.visitNotes.totalCount,
    Condition: p.conditions.length,
    AllergyIntolerance: p.allergies.length,
    Immunization: p.immunizations.length,
  };
}

const resources = (b: Bundle<FhirResource>) => (b.entry ?? []).map((e) => e.resource!);
const ofType = <T extends FhirResource>(b: Bundle<FhirResource>, type: T['resourceType']) => resources(b).filter((r): r is T => r.resourceType === type);
const countByType = (b: Bundle<FhirResource>) => {
  const counts: Record<string, number> = {};
  for (const r of resources(b)) counts[r.resourceType] = (counts[r.resourceType] ?? 0) + 1;
  return counts;
};
const tagOf = (r: FhirResource) => r.meta?.tag?.find((t) => t.system === 'urn:patient-portal:fhir:record-source')?.code;

describe('GET /fhir/Patient/$everything', () => {
  let janeBundle: Bundle<FhirResource>;
  let johnBundle: Bundle<FhirResource>;
  /** When the downloads were asked for and answered. */
  let asked: number;
  let answered: number;

  beforeAll(async () => {
    asked = Date.now();
    const [a, b] = await Promise.all([download(jane), download(john)]);
    answered = Date.now();
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.contentType).toBe('application/fhir+json; charset=utf-8');
    janeBundle = a.body;
    johnBundle = b.body;
  });

  it.each(['jane', 'john'])('gives %s a sound FHIR R4 collection Bundle', (who) => {
    const bundle = who === 'jane' ? janeBundle : johnBundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(Date.parse(bundle.timestamp!)).toBeGreaterThanOrEqual(asked);
    expect(Date.parse(bundle.timestamp!)).toBeLessThanOrEqual(answered);
    for (const r of resources(bundle)) {
      expect(typeof r.resourceType).toBe('string');
      expect(r.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    }
    // Every reference resolves to an entry, every coding has a system, every required element is there.
    expect(bundleProblems(bundle)).toEqual([]);
    for (const e of bundle.entry ?? []) expect(e.fullUrl).toBe(`${stack.gatewayUrl}/fhir/${e.resource!.resourceType}/${e.resource!.id}`);
  });

  it.each(['jane', 'john'])('holds for %s exactly what the graph returns, list by list', async (who) => {
    const bundle = who === 'jane' ? janeBundle : johnBundle;
    const expected = await expectedCounts(who === 'jane' ? jane : john);
    const counts = countByType(bundle);
    for (const [type, n] of Object.entries(expected)) expect([type, counts[type] ?? 0]).toEqual([type, n]);
    for (const type of ['Appointment', 'Communication', 'MedicationRequest', 'Observation', 'DiagnosticReport', 'DocumentReference', 'Condition', 'AllergyIntolerance', 'Immunization']) {
      expect([type, counts[type] ?? 0]).not.toEqual([type, 0]);
    }
    // The people, clinics and care teams the records point at, once each.
    expect(counts.Practitioner).toBeGreaterThanOrEqual(1);
    expect(counts.Location).toBeGreaterThanOrEqual(1);
    expect(counts.CareTeam).toBeGreaterThanOrEqual(1);
  });

  it('gives each fill as a MedicationDispense of its MedicationRequest in the same bundle', () => {
    const dispenses = ofType<any>(janeBundle, 'MedicationDispense');
    expect(dispenses.length).toBeGreaterThan(0);
    const requests = new Map(ofType<any>(janeBundle, 'MedicationRequest').map((r) => [`MedicationRequest/${r.id}`, r]));
    for (const d of dispenses) {
      expect(d).toMatchObject({ status: 'completed', subject: { reference: `Patient/${DEMO.jane}` }, quantity: { value: expect.any(Number) }, daysSupply: { unit: 'days', code: 'd' } });
      expect(d.whenHandedOver).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const rx = requests.get(d.authorizingPrescription[0].reference);
      expect(rx).toBeDefined();
      expect(d.medicationCodeableConcept).toEqual(rx.medicationCodeableConcept);
    }
  });

  it('describes Jane as identity knows her, and holds nothing of John', () => {
    const [patient] = ofType<any>(janeBundle, 'Patient');
    expect(patient).toMatchObject({
      id: DEMO.jane,
      identifier: [{ value: '1000000001' }],
      name: [{ family: 'Doe', given: ['Jane'] }],
      birthDate: '1990-04-12',
    });
    const text = JSON.stringify(janeBundle);
    expect(text).not.toContain(DEMO.john);
    expect(text).not.toContain('1000000002');
    const patients = new Set<string>();
    JSON.stringify(janeBundle, (k, v) => (k === 'reference' && String(v).startsWith('Patient/') && patients.add(v), v));
    expect([...patients]).toEqual([`Patient/${DEMO.jane}`]);
  });

  it('codes results in LOINC, conditions in ICD-10-CM, medicines in RxNorm, vaccines in CVX, allergies in SNOMED CT', () => {
    const systemsOf = (type: FhirResource['resourceType'], pick: (r: any) => any) => new Set(ofType<any>(janeBundle, type).map((r) => pick(r)?.coding?.[0]?.system));
    const labs = ofType<Observation>(janeBundle, 'Observation').filter((o) => o.category?.[0].coding?.[0].code === 'laboratory');
    expect(new Set(labs.map((o) => o.code.coding?.[0].system))).toEqual(new Set(['http://loinc.org']));
    const a1c = labs.find((o) => o.id === 'lr-jane-a1c-3')!;
    expect(a1c).toMatchObject({
      status: 'final',
      code: { coding: [{ code: '4548-4' }] },
      valueQuantity: { value: 6.9, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
      interpretation: [{ coding: [{ code: 'H' }] }],
      referenceRange: [{ low: { value: 4 }, high: { value: 5.6 } }],
    });
    // Never a result that is not released.
    expect(JSON.stringify(janeBundle)).not.toContain('lr-jane-glucose-prelim');
    expect(JSON.stringify(janeBundle)).not.toContain('vn-jane-draft');
    const vitals = ofType<Observation>(janeBundle, 'Observation').filter((o) => o.category?.[0].coding?.[0].code === 'vital-signs');
    expect(vitals.find((o) => o.id === 'vt-jane-bp-1')?.component?.map((c) => c.valueQuantity?.value)).toEqual([128, 82]);
    expect(systemsOf('Condition', (r) => r.code)).toEqual(new Set(['http://hl7.org/fhir/sid/icd-10-cm']));
    expect(systemsOf('MedicationRequest', (r) => r.medicationCodeableConcept)).toEqual(new Set(['http://www.nlm.nih.gov/research/umls/rxnorm']));
    expect(systemsOf('Immunization', (r) => r.vaccineCode)).toEqual(new Set(['http://hl7.org/fhir/sid/cvx']));
    expect(systemsOf('AllergyIntolerance', (r) => r.code)).toEqual(new Set(['http://snomed.info/sct']));
    // Reports group results collected together.
    const report = ofType<any>(janeBundle, 'DiagnosticReport').find((r) => r.result.some((x: any) => x.reference === 'Observation/lr-jane-a1c-3'));
    expect(report.result.map((x: any) => x.reference).sort()).toEqual(['Observation/lr-jane-a1c-3', 'Observation/lr-jane-ldl']);
  });

  it('gives each visit note as plain text, its author and its appointment', () => {
    const note = ofType<any>(janeBundle, 'DocumentReference').find((d) => d.id === 'vn-jane-past-1');
    expect(note).toMatchObject({
      status: 'current',
      docStatus: 'final',
      author: [{ reference: `Practitioner/${DEMO.alex}` }],
      context: { related: [{ reference: 'Appointment/ap-jane-past-1' }] },
      content: [{ attachment: { contentType: 'text/plain' } }],
    });
    expect(Buffer.from(note.content[0].attachment.data, 'base64').toString('utf8')).toContain('Blood pressure 128/82');
    const practitioner = ofType<any>(janeBundle, 'Practitioner').find((p) => p.id === DEMO.alex);
    expect(practitioner.name).toEqual([{ family: 'Kim', given: ['Alex'] }]);
  });

  it('holds John’s records from his DoD years (TRICARE Online, 2010) and his VA years (2021)', () => {
    const dated = resources(johnBundle).map((r: any) => ({
      id: r.id,
      type: r.resourceType,
      year: String(r.effectiveDateTime ?? r.date ?? r.start ?? r.sent ?? r.authoredOn ?? r.occurrenceDateTime ?? '').slice(0, 4),
      source: tagOf(r),
    }));
    const legacy2010 = dated.filter((r) => r.year === '2010' && r.source === 'TRICARE_ONLINE');
    expect(new Set(legacy2010.map((r) => r.type))).toEqual(new Set(['Observation', 'DiagnosticReport', 'DocumentReference']));
    expect(legacy2010.map((r) => r.id)).toEqual(expect.arrayContaining(['lr-john-ldl-2010', 'vn-john-2010']));
    const current2021 = dated.filter((r) => r.year === '2021');
    expect(current2021.map((r) => r.id)).toEqual(expect.arrayContaining(['lr-john-ldl-2021', 'vn-john-2021', 'ap-john-2021', 'im-john-flu-2021']));
    const sourced2021 = current2021.filter((r) => r.source);
    expect(sourced2021.length).toBeGreaterThan(0);
    expect(sourced2021.every((r) => r.source === 'MHS_GENESIS')).toBe(true);
    const note2010 = ofType<any>(johnBundle, 'DocumentReference').find((d) => d.id === 'vn-john-2010');
    expect(note2010.context.related).toEqual([{ reference: 'Appointment/ap-john-2010' }]);
    const [patient] = ofType<any>(johnBundle, 'Patient');
    expect(patient.extension.map((e: any) => e.extension[0].valueCode)).toEqual(['DOD', 'VA']);
  });

  it('also answers the percent-encoded operation name', async () => {
    const res = await download(jane, '/fhir/Patient/%24everything');
    expect(res.status).toBe(200);
    expect(res.body.entry.length).toBe(janeBundle.entry!.length);
  });

  it('audits the download in each subgraph as reads by Jane', async () => {
    const before = await stack.subgraphs['clinical-records'].database.dataSource.query(`SELECT COUNT(*) AS n FROM audit_event WHERE patient_id = '${DEMO.jane}'`);
    await download(jane);
    for (const name of ['clinical-records', 'pharmacy', 'scheduling'] as const) {
      const rows = await stack.subgraphs[name].database.dataSource.query(
        `SELECT actor_person_id, outcome FROM audit_event WHERE patient_id = '${DEMO.jane}' ORDER BY occurred_at DESC LIMIT 1`,
      );
      expect(rows).toEqual([{ actor_person_id: DEMO.jane, outcome: 'ALLOWED' }]);
    }
    const after = await stack.subgraphs['clinical-records'].database.dataSource.query(`SELECT COUNT(*) AS n FROM audit_event WHERE patient_id = '${DEMO.jane}'`);
    expect(Number(after[0].n)).toBeGreaterThan(Number(before[0].n));
  });
});

describe('a record longer than one page of the graph', () => {
  it('pages through every list: 150 results, notes, vitals and appointments all arrive', async () => {
    const patientId = 'pt-fhir-scale-150';
    const count = 150;
    await identityScale(stack.subgraphs.identity.database.dataSource, { patientId, count, username: 'fhir.scale', password: 'Scale-Password-1' });
    await schedulingScale(stack.subgraphs.scheduling.database.dataSource, { patientId, count });
    await messagingScale(stack.subgraphs.messaging.database.dataSource, { patientId, count });
    await pharmacyScale(stack.subgraphs.pharmacy.database.dataSource, { patientId, count });
    await clinicalScale(stack.subgraphs['clinical-records'].database.dataSource, { patientId, count });
    const token = await stack.signIn('fhir.scale', 'Scale-Password-1');
    const res = await download(token);
    expect(res.status).toBe(200);
    const bundle: Bundle<FhirResource> = res.body;
    expect(bundleProblems(bundle)).toEqual([]);
    const graph = (await stack.query(COUNTS, {}, token)).data.me.patient;
    const counts = countByType(bundle);
    expect(graph.labResults.totalCount).toBe(count);
    expect(counts.Observation).toBe(graph.labResults.totalCount + graph.vitalSigns.totalCount);
    expect(counts.DocumentReference).toBe(graph.visitNotes.totalCount);
    expect(counts.Appointment).toBe(graph.appointments.totalCount);
    expect(counts.MedicationRequest).toBe(graph.prescriptions.length);
    expect(counts.Condition).toBe(count);
    const threads = new Set(ofType<any>(bundle, 'Communication').map((c) => c.topic.text));
    expect(threads.size).toBeGreaterThan(0);
  });
});

describe('GET /fhir/metadata', () => {
  it('answers a CapabilityStatement without a token, naming the download and how to sign in', async () => {
    const res = await fetch(`${stack.gatewayUrl}/fhir/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const cs: any = await res.json();
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', implementation: { url: `${stack.gatewayUrl}/fhir` } });
    expect(cs.rest[0].resource.find((r: any) => r.type === 'Patient').operation[0].name).toBe('everything');
    expect(cs.rest[0].security.description).toMatch(/Bearer/);
    // It holds no one's record, with or without a token.
    const withToken = await (await fetch(`${stack.gatewayUrl}/fhir/metadata`, { headers: { authorization: `Bearer ${jane}` } })).text();
    expect(withToken).not.toMatch(/Jane|Doe|pt-/);
  });
});

describe('refusals', () => {
  const INTERNAL = /\bat .*\(|\.ts:\d+|node_modules|127\.0\.0\.1|localhost|\/graphql|ECONN|stack/i;

  const expectOutcome = (res: Awaited<ReturnType<typeof download>>, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.contentType).toBe('application/fhir+json; charset=utf-8');
    expect(res.body).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: expect.any(String) }] });
    expect(res.text).not.toMatch(INTERNAL);
  };

  it('refuses a download without a token, 401', async () => {
    expectOutcome(await download(), 401, 'login');
  });

  it('refuses a forged, a tampered and an expired token, 401', async () => {
    const forged = await mintToken(await testSigningKey(), { personId: DEMO.jane });
    const [h, payload, sig] = john.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...claims, pid: DEMO.jane })).toString('base64url'), sig].join('.');
    // Expired, though its session is live: only the expiry refuses it.
    const session = await stack.openSession('ac-jane-doe');
    const now = Math.floor(Date.now() / 1000);
    const expired = await stack.signClaims({ sub: 'ac-jane-doe', pid: DEMO.jane, role: 'PATIENT', amr: 'DS_LOGON', sid: session.id, iat: now - 20 * 60, exp: now - 60 });
    for (const token of [forged, tampered, expired, 'not-a-token']) expectOutcome(await download(token), 401, 'login');
  });

  it('refuses a practitioner and a pharmacist, 403', async () => {
    expectOutcome(await download(await alexToken(stack)), 403, 'forbidden');
    expectOutcome(await download(await samToken(stack)), 403, 'forbidden');
  });

  it('refuses the token of a session that has ended, 401', async () => {
    const token = await stack.signIn('jane.doe', 'Demo-Password-1');
    expect((await download(token)).status).toBe(200);
    const out = await stack.query('mutation { signOut }', {}, token);
    expect(out.errors).toBeUndefined();
    expectOutcome(await download(token), 401, 'login');
  });

  it('answers other methods and paths with 404, not the record', async () => {
    const post = await fetch(`${stack.gatewayUrl}/fhir/Patient/$everything`, { method: 'POST', headers: { authorization: `Bearer ${jane}` } });
    expect(post.status).toBe(404);
    const other = await fetch(`${stack.gatewayUrl}/fhir/Patient/${DEMO.jane}/$everything`, { headers: { authorization: `Bearer ${jane}` } });
    expect(other.status).toBe(404);
    expect(await other.text()).not.toContain('Jane');
  });
});
