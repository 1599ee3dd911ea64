/**
 * The synthetic population: a pure, deterministic function of (seed, number
 * of patients, reference day). Every patient's rows come from a random stream
 * of their own (seed, index), so any range of patients can be generated on its
 * own, in any order, and always comes out the same: that is what makes the
 * loader resumable batch by batch. Development data only: no real person.
 *
 * Shapes: most patients have a handful of appointments, threads, prescriptions
 * and lab results (several tests, each with a history, for trends); one in a
 * hundred has hundreds; patient 0 (`pt-syn-0000000`) has the largest record of
 * all (thousands of entries). Patients are split into care teams of a few
 * hundred to several thousand (team 0 is the largest), each team with its own
 * clinic and practitioners (about one per 500 patients), and about one
 * pharmacist per 5,000 patients. About 3% of patients have a request waiting
 * in the pharmacy queue. Every subgraph holds three years of audit rows per
 * patient (`auditRows`): a few for most, hundreds for one in a hundred, 5,000
 * for patient 0, mostly the patient's own reads.
 */

/** Rows of one table in PostgreSQL's COPY text format, one line per row. */
export interface TableRows {
  schema: SubgraphSchema;
  table: string;
  columns: readonly string[];
  lines: string[];
}

export type SubgraphSchema = 'identity' | 'scheduling' | 'messaging' | 'pharmacy' | 'clinical_records';

const AUDIT_COLUMNS = ['id', 'occurred_at', 'request_id', 'subgraph', 'actor_account_id', 'actor_person_id', 'actor_role', 'patient_id', 'record_kind', 'action', 'outcome'] as const;

export const COLUMNS = {
  'identity.person': ['id', 'kind', 'dod_id', 'given_name', 'middle_name', 'family_name', 'date_of_birth', 'specialty'],
  'identity.affiliation': ['id', 'person_id', 'organization', 'status', 'start_date', 'end_date'],
  'identity.account': ['id', 'person_id', 'username', 'password_hash', 'role', 'status', 'created_at', 'deactivated_at'],
  'identity.care_team': ['id', 'name'],
  'identity.care_team_member': ['care_team_id', 'person_id'],
  'scheduling.clinic': ['id', 'name', 'time_zone', 'phone', 'appointment_types'],
  'scheduling.slot': ['id', 'clinic_id', 'practitioner_id', 'appointment_type', 'start_at', 'end_at'],
  'scheduling.appointment': [
    'id', 'slot_id', 'patient_id', 'practitioner_id', 'clinic_id', 'appointment_type', 'start_at', 'end_at', 'status', 'reason',
    'created_at', 'cancelled_at', 'cancelled_by', 'cancel_reason', 'idempotency_key',
  ],
  'messaging.message_thread': ['id', 'patient_id', 'care_team_id', 'subject', 'category', 'source', 'created_at', 'last_message_at', 'state'],
  'messaging.message': ['id', 'thread_id', 'sender_id', 'sender_role', 'sender_name', 'body', 'sent_at', 'idempotency_key'],
  'messaging.thread_reader_state': ['thread_id', 'reader_id', 'last_read_at', 'archived_at'],
  'pharmacy.prescription': [
    'id', 'patient_id', 'medication_code', 'directions', 'quantity', 'days_supply', 'refills_authorized', 'refills_remaining',
    'written_on', 'expires_on', 'status', 'prescriber_id', 'renewed_from_id', 'discontinued_at', 'created_at', 'care_team_id',
  ],
  'pharmacy.fill': ['id', 'prescription_id', 'filled_on', 'quantity'],
  'pharmacy.pharmacy_request': [
    'id', 'prescription_id', 'patient_id', 'kind', 'status', 'requested_at', 'requested_by', 'note', 'decided_at', 'decided_by',
    'decision_note', 'new_prescription_id', 'idempotency_key',
  ],
  'clinical_records.lab_result': [
    'id', 'patient_id', 'test_name', 'loinc_code', 'value', 'unit', 'ref_low', 'ref_high', 'ref_text', 'interpretation', 'status',
    'source', 'collected_at', 'resulted_at',
  ],
  'clinical_records.visit_note': ['id', 'patient_id', 'appointment_id', 'author_id', 'title', 'note_type', 'status', 'source', 'authored_at', 'text'],
  'clinical_records.condition': ['id', 'patient_id', 'name', 'icd10_code', 'clinical_status', 'onset_date'],
  'clinical_records.allergy': ['id', 'patient_id', 'substance', 'reaction', 'severity', 'recorded_at', 'snomed_code'],
  'clinical_records.immunization': ['id', 'patient_id', 'vaccine', 'occurrence_date', 'cvx_code'],
  'clinical_records.vital': ['id', 'patient_id', 'kind', 'value', 'unit', 'recorded_at'],
  // Every subgraph's audit trail (kit audit.ts): years of portal use, the patient's own reads most of it.
  'identity.audit_event': AUDIT_COLUMNS,
  'scheduling.audit_event': AUDIT_COLUMNS,
  'messaging.audit_event': AUDIT_COLUMNS,
  'pharmacy.audit_event': AUDIT_COLUMNS,
  'clinical_records.audit_event': AUDIT_COLUMNS,
} as const;

