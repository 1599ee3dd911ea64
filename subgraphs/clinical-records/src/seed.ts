import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, EntitySchema, ObjectLiteral } from 'typeorm';
import { DEMO } from '@portal/demo';
import {
  AllergyEntity,
  ConditionEntity,
  HealthTopicCodeEntity,
  HealthTopicEntity,
  ImmunizationEntity,
  LabResultEntity,
  VisitNoteEntity,
  VitalEntity,
  type AllergyRow,
  type CodeSystem,
  type ConditionRow,
  type HealthTopicCodeRow,
  type HealthTopicRow,
  type ImmunizationRow,
  type LabResultRow,
  type VisitNoteRow,
  type VitalRow,
} from './db/entities';

const REVIEWER = 'Morgan Patel, MD, Defense Health Agency Patient Education';

type Topic = Omit<HealthTopicRow, 'reviewedBy'> & { codes: [CodeSystem, string][] };

const TOPICS: Topic[] = [
  {
    id: 'ht-a1c',
    title: 'Understanding your A1c',
    summary: 'What the hemoglobin A1c test measures and what your number means for blood sugar control.',
    body: 'The A1c test shows your average blood sugar over the past two to three months. Below 5.7% is in the normal range; 5.7% to 6.4% suggests prediabetes; 6.5% or higher on two tests suggests diabetes. If you have diabetes, you and your care team will agree on a target, often below 7%.',
    reviewedAt: '2025-01-15',
    codes: [['LOINC', '4548-4'], ['ICD10', 'E11.9']],
  },
  {
    id: 'ht-type-2-diabetes',
    title: 'Living with type 2 diabetes',
    summary: 'Everyday steps that help manage type 2 diabetes: food, activity, medicines and check-ups.',
    body: 'Type 2 diabetes is managed with healthy eating, regular physical activity, medicines when needed, and regular check-ups of your A1c, kidneys, eyes and feet. Small, steady changes add up.',
    reviewedAt: '2024-11-02',
    codes: [['ICD10', 'E11.9']],
  },
  {
    id: 'ht-metformin',
    title: 'Metformin: what to know',
    summary: 'How metformin lowers blood sugar, how to take it, and side effects to watch for.',
    body: 'Metformin helps your body use insulin better. Take it with meals to reduce stomach upset. Tell your care team about ongoing nausea, diarrhea or unusual muscle pain, and before any imaging test that uses contrast dye.',
    reviewedAt: '2025-02-20',
    codes: [['RXNORM', '861007']],
  },
  {
    id: 'ht-lisinopril',
    title: 'Lisinopril and blood pressure',
    summary: 'How lisinopril, an ACE inhibitor, lowers blood pressure and what side effects to report.',
    body: 'Lisinopril relaxes blood vessels so your heart pumps more easily. A dry cough is a common side effect. Get help right away for swelling of the face, lips or tongue.',
    reviewedAt: '2024-09-10',
    codes: [['RXNORM', '314076'], ['ICD10', 'I10']],
  },
  {
    id: 'ht-high-blood-pressure',
    title: 'High blood pressure basics',
    summary: 'What blood pressure numbers mean and how to check your blood pressure at home.',
    body: 'Blood pressure is written as two numbers, such as 128/82 mmHg. Sit quietly for five minutes before measuring, with your arm supported at heart level, and keep a log to share with your care team.',
    reviewedAt: '2024-10-05',
    codes: [['ICD10', 'I10']],
  },
  {
    id: 'ht-statins',
    title: 'Statins and cholesterol',
    summary: 'Why LDL cholesterol matters and how statin medicines such as atorvastatin lower it.',
    body: 'LDL cholesterol builds up in artery walls. Statins lower LDL and the risk of heart attack and stroke. Report unexplained muscle pain or weakness to your care team.',
    reviewedAt: '2025-03-01',
    codes: [['RXNORM', '617312'], ['LOINC', '13457-7']],
  },
  {
    id: 'ht-cbc',
    title: 'Your complete blood count (CBC)',
    summary: 'What hemoglobin, white blood cells and platelets in a CBC tell your care team.',
    body: 'A complete blood count measures the cells in your blood. Hemoglobin carries oxygen; white blood cells fight infection; platelets help blood clot. Results slightly outside the range are common and not always a concern.',
    reviewedAt: '2024-08-19',
    codes: [['LOINC', '718-7'], ['LOINC', '6690-2']],
  },
  {
    id: 'ht-albuterol',
    title: 'Albuterol inhaler use',
    summary: 'How to use a quick-relief albuterol inhaler correctly, with or without a spacer.',
    body: 'Shake the inhaler, breathe out fully, seal your lips around the mouthpiece (or spacer), press once as you breathe in slowly, and hold your breath for ten seconds. Wait a minute before a second puff.',
    reviewedAt: '2024-12-12',
    codes: [['RXNORM', '745679']],
  },
  {
    id: 'ht-asthma-action-plan',
    title: 'Asthma action plans',
    summary: 'A written plan for the green, yellow and red zones of asthma symptoms.',
    body: 'An asthma action plan tells you which medicines to take every day, what to do when symptoms get worse, and when to get emergency care. Review it with your care team once a year.',
    reviewedAt: '2025-01-30',
    codes: [['ICD10', 'J45.909']],
  },
  {
    id: 'ht-flu-vaccine',
    title: 'Flu vaccine',
    summary: 'Why a yearly influenza vaccine is recommended for everyone six months and older.',
    body: 'Flu viruses change every year, so a new vaccine is made each season. Get vaccinated by the end of October if you can. Mild soreness and a low fever for a day are common.',
    reviewedAt: '2025-08-25',
    codes: [],
  },
  {
    id: 'ht-penicillin-allergy',
    title: 'Penicillin allergy',
    summary: 'What a penicillin allergy label means and why testing can sometimes remove it.',
    body: 'Many people labelled allergic to penicillin can take it safely after testing. Keep your allergy list up to date and tell every care team about reactions you have had.',
    reviewedAt: '2024-07-07',
    codes: [],
  },
];

