import { sampleRecord } from './fixture';
import {
  metaOf,
  toAllergyIntolerance,
  toAppointment,
  PROXY_SENDER,
  toCommunications,
  toCondition,
  toDiagnosticReports,
  toDocumentReference,
  toImmunization,
  toLabObservation,
  toMedicationDispense,
  toMedicationRequest,
  toPatient,
  toVitalObservation,
} from './resources';

const record = sampleRecord();
const PT = record.patient.id;
const LEGACY_TAG = [{ system: 'urn:patient-portal:fhir:record-source', code: 'TRICARE_ONLINE', display: 'TRICARE Online (legacy)' }];
const none = () => false;

describe('Patient', () => {
  it('carries the DoD ID, name, birth date and each affiliation', () => {
    const p = toPatient(record.patient);
    expect(p).toMatchObject({
      resourceType: 'Patient',
      id: 'pt-1000000002',
      meta: { source: 'urn:patient-portal:identity' },
      identifier: [{ system: 'urn:patient-portal:fhir:dod-id', value: '1000000002', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MI' }] } }],
      name: [{ use: 'official', family: 'Roe', given: ['John'] }],
      birthDate: '1984-02-29',
    });
    expect(p.extension?.map((e) => e.extension?.map((x) => x.valueCode ?? x.valuePeriod))).toEqual([
      ['DOD', 'ACTIVE_DUTY', { start: '2004-06-01', end: '2012-05-31' }],
      ['VA', 'VETERAN', { start: '2012-06-01' }],
    ]);
  });
});

describe('lab results', () => {
  it('map to coded laboratory Observations with value, range, interpretation and dates', () => {
    const [ldl, covid, crp] = record.labResults.map((r) => toLabObservation(r, PT));
    expect(ldl).toEqual({
      resourceType: 'Observation',
      id: 'lr-john-ldl-2021',
      meta: { source: 'urn:patient-portal:clinical-records', tag: [{ system: 'urn:patient-portal:fhir:record-source', code: 'MHS_GENESIS', display: 'MHS GENESIS' }] },
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '13457-7', display: 'LDL cholesterol (calculated)' }], text: 'LDL cholesterol (calculated)' },
      subject: { reference: 'Patient/pt-1000000002' },
      effectiveDateTime: '2021-09-20T15:30:00.000Z',
      issued: '2021-09-21T16:00:00.000Z',
      valueQuantity: { value: 96, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
      interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N', display: 'Normal' }] }],
      referenceRange: [
        {
          low: { value: 0, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
          high: { value: 99, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
          text: '<100 mg/dL',
        },
      ],
    });
    expect(covid).toMatchObject({ status: 'corrected', valueString: 'Not detected', referenceRange: [{ text: 'Not detected' }] });
    expect(covid.valueQuantity).toBeUndefined();
    expect(covid.interpretation).toBeUndefined();
    expect(crp).toMatchObject({ meta: { tag: LEGACY_TAG }, valueQuantity: { value: 0.5, comparator: '<', unit: 'mg/L' } });
    expect(crp.referenceRange).toBeUndefined();
  });

  it('are grouped into one DiagnosticReport per collection, the strongest status winning', () => {
    const reports = toDiagnosticReports(record.labResults, PT);
    expect(reports.map((r) => [r.id, r.status, r.result?.map((x) => x.reference), r.code.coding?.[0].code])).toEqual([
      ['dr-lr-john-covid-2021', 'corrected', ['Observation/lr-john-ldl-2021', 'Observation/lr-john-covid-2021'], '11502-2'],
      ['dr-lr-john-crp-2010', 'final', ['Observation/lr-john-crp-2010'], '1988-5'],
    ]);
    expect(reports[0]).toMatchObject({
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
      effectiveDateTime: '2021-09-20T15:30:00.000Z',
      issued: '2021-09-21T20:00:00.000Z',
      subject: { reference: 'Patient/pt-1000000002' },
    });
    expect(reports[1].meta?.tag).toEqual(LEGACY_TAG);
  });
});

describe('vital signs', () => {
  it('are vital-signs Observations coded in LOINC, blood pressure as two components', () => {
    const [bp, hr, pain] = record.vitals.map((v) => toVitalObservation(v, PT));
    expect(bp.category?.[0].coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' });
    expect(bp.code.coding?.[0].code).toBe('85354-9');
    expect(bp.valueQuantity).toBeUndefined();
    expect(bp.component?.map((c) => [c.code.coding?.[0].code, c.valueQuantity])).toEqual([
      ['8480-6', { value: 122, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
      ['8462-4', { value: 78, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
    ]);
    expect(hr).toMatchObject({ status: 'final', code: { coding: [{ code: '8867-4' }] }, valueQuantity: { value: 64, code: '/min' }, effectiveDateTime: '2021-09-20T15:10:00.000Z' });
    // An unknown kind keeps a code with its system (the vital-signs panel) and says what it is in text.
    expect(pain.code).toEqual({ coding: [expect.objectContaining({ system: 'http://loinc.org', code: '85353-1' })], text: 'pain score' });
    expect(pain.valueQuantity).toEqual({ value: 3, unit: '{score}' });
  });

  it('keeps a blood pressure it cannot split as text', () => {
    const odd = toVitalObservation({ id: 'v', kind: 'BLOOD_PRESSURE', value: 'refused', unit: 'mmHg', recordedAt: '2020-01-01T00:00:00Z' }, PT);
    expect(odd.component).toBeUndefined();
    expect(odd.valueString).toBe('refused mmHg');
  });
});

describe('visit notes', () => {
  it('are DocumentReferences with the text as a base64 plain-text attachment, linked to their appointment', () => {
    const inBundle = (type: string, id: string) => type === 'Appointment' && id === 'ap-john-2021';
    const [current, legacy] = record.visitNotes.map((n) => toDocumentReference(n, PT, inBundle));
    expect(current).toMatchObject({
      resourceType: 'DocumentReference',
      status: 'current',
      docStatus: 'amended',
      type: { coding: [{ system: 'http://loinc.org', code: '11506-3' }] },
      subject: { reference: 'Patient/pt-1000000002' },
      author: [{ reference: 'Practitioner/pr-2000000001', display: 'Alex Kim' }],
      date: '2021-09-20T17:00:00.000Z',
      description: 'New patient visit (veteran)',
      context: { related: [{ reference: 'Appointment/ap-john-2021' }] },
    });
    const attachment = current.content[0].attachment;
    expect(attachment.contentType).toBe('text/plain');
    expect(Buffer.from(attachment.data!, 'base64').toString('utf8')).toBe('Asthma stable — lipids ordered.');
    // An appointment the record does not hold is not referenced.
    expect(legacy.context).toBeUndefined();
    expect(legacy).toMatchObject({ docStatus: 'final', type: { coding: [{ code: '34109-9' }] }, meta: { tag: LEGACY_TAG } });
  });
});

describe('health summary', () => {
  it('codes conditions in ICD-10-CM with their clinical status', () => {
    const [asthma, odd] = record.conditions.map((c) => toCondition(c, PT));
    expect(asthma).toMatchObject({
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'J45.909', display: 'Mild intermittent asthma, uncomplicated' }] },
      subject: { reference: 'Patient/pt-1000000002' },
      onsetDateTime: '2008-04-02',
    });
    expect(odd.clinicalStatus).toBeUndefined();
    expect(odd.onsetDateTime).toBeUndefined();
  });

  it('codes allergies in SNOMED CT when known, with reaction and severity', () => {
    const [sulfa, dust] = record.allergies.map((a) => toAllergyIntolerance(a, PT));
    expect(sulfa).toMatchObject({
      clinicalStatus: { coding: [{ code: 'active' }] },
      verificationStatus: { coding: [{ code: 'confirmed' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '763875007' }], text: 'Sulfonamide antibiotics' },
      patient: { reference: 'Patient/pt-1000000002' },
      reaction: [{ manifestation: [{ text: 'Rash' }], severity: 'mild' }],
    });
    expect(dust.code).toEqual({ text: 'House dust' });
    expect(dust.reaction).toBeUndefined();
  });

  it('codes immunizations in CVX when known', () => {
    const [flu, other] = record.immunizations.map((i) => toImmunization(i, PT));
    expect(flu).toMatchObject({
      status: 'completed',
      vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '141' }] },
      patient: { reference: 'Patient/pt-1000000002' },
      occurrenceDateTime: '2021-10-04',
    });
    expect(other.vaccineCode).toEqual({ text: 'Something unlisted' });
  });
});

describe('appointments, messages, prescriptions', () => {
  it('maps appointment status, type, participants and cancellation', () => {
    const [done, cancelled] = record.appointments.map((a) => toAppointment(a, PT));
    expect(done).toMatchObject({
      status: 'fulfilled',
      start: '2021-09-20T15:00:00.000Z',
      end: '2021-09-20T15:30:00.000Z',
      reasonCode: [{ text: 'New patient visit' }],
      appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'ROUTINE' }] },
      participant: [
        { actor: { reference: 'Patient/pt-1000000002' }, status: 'accepted' },
        { actor: { reference: 'Practitioner/pr-2000000001' }, status: 'accepted' },
        { actor: { reference: 'Location/cl-family-health' }, status: 'accepted' },
      ],
    });
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelationReason: { text: 'Cancelled' }, appointmentType: { coding: [{ code: 'FOLLOWUP' }] } });
  });

  it('makes one Communication per message, each answering the one before', () => {
    const [ask, answer] = toCommunications(record.threads[0], PT);
    expect(ask).toMatchObject({
      id: 'ms-1',
      status: 'completed',
      meta: { tag: LEGACY_TAG },
      topic: { text: 'Inhaler refill' },
      sent: '2010-04-01T12:00:00.000Z',
      sender: { reference: 'Patient/pt-1000000002' },
      recipient: [{ reference: 'CareTeam/ct-primary-blue', display: 'Primary Care Team Blue' }],
      payload: [{ contentString: 'Could I get a new inhaler?' }],
    });
    expect(ask.inResponseTo).toBeUndefined();
    expect(answer).toMatchObject({ sender: { display: 'Alex Kim' }, recipient: [{ reference: 'Patient/pt-1000000002' }], inResponseTo: [{ reference: 'Communication/ms-1' }] });
    expect(answer.sender?.reference).toBeUndefined();
  });

  it('says a message a proxy wrote in the patient’s name was written by their proxy, not by the patient', () => {
    const thread = record.threads[0];
    const [byProxy] = toCommunications({ ...thread, messages: [{ ...thread.messages[0], writtenByProxy: true }] }, PT);
    expect(byProxy.sender).toEqual({ display: PROXY_SENDER });
    expect(byProxy.recipient).toEqual([{ reference: 'CareTeam/ct-primary-blue', display: 'Primary Care Team Blue' }]);
  });

  it('maps prescriptions to MedicationRequests coded in RxNorm', () => {
    const inBundle = (type: string, id: string) => type === 'MedicationRequest' && ['rx-old', 'rx-new', 'rx-stopped'].includes(id);
    const [old, renewed, stopped] = record.prescriptions.map((p) => toMedicationRequest(p, PT, inBundle));
    expect(renewed).toMatchObject({
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '745679', display: 'Albuterol' }], text: 'Albuterol 90 mcg/actuation inhaler' },
      subject: { reference: 'Patient/pt-1000000002' },
      requester: { reference: 'Practitioner/pr-2000000001' },
      authoredOn: '2021-09-20',
      dosageInstruction: [{ text: '2 puffs every 4 hours as needed' }],
      dispenseRequest: {
        validityPeriod: { start: '2021-09-20', end: '2022-09-20' },
        numberOfRepeatsAllowed: 2,
        quantity: { value: 1 },
        expectedSupplyDuration: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
      },
      priorPrescription: { reference: 'MedicationRequest/rx-old' },
    });
    expect(old.status).toBe('completed');
    expect(stopped.status).toBe('stopped');
    expect(stopped.priorPrescription).toBeUndefined();
    expect(toMedicationRequest(record.prescriptions[1], PT, none).priorPrescription).toBeUndefined();
  });

  it('maps each fill to a completed MedicationDispense of its prescription', () => {
    const rx = record.prescriptions[1];
    expect(toMedicationDispense(rx.fills[0], rx, PT)).toEqual({
      resourceType: 'MedicationDispense',
      id: 'fill-new-2',
      meta: { source: 'urn:patient-portal:pharmacy' },
      status: 'completed',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '745679', display: 'Albuterol' }], text: 'Albuterol 90 mcg/actuation inhaler' },
      subject: { reference: 'Patient/pt-1000000002' },
      authorizingPrescription: [{ reference: 'MedicationRequest/rx-new' }],
      quantity: { value: 1 },
      daysSupply: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' },
      whenPrepared: '2021-10-20',
      whenHandedOver: '2021-10-20',
    });
  });
});

it('tags only records whose origin is known', () => {
  expect(metaOf('pharmacy')).toEqual({ source: 'urn:patient-portal:pharmacy' });
  expect(metaOf('messaging', 'TRICARE_ONLINE').tag).toEqual(LEGACY_TAG);
});