export type TableName = keyof typeof COLUMNS;

/** The tables whose rows grow with the number of patients (the EXPLAIN test's watch list). */
export const PATIENT_TABLES: readonly TableName[] = (Object.keys(COLUMNS) as TableName[]).filter(
  (t) => !['identity.care_team', 'scheduling.clinic'].includes(t),
);

/** The one password of every synthetic patient account (documented in the README; development only). */
export const SYNTHETIC_PASSWORD = 'Synthetic-Password-1';

export const patientId = (i: number) => `pt-syn-${String(i).padStart(7, '0')}`;
export const patientUsername = (i: number) => `syn.${i}`;
export const teamId = (t: number) => `ct-syn-${t}`;
export const clinicId = (t: number) => `cl-syn-${t}`;
export const practitionerId = (t: number, k: number) => `pr-syn-${t}-${k}`;
export const pharmacistId = (j: number) => `pr-syn-rx-${j}`;
export const practitionerAccountId = (personId: string) => `ac-${personId}`;

// ------------------------------------------------------------------ random

/** mulberry32: small, fast and good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mix = (seed: number, i: number, salt: number) => Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35) ^ Math.imul(salt, 0x27d4eb2f);

// ------------------------------------------------------------------ COPY text

/** One value in COPY's text format: NULL is \N; backslash, tab and line breaks are escaped. */
function cell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'number' ? String(v) : v;
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

export class RowSink {
  readonly tables = new Map<TableName, string[]>();
  rows = 0;
  add(table: TableName, values: (string | number | null | undefined)[]): void {
    let lines = this.tables.get(table);
    if (!lines) this.tables.set(table, (lines = []));
    lines.push(values.map(cell).join('\t'));
    this.rows++;
  }
}

// ------------------------------------------------------------------ the plan

export interface PlanOptions {
  patients: number;
  seed: number;
  /** UTC day (YYYY-MM-DD) the population is generated around: history before it, free slots after it. */
  referenceDay: string;
}

export interface Team {
  index: number;
  /** First patient index of the team, and how many. */
  start: number;
  size: number;
  practitioners: number;
}

export interface Plan extends PlanOptions {
  teams: Team[];
  pharmacists: number;
  /** Slots per practitioner (weekdays of SLOT_DAYS, SLOTS_PER_DAY each). */
  slotDays: string[];
}

const SLOT_DAYS = 60;
const SLOT_TIMES = ['13:00', '13:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30', '18:00', '18:30', '19:00', '19:30', '20:00', '20:30'];
const SLOT_MINUTES = 30;
const DAY_MS = 86_400_000;

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** Care teams of 300 to 3,000 patients, one in five of 3,000 to 6,000; team 0 the largest that fits. */
export function makePlan(o: PlanOptions): Plan {
  const r = rng(mix(o.seed, 0, 1));
  const sizes: number[] = [];
  let total = 0;
  while (total < o.patients) {
    const large = sizes.length === 0 || r() < 0.2;
    let size = large ? 3000 + Math.floor(r() * 3001) : 300 + Math.floor(r() * 2701);
    if (sizes.length === 0) size = 6000;
    size = Math.min(size, o.patients - total);
    // A remainder too small for a team of its own joins the one before.
    if (o.patients - total - size > 0 && o.patients - total - size < 300) size = o.patients - total;
    sizes.push(size);
    total += size;
  }
  let start = 0;
  const teams = sizes.map((size, index) => {
    const t = { index, start, size, practitioners: Math.max(2, Math.round(size / 500)) };
    start += size;
    return t;
  });
  const slotDays: string[] = [];
  for (let d = 1; d <= SLOT_DAYS; d++) {
    const day = addDays(o.referenceDay, d);
    const wd = new Date(`${day}T00:00:00Z`).getUTCDay();
    if (wd !== 0 && wd !== 6) slotDays.push(day);
  }
  return { ...o, teams, pharmacists: Math.max(1, Math.round(o.patients / 5000)), slotDays };
}

