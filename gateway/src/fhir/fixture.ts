import type { PatientRecord } from './record';

const alex = { id: 'pr-2000000001', name: { given: 'Alex', family: 'Kim' } };
const clinic = { id: 'cl-family-health', name: 'Family Health Clinic', phone: '555-0100' };

/** A small record touching every mapping, for the unit tests of the download. */
export function sampleRecord(): PatientRecord {
  return {
    patient: {
      id: 'pt-1000000002',
      dodId: '1000000002',
      name: { given: 'John', family: 'Roe' },
      dateOfBirth: '1984-02-29',
      affiliations: [
        { organization: 'DOD', status: 'ACTIVE_DUTY', startDate: '2004-06-01', endDate: '2012-05-31' },
        { organization: 'VA', status: 'VETERAN', startDate: '2012-06-01', endDate: null },
      ],
    },
    appointments: [
      {
        id: 'ap-john-2021', start: '2021-09-20T15:00:00.000Z', end: '2021-09-20T15:30:00.000Z', status: 'FULFILLED', appointmentType: 'PRIMARY_CARE',
        reason: 'New patient visit', clinic, practitioner: alex, cancellation: null,
      },
      {
        id: 'ap-john-cancelled', start: '2021-08-01T15:00:00.000Z', end: '2021-08-01T15:30:00.000Z', status: 'CANCELLED', appointmentType: 'FOLLOW_UP',
        reason: null, clinic, practitioner: alex, cancellation: { reason: null, cancelledAt: '2021-07-30T10:00:00.000Z' },
      },
    ],
    threads: [
      {
        id: 'th-john-legacy', subject: 'Inhaler refill', category: 'MEDICATION', source: 'TRICARE_ONLINE', careTeam: { id: 'ct-primary-blue', name: 'Primary Care Team Blue' },
        messages: [
          { id: 'ms-1', body: 'Could I get a new inhaler?', sentAt: '2010-04-01T12:00:00.000Z', senderName: 'John Roe', senderRole: 'PATIENT', writtenByProxy: false },
          { id: 'ms-2', body: 'Sent to the pharmacy.', sentAt: '2010-04-02T12:00:00.000Z', senderName: 'Alex Kim', senderRole: 'PRACTITIONER', writtenByProxy: false },
        ],
      },
    ],
    prescriptions: [
      {
        id: 'rx-old', status: 'EXPIRED', medication: { rxnormCode: '745679', name: 'Albuterol', strength: '90 mcg/actuation', form: 'inhaler' },
        directions: '2 puffs every 4 hours as needed', quantity: 1, daysSupply: 30, refillsAuthorized: 0, refillsRemaining: 0,
        writtenOn: '2020-01-01', expiresOn: '2021-01-01', prescriber: alex, renewedFrom: null,
        fills: [{ id: 'fill-old-1', filledOn: '2020-01-02', quantity: 1 }],
      },
      {
        id: 'rx-new', status: 'ACTIVE', medication: { rxnormCode: '745679', name: 'Albuterol', strength: '90 mcg/actuation', form: 'inhaler' },
        directions: '2 puffs every 4 hours as needed', quantity: 1, daysSupply: 30, refillsAuthorized: 2, refillsRemaining: 2,
        writtenOn: '2021-09-20', expiresOn: '2022-09-20', prescriber: alex, renewedFrom: { id: 'rx-old' },
        fills: [
          { id: 'fill-new-2', filledOn: '2021-10-20', quantity: 1 },
          { id: 'fill-new-1', filledOn: '2021-09-21', quantity: 1 },
        ],
      },
      {
        id: 'rx-stopped', status: 'DISCONTINUED', medication: { rxnormCode: '617312', name: 'Atorvastatin', strength: '20 mg', form: 'tablet' },
        directions: '1 tablet daily', quantity: 30, daysSupply: 30, refillsAuthorized: 1, refillsRemaining: 1,
        writtenOn: '2021-09-20', expiresOn: '2022-09-20', prescriber: alex, renewedFrom: { id: 'rx-not-visible' },
        fills: [],
      },
    ],
    labResults: [
      {
        id: 'lr-john-ldl-2021', testName: 'LDL cholesterol (calculated)', loincCode: '13457-7', value: '96', unit: 'mg/dL', referenceRange: { low: 0, high: 99, text: '<100 mg/dL' },
        interpretation: 'NORMAL', status: 'FINAL', source: 'MHS_GENESIS', collectedAt: '2021-09-20T15:30:00.000Z', resultedAt: '2021-09-21T16:00:00.000Z',
      },
      {
        id: 'lr-john-covid-2021', testName: 'SARS-CoV-2 RNA', loincCode: '94500-6', value: 'Not detected', unit: null, referenceRange: { low: null, high: null, text: 'Not detected' },
        interpretation: null, status: 'CORRECTED', source: 'MHS_GENESIS', collectedAt: '2021-09-20T15:30:00.000Z', resultedAt: '2021-09-21T20:00:00.000Z',
      },
      {
        id: 'lr-john-crp-2010', testName: 'C reactive protein', loincCode: '1988-5', value: '<0.5', unit: 'mg/L', referenceRange: null,
        interpretation: 'HIGH', status: 'FINAL', source: 'TRICARE_ONLINE', collectedAt: '2010-03-15T14:30:00.000Z', resultedAt: '2010-03-16T17:00:00.000Z',
      },
    ],
    visitNotes: [
      {
        id: 'vn-john-2021', title: 'New patient visit (veteran)', noteType: 'PROGRESS_NOTE', status: 'AMENDED', source: 'MHS_GENESIS', authoredAt: '2021-09-20T17:00:00.000Z',
        text: 'Asthma stable — lipids ordered.', author: alex, appointment: { id: 'ap-john-2021' },
      },
      {
        id: 'vn-john-2010', title: 'Asthma follow-up', noteType: 'ENCOUNTER_NOTE', status: 'FINAL', source: 'TRICARE_ONLINE', authoredAt: '2010-03-15T16:00:00.000Z',
        text: 'Mild intermittent asthma.', author: alex, appointment: { id: 'ap-not-in-record' },
      },
    ],
    conditions: [
      { id: 'cd-john-asthma', name: 'Mild intermittent asthma, uncomplicated', code: 'J45.909', clinicalStatus: 'ACTIVE', onsetDate: '2008-04-02' },
      { id: 'cd-john-odd', name: 'Something else', code: 'R69', clinicalStatus: 'UNKNOWN_STATE', onsetDate: null },
    ],
    allergies: [
      { id: 'al-john-sulfa', substance: 'Sulfonamide antibiotics', snomedCode: '763875007', reaction: 'Rash', severity: 'MILD' },
      { id: 'al-john-dust', substance: 'House dust', snomedCode: null, reaction: null, severity: null },
    ],
    immunizations: [
      { id: 'im-john-flu-2021', vaccine: 'Influenza, seasonal, injectable', cvxCode: '141', occurrenceDate: '2021-10-04' },
      { id: 'im-john-other', vaccine: 'Something unlisted', cvxCode: null, occurrenceDate: '2005-01-01' },
    ],
    vitals: [
      { id: 'vt-john-bp-2021', kind: 'BLOOD_PRESSURE', value: '122/78', unit: 'mmHg', recordedAt: '2021-09-20T15:10:00.000Z' },
      { id: 'vt-john-hr-2021', kind: 'HEART_RATE', value: '64', unit: '/min', recordedAt: '2021-09-20T15:10:00.000Z' },
      { id: 'vt-john-pain', kind: 'PAIN_SCORE', value: '3', unit: '{score}', recordedAt: '2021-09-20T15:10:00.000Z' },
    ],
  };
}