const DAY = 86_400_000;

/**
 * The clinical records of the demo cast (contract/README.md), with Jane's
 * recent results relative to `now`. Idempotent: does nothing when already seeded.
 */
type LabSpec = Partial<LabResultRow> & Pick<LabResultRow, 'id' | 'patientId' | 'testName' | 'loincCode' | 'value' | 'resultedAt'>;
type NoteSpec = Omit<VisitNoteRow, 'authorId' | 'source' | 'status' | 'sensitivity'> & Partial<VisitNoteRow>;

const lab = (r: LabSpec): LabResultRow => ({
  unit: null,
  refLow: null,
  refHigh: null,
  refText: null,
  interpretation: null,
  status: 'FINAL',
  source: 'MHS_GENESIS',
  sensitivity: 'NORMAL',
  collectedAt: r.resultedAt,
  ...r,
});

const note = (n: NoteSpec): VisitNoteRow => ({
  authorId: DEMO.alex,
  source: 'MHS_GENESIS',
  status: 'FINAL',
  sensitivity: 'NORMAL',
  ...n,
});

/** A UTC instant `days` before `now` at `hour` o'clock. */
const daysBefore = (now: Date, days: number, hour = 14) => {
  const d = new Date(now.getTime() - days * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
};

export async function seedDemo(db: DataSource, now: Date = new Date()): Promise<void> {
  // Added later than Jane's: a database seeded before gets them on its next run.
  if (!(await db.getRepository(LabResultEntity).findOneBy({ id: 'lr-emma-hgb' }))) await seedChildren(db, now);
  if (await db.getRepository(HealthTopicEntity).findOneBy({ id: TOPICS[0].id })) return;
  const at = (days: number, hour = 14) => daysBefore(now, days, hour);
  const dateOf = (days: number) => at(days).slice(0, 10);
  const { jane, john } = DEMO;

  const a1c = { testName: 'Hemoglobin A1c', loincCode: '4548-4', unit: '%', refLow: 4.0, refHigh: 5.6, refText: '4.0-5.6 %' };
  const ldl = { testName: 'LDL cholesterol (calculated)', loincCode: '13457-7', unit: 'mg/dL', refLow: 0, refHigh: 99, refText: '<100 mg/dL' };
  const labs: LabResultRow[] = [
    lab({ id: 'lr-jane-a1c-1', patientId: jane, ...a1c, value: '6.1', interpretation: 'HIGH', collectedAt: at(301, 9), resultedAt: at(300) }),
    lab({ id: 'lr-jane-a1c-2', patientId: jane, ...a1c, value: '6.4', interpretation: 'HIGH', collectedAt: at(151, 9), resultedAt: at(150) }),
    // No interpretation from the lab: the portal computes HIGH from the range.
    lab({ id: 'lr-jane-a1c-3', patientId: jane, ...a1c, value: '6.9', collectedAt: at(6, 9), resultedAt: at(5, 15) }),
    lab({ id: 'lr-jane-ldl', patientId: jane, ...ldl, value: '142', interpretation: 'HIGH', collectedAt: at(6, 9), resultedAt: at(5, 14) }),
    lab({ id: 'lr-jane-hgb', patientId: jane, testName: 'Hemoglobin', loincCode: '718-7', value: '13.5', unit: 'g/dL', refLow: 12.0, refHigh: 15.5, refText: '12.0-15.5 g/dL', interpretation: 'NORMAL', collectedAt: at(20, 10), resultedAt: at(20, 16) }),
    lab({ id: 'lr-jane-wbc', patientId: jane, testName: 'White blood cell count', loincCode: '6690-2', value: '7.2', unit: '10*3/uL', refLow: 4.5, refHigh: 11.0, refText: '4.5-11.0 10*3/uL', status: 'CORRECTED', collectedAt: at(20, 10), resultedAt: at(20, 15) }),
    // Not released: a preliminary result is stored but never shown.
    lab({ id: 'lr-jane-glucose-prelim', patientId: jane, testName: 'Glucose', loincCode: '2345-7', value: '101', unit: 'mg/dL', refLow: 70, refHigh: 99, status: 'PRELIMINARY', collectedAt: at(1, 8), resultedAt: at(1, 12) }),
    lab({ id: 'lr-jane-tol-cholesterol', patientId: jane, testName: 'Cholesterol, total', loincCode: '2093-3', value: '188', unit: 'mg/dL', refHigh: 199, refText: '<200 mg/dL', source: 'TRICARE_ONLINE', collectedAt: '2018-03-14T13:00:00.000Z', resultedAt: '2018-03-15T18:30:00.000Z' }),
    // John: active duty (TRICARE Online era) then veteran (MHS GENESIS / federal EHR).
    lab({ id: 'lr-john-ldl-2010', patientId: john, ...ldl, value: '118', source: 'TRICARE_ONLINE', collectedAt: '2010-03-15T14:30:00.000Z', resultedAt: '2010-03-16T17:00:00.000Z' }),
    lab({ id: 'lr-john-eos-2010', patientId: john, testName: 'Eosinophils', loincCode: '711-2', value: '0.6', unit: '10*3/uL', refLow: 0.0, refHigh: 0.5, interpretation: 'H', source: 'TRICARE_ONLINE', collectedAt: '2010-03-15T14:30:00.000Z', resultedAt: '2010-03-16T17:05:00.000Z' }),
    lab({ id: 'lr-john-ldl-2021', patientId: john, ...ldl, value: '96', collectedAt: '2021-09-20T15:30:00.000Z', resultedAt: '2021-09-21T16:00:00.000Z' }),
    lab({ id: 'lr-john-covid-2021', patientId: john, testName: 'SARS-CoV-2 RNA', loincCode: '94500-6', value: 'Not detected', refText: 'Not detected', collectedAt: '2021-09-20T15:30:00.000Z', resultedAt: '2021-09-21T20:00:00.000Z' }),
  ];

  const notes: VisitNoteRow[] = [
    note({
      id: 'vn-jane-past-1', patientId: jane, appointmentId: 'ap-jane-past-1', title: 'Annual physical and diabetes check', noteType: 'PROGRESS_NOTE', authoredAt: at(20, 17),
      text: 'Seen for annual physical. Feels well. Blood pressure 128/82. Discussed A1c trend and diet; labs ordered. Continue metformin and lisinopril. Return in 3 months.',
    }),
    note({
      id: 'vn-jane-past-2', patientId: jane, appointmentId: 'ap-jane-past-2', status: 'AMENDED', title: 'Follow-up: blood pressure', noteType: 'PROGRESS_NOTE', authoredAt: at(120, 18),
      text: 'Follow-up of blood pressure. Home readings 130s/80s. Started lisinopril 10 mg daily. Amended: corrected the dose written in the plan.',
    }),
    note({
      id: 'vn-jane-tol-2017', patientId: jane, appointmentId: null, source: 'TRICARE_ONLINE', title: 'Sick call: upper respiratory infection', noteType: 'ENCOUNTER_NOTE', authoredAt: '2017-11-06T15:20:00.000Z',
      text: 'Three days of sore throat and congestion, no fever. Viral upper respiratory infection. Rest, fluids, return if worse.',
    }),
    // Not released: the author has not signed it yet.
    note({
      id: 'vn-jane-draft', patientId: jane, appointmentId: null, status: 'DRAFT', title: 'Telephone follow-up (draft)', noteType: 'TELEPHONE_NOTE', authoredAt: at(1, 15),
      text: 'Draft: discussed recent LDL result.',
    }),
    note({
      id: 'vn-john-2010', patientId: john, appointmentId: 'ap-john-2010', source: 'TRICARE_ONLINE', title: 'Asthma follow-up', noteType: 'PROGRESS_NOTE', authoredAt: '2010-03-15T16:00:00.000Z',
      text: 'Mild intermittent asthma, well controlled. Uses albuterol about once a week after running. Refilled inhaler; reviewed technique.',
    }),
    note({
      id: 'vn-john-2021', patientId: john, appointmentId: 'ap-john-2021', title: 'New patient visit (veteran)', noteType: 'PROGRESS_NOTE', authoredAt: '2021-09-20T17:00:00.000Z',
      text: 'Establishing care after separation from service. Asthma stable. Lipids ordered. No new concerns.',
    }),
  ];

  const conditions: ConditionRow[] = [
    { id: 'cd-jane-t2d', patientId: jane, name: 'Type 2 diabetes mellitus without complications', icd10Code: 'E11.9', clinicalStatus: 'ACTIVE', onsetDate: '2023-05-10' },
    { id: 'cd-jane-htn', patientId: jane, name: 'Essential (primary) hypertension', icd10Code: 'I10', clinicalStatus: 'ACTIVE', onsetDate: dateOf(120) },
    { id: 'cd-john-asthma', patientId: john, name: 'Mild intermittent asthma, uncomplicated', icd10Code: 'J45.909', clinicalStatus: 'ACTIVE', onsetDate: '2008-04-02' },
  ];
  const allergies: AllergyRow[] = [
    { id: 'al-jane-penicillin', patientId: jane, substance: 'Penicillin', snomedCode: '764146007', reaction: 'Hives', severity: 'MODERATE', recordedAt: '2014-02-11T12:00:00.000Z' },
    { id: 'al-john-sulfa', patientId: john, substance: 'Sulfonamide antibiotics', snomedCode: '763875007', reaction: 'Rash', severity: 'MILD', recordedAt: '2006-08-01T12:00:00.000Z' },
  ];
  const immunizations: ImmunizationRow[] = [
    { id: 'im-jane-flu', patientId: jane, vaccine: 'Influenza, seasonal, injectable', cvxCode: '141', occurrenceDate: dateOf(40) },
    { id: 'im-jane-tdap', patientId: jane, vaccine: 'Tdap (tetanus, diphtheria, pertussis)', cvxCode: '115', occurrenceDate: '2019-07-09' },
    { id: 'im-john-hepa', patientId: john, vaccine: 'Hepatitis A', cvxCode: '85', occurrenceDate: '2004-06-15' },
    { id: 'im-john-flu-2021', patientId: john, vaccine: 'Influenza, seasonal, injectable', cvxCode: '141', occurrenceDate: '2021-10-04' },
  ];
  const vital = (id: string, patientId: string, kind: string, value: string, unit: string, recordedAt: string): VitalRow => ({ id, patientId, kind, value, unit, recordedAt });
  const vitals: VitalRow[] = [
    vital('vt-jane-bp-1', jane, 'BLOOD_PRESSURE', '128/82', 'mmHg', at(20, 15)),
    vital('vt-jane-hr-1', jane, 'HEART_RATE', '72', '/min', at(20, 15)),
    vital('vt-jane-wt-1', jane, 'WEIGHT', '68.5', 'kg', at(20, 15)),
    vital('vt-jane-bp-2', jane, 'BLOOD_PRESSURE', '136/88', 'mmHg', at(120, 16)),
    vital('vt-jane-hr-2', jane, 'HEART_RATE', '76', '/min', at(120, 16)),
    vital('vt-jane-wt-2', jane, 'WEIGHT', '69.8', 'kg', at(120, 16)),
    vital('vt-john-bp-2021', john, 'BLOOD_PRESSURE', '122/78', 'mmHg', '2021-09-20T15:10:00.000Z'),
    vital('vt-john-hr-2021', john, 'HEART_RATE', '64', '/min', '2021-09-20T15:10:00.000Z'),
    vital('vt-john-wt-2010', john, 'WEIGHT', '81.2', 'kg', '2010-03-15T14:10:00.000Z'),
  ];

  await db.transaction(async (tx) => {
    await tx.getRepository(HealthTopicEntity).insert(TOPICS.map(({ codes: _codes, ...t }) => ({ ...t, reviewedBy: REVIEWER })));
    const links: HealthTopicCodeRow[] = TOPICS.flatMap((t) => t.codes.map(([system, code]) => ({ topicId: t.id, system, code })));
    await tx.getRepository(HealthTopicCodeEntity).insert(links);
    await tx.getRepository(LabResultEntity).insert(labs);
    await tx.getRepository(VisitNoteEntity).insert(notes);
    await tx.getRepository(ConditionEntity).insert(conditions);
    await tx.getRepository(AllergyEntity).insert(allergies);
    await tx.getRepository(ImmunizationEntity).insert(immunizations);
    await tx.getRepository(VitalEntity).insert(vitals);
  });
}

/**
 * Jane's children, whose records Jane sees as their parent (proxy access).
 * Emma (12): results, a well-child note and a BEHAVIORAL_HEALTH note her
 * parent does see (under 13). Liam (15): results, a sports-physical note, and a
 * REPRODUCTIVE_HEALTH result and a BEHAVIORAL_HEALTH note his parent never sees.
 */
async function seedChildren(db: DataSource, now: Date): Promise<void> {
  const at = (days: number, hour = 14) => daysBefore(now, days, hour);
  const { emma, liam } = DEMO;
  const hgb = { testName: 'Hemoglobin', loincCode: '718-7', unit: 'g/dL', refLow: 11.5, refHigh: 15.5, refText: '11.5-15.5 g/dL' };
  const labs: LabResultRow[] = [
    lab({ id: 'lr-emma-hgb', patientId: emma, ...hgb, value: '12.8', interpretation: 'NORMAL', collectedAt: at(30, 10), resultedAt: at(30, 16) }),
    lab({ id: 'lr-emma-lead', patientId: emma, testName: 'Lead, blood', loincCode: '5671-3', value: '1.2', unit: 'ug/dL', refHigh: 3.5, refText: '<3.5 ug/dL', collectedAt: at(30, 10), resultedAt: at(29, 15) }),
    lab({ id: 'lr-liam-hgb', patientId: liam, ...hgb, refLow: 13.0, refHigh: 16.0, refText: '13.0-16.0 g/dL', value: '14.6', interpretation: 'NORMAL', collectedAt: at(60, 10), resultedAt: at(60, 16) }),
    lab({ id: 'lr-liam-chlamydia', patientId: liam, testName: 'Chlamydia trachomatis rRNA', loincCode: '43304-5', value: 'Not detected', refText: 'Not detected', sensitivity: 'REPRODUCTIVE_HEALTH', collectedAt: at(12, 10), resultedAt: at(11, 15) }),
  ];
  const notes: VisitNoteRow[] = [
    note({
      id: 'vn-emma-past-1', patientId: emma, appointmentId: 'ap-emma-past-1', title: 'Well-child visit', noteType: 'PROGRESS_NOTE', authoredAt: at(30, 17),
      text: 'Well-child visit at 12. Growing well. Immunizations reviewed; HPV series started. Mild exercise-induced wheeze: albuterol before sports.',
    }),
    note({
      id: 'vn-emma-counseling', patientId: emma, appointmentId: null, sensitivity: 'BEHAVIORAL_HEALTH', title: 'School counseling referral', noteType: 'PROGRESS_NOTE', authoredAt: at(25, 16),
      text: 'Worries about starting middle school. Referred to the school counselor; parent informed and agrees with the plan.',
    }),
    note({
      id: 'vn-liam-past-1', patientId: liam, appointmentId: 'ap-liam-past-1', title: 'Sports physical', noteType: 'PROGRESS_NOTE', authoredAt: at(60, 17),
      text: 'Cleared for basketball. Left ankle sprain two weeks ago, healing; brace during practice. Follow-up in the spring.',
    }),
    note({
      id: 'vn-liam-counseling', patientId: liam, appointmentId: null, authorId: DEMO.riley, sensitivity: 'BEHAVIORAL_HEALTH', title: 'Counseling intake', noteType: 'PROGRESS_NOTE', authoredAt: at(9, 16),
      text: 'Stress about school and friends. No safety concerns. Weekly sessions agreed; confidential at his request.',
    }),
  ];
  await db.transaction(async (tx) => {
    await tx.getRepository(LabResultEntity).insert(labs);
    await tx.getRepository(VisitNoteEntity).insert(notes);
  });
}

export interface ScalePatient {
  patientId: string;
  /** Rows in every list: results, notes, conditions, allergies, immunizations, vitals. */
  count: number;
}

const SCALE_TESTS = [
  { testName: 'Hemoglobin A1c', loincCode: '4548-4', unit: '%', refLow: 4.0, refHigh: 5.6 },
  { testName: 'LDL cholesterol (calculated)', loincCode: '13457-7', unit: 'mg/dL', refLow: 0, refHigh: 99 },
  { testName: 'Hemoglobin', loincCode: '718-7', unit: 'g/dL', refLow: 12.0, refHigh: 15.5 },
  { testName: 'White blood cell count', loincCode: '6690-2', unit: '10*3/uL', refLow: 4.5, refHigh: 11.0 },
];
const SCALE_CONDITIONS = [
  { name: 'Type 2 diabetes mellitus without complications', icd10Code: 'E11.9' },
  { name: 'Essential (primary) hypertension', icd10Code: 'I10' },
  { name: 'Mild intermittent asthma, uncomplicated', icd10Code: 'J45.909' },
];

/**
 * A synthetic patient with `count` rows in every list this subgraph returns
 * for a patient (with coded results and conditions, so history and education
 * have work to do), for batching tests and benchmarks. Written by DEMO.alex.
 */
export async function seedScalePatient(db: DataSource, s: ScalePatient, now: Date = new Date()): Promise<void> {
  const at = (i: number) => new Date(now.getTime() - (i + 1) * DAY).toISOString();
  const labs: LabResultRow[] = [];
  const notes: VisitNoteRow[] = [];
  const conditions: ConditionRow[] = [];
  const allergies: AllergyRow[] = [];
  const immunizations: ImmunizationRow[] = [];
  const vitals: VitalRow[] = [];
  for (let i = 0; i < s.count; i++) {
    const test = SCALE_TESTS[i % SCALE_TESTS.length];
    const value = (test.refLow + ((test.refHigh - test.refLow) * ((i * 37) % 130)) / 100).toFixed(1);
    labs.push({ id: randomUUID(), patientId: s.patientId, ...test, value, refText: null, interpretation: null, status: 'FINAL', source: 'MHS_GENESIS', sensitivity: 'NORMAL', collectedAt: at(i), resultedAt: at(i) });
    notes.push({
      id: randomUUID(), patientId: s.patientId, appointmentId: null, authorId: DEMO.alex, title: `Synthetic visit ${i + 1}`, noteType: 'PROGRESS_NOTE',
      status: i % 5 === 4 ? 'AMENDED' : 'FINAL', source: 'MHS_GENESIS', sensitivity: 'NORMAL', authoredAt: at(i), text: 'Synthetic note for load testing.',
    });
    const condition = SCALE_CONDITIONS[i % SCALE_CONDITIONS.length];
    conditions.push({ id: randomUUID(), patientId: s.patientId, name: `${condition.name} (${i + 1})`, icd10Code: condition.icd10Code, clinicalStatus: 'ACTIVE', onsetDate: at(i).slice(0, 10) });
    allergies.push({ id: randomUUID(), patientId: s.patientId, substance: `Synthetic allergen ${i + 1}`, snomedCode: null, reaction: 'Rash', severity: 'MILD', recordedAt: at(i) });
    immunizations.push({ id: randomUUID(), patientId: s.patientId, vaccine: `Synthetic vaccine ${i + 1}`, cvxCode: i % 2 ? '141' : null, occurrenceDate: at(i).slice(0, 10) });
    vitals.push({ id: randomUUID(), patientId: s.patientId, kind: 'HEART_RATE', value: String(60 + (i % 30)), unit: '/min', recordedAt: at(i) });
  }
  await db.transaction(async (tx) => {
    await insertInChunks(tx, LabResultEntity, labs);
    await insertInChunks(tx, VisitNoteEntity, notes);
    await insertInChunks(tx, ConditionEntity, conditions);
    await insertInChunks(tx, AllergyEntity, allergies);
    await insertInChunks(tx, ImmunizationEntity, immunizations);
    await insertInChunks(tx, VitalEntity, vitals);
  });
}

// Keeps each INSERT well under SQLite's and PostgreSQL's bound-parameter limits.
async function insertInChunks<T extends ObjectLiteral>(tx: EntityManager, entity: EntitySchema<T>, rows: T[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) await tx.getRepository(entity).insert(rows.slice(i, i + 100) as never);
}