export function teamOf(plan: Plan, i: number): Team {
  let lo = 0;
  let hi = plan.teams.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (plan.teams[mid].start <= i) lo = mid;
    else hi = mid - 1;
  }
  return plan.teams[lo];
}

const slotsPerPractitioner = (plan: Plan) => plan.slotDays.length * SLOT_TIMES.length;

function slotOf(plan: Plan, team: Team, k: number, n: number) {
  const day = plan.slotDays[Math.floor(n / SLOT_TIMES.length)];
  const time = SLOT_TIMES[n % SLOT_TIMES.length];
  const startAt = `${day}T${time}:00.000Z`;
  return {
    id: `sl-syn-${team.index}-${k}-${day.replace(/-/g, '')}-${time.replace(':', '')}`,
    startAt,
    endAt: new Date(Date.parse(startAt) + SLOT_MINUTES * 60_000).toISOString(),
  };
}

const GIVEN = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Carlos', 'Maria', 'Wei', 'Aisha', 'Kenji', 'Priya'];
const FAMILY = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Nguyen', 'Patel', 'Kim', 'Okafor'];
const SPECIALTIES = ['PRIMARY_CARE_PHYSICIAN', 'PRIMARY_CARE_PHYSICIAN', 'NURSE_PRACTITIONER', 'PHYSICIAN_ASSISTANT'];
const MEDICATIONS = [
  ['314076', 'Take 1 tablet by mouth once daily.'],
  ['861007', 'Take 1 tablet by mouth twice daily with meals.'],
  ['617312', 'Take 1 tablet by mouth once daily at bedtime.'],
  ['745679', 'Inhale 2 puffs by mouth every 4 to 6 hours as needed for wheezing.'],
  ['308191', 'Take 1 capsule by mouth three times daily for 10 days.'],
] as const;
const TESTS = [
  { name: 'Hemoglobin A1c', loinc: '4548-4', unit: '%', low: 4.0, high: 5.6 },
  { name: 'LDL cholesterol (calculated)', loinc: '13457-7', unit: 'mg/dL', low: 0, high: 99 },
  { name: 'Hemoglobin', loinc: '718-7', unit: 'g/dL', low: 12.0, high: 15.5 },
  { name: 'White blood cell count', loinc: '6690-2', unit: '10*3/uL', low: 4.5, high: 11.0 },
  { name: 'Glucose', loinc: '2345-7', unit: 'mg/dL', low: 70, high: 99 },
  { name: 'Creatinine', loinc: '2160-0', unit: 'mg/dL', low: 0.6, high: 1.3 },
] as const;
const CONDITIONS = [
  ['Type 2 diabetes mellitus without complications', 'E11.9'],
  ['Essential (primary) hypertension', 'I10'],
  ['Mild intermittent asthma, uncomplicated', 'J45.909'],
  ['Hyperlipidemia, unspecified', 'E78.5'],
  ['Low back pain', 'M54.5'],
] as const;
const ALLERGIES = [
  ['Penicillin', '764146007', 'Hives', 'MODERATE'],
  ['Sulfonamide antibiotics', '763875007', 'Rash', 'MILD'],
  ['Peanut', '762952008', 'Anaphylaxis', 'SEVERE'],
] as const;
const VACCINES = [
  ['Influenza, seasonal, injectable', '141'],
  ['Tdap (tetanus, diphtheria, pertussis)', '115'],
  ['Hepatitis A', '85'],
  ['COVID-19, mRNA', '208'],
] as const;
const CATEGORIES = ['GENERAL', 'APPOINTMENT', 'MEDICATION', 'TEST_RESULT'] as const;
const APPOINTMENT_TYPES = ['PRIMARY_CARE', 'FOLLOW_UP', 'IMMUNIZATION'] as const;

/** The staff side: teams, clinics, practitioners, pharmacists and the free slots of the coming weeks. */
export function staffRows(plan: Plan, sink: RowSink): void {
  const r = rng(mix(plan.seed, 0, 2));
  const createdAt = `${plan.referenceDay}T00:00:00.000Z`;
  const person = (id: string, dod: number, specialty: string) =>
    sink.add('identity.person', [id, 'PRACTITIONER', String(dod), GIVEN[Math.floor(r() * GIVEN.length)], null, FAMILY[Math.floor(r() * FAMILY.length)], `19${60 + Math.floor(r() * 35)}-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)}`, specialty]);
  let dod = 5_000_000_000;
  for (const team of plan.teams) {
    sink.add('identity.care_team', [teamId(team.index), `Synthetic Care Team ${team.index}`]);
    sink.add('scheduling.clinic', [clinicId(team.index), `Synthetic Clinic ${team.index}`, 'America/New_York', '(757) 555-0100', APPOINTMENT_TYPES.join(',')]);
    for (let k = 0; k < team.practitioners; k++) {
      const id = practitionerId(team.index, k);
      person(id, dod++, SPECIALTIES[k % SPECIALTIES.length]);
      sink.add('identity.account', [practitionerAccountId(id), id, null, null, 'PRACTITIONER', 'ACTIVE', createdAt, null]);
      sink.add('identity.care_team_member', [teamId(team.index), id]);
      for (let n = 0; n < slotsPerPractitioner(plan); n++) {
        const s = slotOf(plan, team, k, n);
        sink.add('scheduling.slot', [s.id, clinicId(team.index), id, APPOINTMENT_TYPES[n % 3], s.startAt, s.endAt]);
      }
    }
  }
  for (let j = 0; j < plan.pharmacists; j++) {
    const id = pharmacistId(j);
    person(id, dod++, 'PHARMACIST');
    sink.add('identity.account', [practitionerAccountId(id), id, null, null, 'PHARMACIST', 'ACTIVE', createdAt, null]);
  }
}

interface Counts {
  appointments: number;
  threads: number;
  prescriptions: number;
  /** Results per test: each test gets this many in its history. */
  labsPerTest: number;
  tests: number;
  conditions: number;
  allergies: number;
  immunizations: number;
  vitals: number;
}

function countsOf(i: number, r: () => number): Counts {
  const between = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  if (i === 0) {
    // The largest record: thousands of entries in the FHIR download.
    return { appointments: 600, threads: 400, prescriptions: 300, labsPerTest: 400, tests: TESTS.length, conditions: 40, allergies: 3, immunizations: 60, vitals: 600 };
  }
  if (r() < 0.01) {
    return {
      appointments: between(100, 400), threads: between(100, 300), prescriptions: between(100, 200), labsPerTest: between(30, 80), tests: TESTS.length,
      conditions: between(5, 15), allergies: between(0, 3), immunizations: between(10, 30), vitals: between(100, 300),
    };
  }
  return {
    appointments: between(1, 8), threads: between(0, 5), prescriptions: between(0, 5), labsPerTest: between(1, 4), tests: between(1, 4),
    conditions: between(0, 3), allergies: between(0, 2), immunizations: between(1, 4), vitals: between(2, 8),
  };
}

/**
 * Every row of patient `i`. `passwordHash` is the hash of SYNTHETIC_PASSWORD,
 * computed once by the caller.
 */
export function patientRows(plan: Plan, i: number, passwordHash: string, sink: RowSink): void {
  const r = rng(mix(plan.seed, i, 3));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const id = patientId(i);
  const team = teamOf(plan, i);
  const ct = teamId(team.index);
  const clinic = clinicId(team.index);
  const ref = Date.parse(`${plan.referenceDay}T12:00:00Z`);
  /** An instant `days` (fractional) before the reference day, on the minute. */
  const ago = (days: number) => new Date(ref - Math.floor(days * 1440) * 60_000).toISOString();
  const given = pick(GIVEN);
  const family = pick(FAMILY);
  const prac = () => practitionerId(team.index, Math.floor(r() * team.practitioners));
  const c = countsOf(i, r);
  const createdAt = ago(400 + Math.floor(r() * 2000));

  // ---- identity
  sink.add('identity.person', [id, 'PATIENT', String(4_000_000_000 + i), given, null, family, `19${50 + Math.floor(r() * 50)}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`, null]);
  const veteran = r() < 0.4;
  sink.add('identity.affiliation', [`af-${id}-0`, id, 'DOD', 'ACTIVE_DUTY', '2005-06-01', veteran ? '2015-05-31' : null]);
  if (veteran) sink.add('identity.affiliation', [`af-${id}-1`, id, 'VA', 'VETERAN', '2015-06-01', null]);
  sink.add('identity.account', [`ac-${id}`, id, patientUsername(i), passwordHash, 'PATIENT', 'ACTIVE', createdAt, null]);
  sink.add('identity.care_team_member', [ct, id]);

  // ---- scheduling: history (no slots: they were booked and used), one upcoming booking on a real slot for about a third.
  const fulfilled: { id: string; startAt: string; practitioner: string }[] = [];
  const span = Math.max(30, c.appointments * 20);
  for (let k = 0; k < c.appointments; k++) {
    const start = ago(1 + ((k + r()) * span) / c.appointments);
    const end = new Date(Date.parse(start) + SLOT_MINUTES * 60_000).toISOString();
    const roll = r();
    const status = roll < 0.1 ? 'CANCELLED' : roll < 0.14 ? 'NO_SHOW' : 'FULFILLED';
    const p = prac();
    const apId = `ap-${id}-${k}`;
    sink.add('scheduling.appointment', [
      apId, null, id, p, clinic, pick(APPOINTMENT_TYPES), start, end, status, 'Synthetic visit', ago(15 + ((k + 1) * span) / c.appointments),
      status === 'CANCELLED' ? start : null, status === 'CANCELLED' ? `ac-${id}` : null, status === 'CANCELLED' ? 'Schedule conflict' : null, null,
    ]);
    if (status === 'FULFILLED') fulfilled.push({ id: apId, startAt: start, practitioner: p });
  }
  const local = i - team.start;
  const slotNumber = Math.floor(local / team.practitioners);
  if (r() < 0.33 && slotNumber < slotsPerPractitioner(plan)) {
    const k = local % team.practitioners;
    const slot = slotOf(plan, team, k, slotNumber);
    sink.add('scheduling.appointment', [
      `ap-${id}-up`, slot.id, id, practitionerId(team.index, k), clinic, APPOINTMENT_TYPES[slotNumber % 3], slot.startAt, slot.endAt, 'BOOKED',
      'Synthetic upcoming visit', ago(3), null, null, null, null,
    ]);
  }

  // ---- clinical records: a note for most fulfilled visits, results with history, the rest of the chart.
  for (const [k, a] of fulfilled.entries()) {
    if (r() < 0.15) continue;
    sink.add('clinical_records.visit_note', [
      `vn-${id}-${k}`, id, a.id, a.practitioner, 'Synthetic visit note', 'PROGRESS_NOTE', r() < 0.1 ? 'AMENDED' : 'FINAL', 'MHS_GENESIS',
      new Date(Date.parse(a.startAt) + 3_600_000).toISOString(), 'Seen for a routine visit. Doing well. Continue current plan. Return as needed.',
    ]);
  }
  const firstTest = Math.floor(r() * TESTS.length);
  for (let t = 0; t < c.tests; t++) {
    const test = TESTS[(firstTest + t) % TESTS.length];
    for (let h = 0; h < c.labsPerTest; h++) {
      const resulted = ago(2 + ((h + r()) * Math.max(90, c.labsPerTest * 30)) / c.labsPerTest);
      const value = (test.low + (test.high - test.low) * (0.2 + r() * 1.1)).toFixed(1);
      sink.add('clinical_records.lab_result', [
        `lr-${id}-${t}-${h}`, id, test.name, test.loinc, value, test.unit, test.low, test.high, `${test.low}-${test.high} ${test.unit}`, null, 'FINAL',
        r() < 0.1 ? 'TRICARE_ONLINE' : 'MHS_GENESIS', new Date(Date.parse(resulted) - 6 * 3_600_000).toISOString(), resulted,
      ]);
    }
  }
  for (let k = 0; k < c.conditions; k++) {
    const [name, code] = CONDITIONS[(i + k) % CONDITIONS.length];
    sink.add('clinical_records.condition', [`cd-${id}-${k}`, id, k < CONDITIONS.length ? name : `${name} (${k})`, code, 'ACTIVE', ago(100 + r() * 3000).slice(0, 10)]);
  }
  for (let k = 0; k < c.allergies; k++) {
    const [substance, snomed, reaction, severity] = ALLERGIES[(i + k) % ALLERGIES.length];
    sink.add('clinical_records.allergy', [`al-${id}-${k}`, id, substance, reaction, severity, ago(500 + r() * 3000), snomed]);
  }
  for (let k = 0; k < c.immunizations; k++) {
    const [vaccine, cvx] = pick(VACCINES);
    sink.add('clinical_records.immunization', [`im-${id}-${k}`, id, vaccine, ago(10 + r() * 3000).slice(0, 10), cvx]);
  }
  for (let k = 0; k < c.vitals; k++) {
    const kind = k % 3;
    sink.add('clinical_records.vital', [
      `vt-${id}-${k}`, id, ['BLOOD_PRESSURE', 'HEART_RATE', 'WEIGHT'][kind], kind === 0 ? `${110 + Math.floor(r() * 40)}/${70 + Math.floor(r() * 20)}` : kind === 1 ? String(55 + Math.floor(r() * 40)) : (55 + r() * 50).toFixed(1),
      ['mmHg', '/min', 'kg'][kind], ago(1 + ((Math.floor(k / 3) + 0.5) * Math.max(60, c.vitals * 10)) / Math.max(1, c.vitals / 3)),
    ]);
  }

  // ---- messaging: threads with the care team, 1 to 4 messages each, the patient's read state.
  const threadSpan = Math.max(60, c.threads * 5);
  for (let k = 0; k < c.threads; k++) {
    const thId = `th-${id}-${k}`;
    const created = Date.parse(ago(1 + ((k + r()) * threadSpan) / c.threads));
    const n = 1 + Math.floor(r() * 4);
    let last = created;
    const p = prac();
    for (let m = 0; m < n; m++) {
      last = created + m * 3 * 3_600_000;
      const fromPatient = m % 2 === 0;
      sink.add('messaging.message', [
        `ms-${id}-${k}-${m}`, thId, fromPatient ? id : p, fromPatient ? 'PATIENT' : 'PRACTITIONER', fromPatient ? `${given} ${family}` : 'Synthetic Care Team',
        fromPatient ? 'I have a question about my care.' : 'Thank you for your message. Here is our answer.', new Date(last).toISOString(), null,
      ]);
    }
    const lastAt = new Date(last).toISOString();
    sink.add('messaging.message_thread', [thId, id, ct, 'Synthetic question', pick(CATEGORIES), 'MHS_GENESIS', new Date(created).toISOString(), lastAt, 'OPEN']);
    // Most threads are read up to their last message; some carry an unread reply; a few are archived.
    const unread = r() < 0.15;
    sink.add('messaging.thread_reader_state', [thId, id, unread ? new Date(created).toISOString() : lastAt, r() < 0.05 ? lastAt : null]);
  }

  // ---- pharmacy: prescriptions with fills; about 3% of patients with a request waiting.
  const rxIds: string[] = [];
  for (let k = 0; k < c.prescriptions; k++) {
    const [code, directions] = pick(MEDICATIONS);
    const writtenDaysAgo = Math.floor(((k + r()) * Math.max(200, c.prescriptions * 15)) / c.prescriptions);
    const written = ago(writtenDaysAgo).slice(0, 10);
    const discontinued = r() < 0.1;
    const authorized = 3 + Math.floor(r() * 3);
    const rxId = `rx-${id}-${k}`;
    rxIds.push(rxId);
    sink.add('pharmacy.prescription', [
      rxId, id, code, directions, 30, 30, authorized, Math.floor(r() * (authorized + 1)), written, addDays(written, 365), discontinued ? 'DISCONTINUED' : 'ACTIVE',
      prac(), null, discontinued ? ago(Math.max(0, writtenDaysAgo - 10)) : null, `${written}T15:00:00.000Z`, ct,
    ]);
    const fills = 1 + Math.floor(r() * 3);
    for (let f = 0; f < fills; f++) sink.add('pharmacy.fill', [`fl-${id}-${k}-${f}`, rxId, addDays(written, f * 30), 30]);
  }
  if (rxIds.length && (r() < 0.03 || i === 0)) {
    const renewal = r() < 0.3;
    sink.add('pharmacy.pharmacy_request', [
      `rq-${id}-0`, rxIds[0], id, renewal ? 'RENEWAL' : 'REFILL', 'PENDING', ago(r() * 20), id, renewal ? 'Please renew.' : null, null, null, null, null, null,
    ]);
  }
  auditRows(plan, i, sink);
}

/** Audit rows per patient and subgraph: a few for most, hundreds for one in a hundred, thousands for patient 0. */
const AUDIT_YEARS = 3;
const AUDIT_SOURCES: { schema: SubgraphSchema; subgraph: string; kinds: readonly string[] }[] = [
  { schema: 'identity', subgraph: 'identity', kinds: ['demographics', 'care_team'] },
  { schema: 'scheduling', subgraph: 'scheduling', kinds: ['appointment'] },
  { schema: 'messaging', subgraph: 'messaging', kinds: ['message_thread', 'message'] },
  { schema: 'pharmacy', subgraph: 'pharmacy', kinds: ['prescription', 'pharmacy_request'] },
  { schema: 'clinical_records', subgraph: 'clinical-records', kinds: ['lab_result', 'visit_note', 'condition'] },
];

/**
 * Patient `i`'s audit trail in each subgraph over AUDIT_YEARS years: mostly
 * the patient's own reads (folded away in the access log by default, so the
 * log's index must skip them), some own changes, reads by the care team's
 * practitioners and a pharmacist, a service now and then, and a refused
 * attempt by a practitioner of another team. Its own random stream, so the
 * rest of the population is the same as without it.
 */
export function auditRows(plan: Plan, i: number, sink: RowSink): void {
  const r = rng(mix(plan.seed, i, 4));
  const id = patientId(i);
  const team = teamOf(plan, i);
  const other = plan.teams[(team.index + 1) % plan.teams.length];
  const ref = Date.parse(`${plan.referenceDay}T12:00:00Z`);
  const span = AUDIT_YEARS * 365 * DAY_MS;
  const perSource = i === 0 ? 5_000 : r() < 0.01 ? 200 + Math.floor(r() * 300) : 2 + Math.floor(r() * 7);
  for (const src of AUDIT_SOURCES) {
    for (let k = 0; k < perSource; k++) {
      const at = new Date(ref - Math.floor(((k + r()) / perSource) * span)).toISOString();
      const kind = src.kinds[Math.floor(r() * src.kinds.length)];
      const roll = r();
      let actor: string = id;
      let role = 'PATIENT';
      let action = 'read';
      let outcome = 'ALLOWED';
      if (roll < 0.85) {
        // The patient's own read.
      } else if (roll < 0.88) {
        action = 'create';
      } else if (roll < 0.97) {
        actor = practitionerId(team.index, Math.floor(r() * team.practitioners));
        role = 'PRACTITIONER';
      } else if (roll < 0.985) {
        actor = pharmacistId(Math.floor(r() * plan.pharmacists));
        role = 'PHARMACIST';
      } else if (roll < 0.995) {
        actor = 'service:reports';
        role = 'SERVICE';
      } else {
        actor = practitionerId(other.index, 0);
        role = 'PRACTITIONER';
        outcome = 'DENIED';
      }
      const account = actor.startsWith('service:') ? actor : practitionerAccountId(actor);
      sink.add(`${src.schema}.audit_event` as TableName, [`au-${id}-${k}`, at, `rq-syn-${i}-${k}`, src.subgraph, account, actor, role, id, kind, action, outcome]);
    }
  }
}
