import { randomUUID } from 'node:crypto';
import { In, IsNull, type DataSource, type EntityManager } from 'typeorm';
import { DEMO } from '@portal/demo';
import { addDays } from './dates';
import {
  FillEntity,
  MedicationEntity,
  PharmacyRequestEntity,
  PrescriptionEntity,
  type FillRow,
  type MedicationRow,
  type PharmacyRequestRow,
  type PrescriptionRow,
} from './db/entities';

/** RxNorm codes of the demo formulary. */
export const RXNORM = {
  lisinopril: '314076',
  metformin: '861007',
  atorvastatin: '617312',
  albuterol: '745679',
  amoxicillin: '308191',
} as const;

const MEDICATIONS: MedicationRow[] = [
  { rxnormCode: RXNORM.lisinopril, name: 'Lisinopril', strength: '10 mg', form: 'tablet' },
  { rxnormCode: RXNORM.metformin, name: 'Metformin', strength: '500 mg', form: 'tablet' },
  { rxnormCode: RXNORM.atorvastatin, name: 'Atorvastatin', strength: '20 mg', form: 'tablet' },
  { rxnormCode: RXNORM.albuterol, name: 'Albuterol', strength: '90 mcg/actuation', form: 'inhaler' },
  { rxnormCode: RXNORM.amoxicillin, name: 'Amoxicillin', strength: '500 mg', form: 'capsule' },
];

const DIRECTIONS: Record<string, string> = {
  [RXNORM.lisinopril]: 'Take 1 tablet by mouth once daily.',
  [RXNORM.metformin]: 'Take 1 tablet by mouth twice daily with meals.',
  [RXNORM.atorvastatin]: 'Take 1 tablet by mouth once daily at bedtime.',
  [RXNORM.albuterol]: 'Inhale 2 puffs by mouth every 4 to 6 hours as needed for wheezing.',
  [RXNORM.amoxicillin]: 'Take 1 capsule by mouth three times daily for 10 days.',
};

/** Adds the formulary rows that are missing; safe to call again. */
async function ensureMedications(tx: EntityManager): Promise<void> {
  await tx.createQueryBuilder().insert().into(MedicationEntity).values(MEDICATIONS).orIgnore().execute();
}

interface RxSpec {
  id: string;
  patientId: string;
  code: string;
  quantity: number;
  daysSupply: number;
  refillsAuthorized: number;
  refillsRemaining: number;
  writtenDaysAgo: number;
  /** Days from `now` to the expiry date (negative: already expired). */
  expiresInDays: number;
  discontinuedDaysAgo?: number;
  renewedFromId?: string;
}

function prescription(s: RxSpec, now: Date): PrescriptionRow {
  return {
    id: s.id,
    patientId: s.patientId,
    medicationCode: s.code,
    directions: DIRECTIONS[s.code],
    quantity: s.quantity,
    daysSupply: s.daysSupply,
    refillsAuthorized: s.refillsAuthorized,
    refillsRemaining: s.refillsRemaining,
    writtenOn: addDays(now, -s.writtenDaysAgo),
    expiresOn: addDays(now, s.expiresInDays),
    status: s.discontinuedDaysAgo === undefined ? 'ACTIVE' : 'DISCONTINUED',
    prescriberId: DEMO.alex,
    renewedFromId: s.renewedFromId ?? null,
    discontinuedAt: s.discontinuedDaysAgo === undefined ? null : new Date(now.getTime() - s.discontinuedDaysAgo * 86_400_000).toISOString(),
    createdAt: new Date(now.getTime() - s.writtenDaysAgo * 86_400_000).toISOString(),
    // The demo cast are all patients of Primary Care Team Blue, where Alex Kim wrote these.
    careTeamId: DEMO.careTeamBlue,
  };
}

const daysAgoIso = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();

/**
 * The demo cast's prescriptions (contract/README.md), relative to `now`.
 * Jane: a prescription with refills left, one with none left, one expired 30
 * days ago, and an old course. John: a renewed inhaler, a discontinued
 * prescription, and one awaiting renewal so staff have a queue.
 * Idempotent: does nothing when already seeded.
 */
export async function seedDemo(db: DataSource, now: Date = new Date()): Promise<void> {
  // Added later than Jane's: a database seeded before gets them on its next run.
  if (!(await db.getRepository(PrescriptionEntity).findOneBy({ id: 'rx-emma-albuterol' }))) await seedChildren(db, now);
  if (await db.getRepository(PrescriptionEntity).findOneBy({ id: 'rx-jane-lisinopril' })) {
    // A database seeded before prescriptions named their care team gets the demo cast's.
    await db.getRepository(PrescriptionEntity).update({ patientId: In([DEMO.jane, DEMO.john]), careTeamId: IsNull() }, { careTeamId: DEMO.careTeamBlue });
    return;
  }
  const specs: RxSpec[] = [
    // Jane Doe
    { id: 'rx-jane-lisinopril', patientId: DEMO.jane, code: RXNORM.lisinopril, quantity: 30, daysSupply: 30, refillsAuthorized: 5, refillsRemaining: 3, writtenDaysAgo: 60, expiresInDays: 305 },
    { id: 'rx-jane-metformin', patientId: DEMO.jane, code: RXNORM.metformin, quantity: 60, daysSupply: 30, refillsAuthorized: 3, refillsRemaining: 0, writtenDaysAgo: 150, expiresInDays: 215 },
    { id: 'rx-jane-atorvastatin', patientId: DEMO.jane, code: RXNORM.atorvastatin, quantity: 30, daysSupply: 30, refillsAuthorized: 11, refillsRemaining: 1, writtenDaysAgo: 395, expiresInDays: -30 },
    { id: 'rx-jane-amoxicillin', patientId: DEMO.jane, code: RXNORM.amoxicillin, quantity: 30, daysSupply: 10, refillsAuthorized: 0, refillsRemaining: 0, writtenDaysAgo: 740, expiresInDays: -730 },
    // John Roe: the old inhaler was renewed into the current one.
    { id: 'rx-john-albuterol-1', patientId: DEMO.john, code: RXNORM.albuterol, quantity: 1, daysSupply: 30, refillsAuthorized: 5, refillsRemaining: 0, writtenDaysAgo: 405, expiresInDays: -40 },
    { id: 'rx-john-albuterol-2', patientId: DEMO.john, code: RXNORM.albuterol, quantity: 1, daysSupply: 30, refillsAuthorized: 5, refillsRemaining: 4, writtenDaysAgo: 38, expiresInDays: 327, renewedFromId: 'rx-john-albuterol-1' },
    { id: 'rx-john-lisinopril', patientId: DEMO.john, code: RXNORM.lisinopril, quantity: 30, daysSupply: 30, refillsAuthorized: 5, refillsRemaining: 4, writtenDaysAgo: 200, expiresInDays: 165, discontinuedDaysAgo: 100 },
    { id: 'rx-john-atorvastatin', patientId: DEMO.john, code: RXNORM.atorvastatin, quantity: 30, daysSupply: 30, refillsAuthorized: 5, refillsRemaining: 0, writtenDaysAgo: 300, expiresInDays: 65 },
  ];
  const fills: FillRow[] = [
    { id: 'fl-jane-lisinopril-1', prescriptionId: 'rx-jane-lisinopril', filledOn: addDays(now, -60), quantity: 30 },
    { id: 'fl-jane-lisinopril-2', prescriptionId: 'rx-jane-lisinopril', filledOn: addDays(now, -30), quantity: 30 },
    { id: 'fl-jane-metformin-1', prescriptionId: 'rx-jane-metformin', filledOn: addDays(now, -25), quantity: 60 },
    { id: 'fl-jane-atorvastatin-1', prescriptionId: 'rx-jane-atorvastatin', filledOn: addDays(now, -75), quantity: 30 },
    { id: 'fl-jane-amoxicillin-1', prescriptionId: 'rx-jane-amoxicillin', filledOn: addDays(now, -740), quantity: 30 },
    { id: 'fl-john-albuterol-1', prescriptionId: 'rx-john-albuterol-1', filledOn: addDays(now, -100), quantity: 1 },
    { id: 'fl-john-albuterol-2', prescriptionId: 'rx-john-albuterol-2', filledOn: addDays(now, -37), quantity: 1 },
    { id: 'fl-john-atorvastatin-1', prescriptionId: 'rx-john-atorvastatin', filledOn: addDays(now, -20), quantity: 30 },
  ];
  const requests: PharmacyRequestRow[] = [
    {
      id: 'rq-john-albuterol-renewal', prescriptionId: 'rx-john-albuterol-1', patientId: DEMO.john, kind: 'RENEWAL', status: 'APPROVED',
      requestedAt: daysAgoIso(now, 39), requestedBy: DEMO.john, note: 'My inhaler prescription ran out.',
      decidedAt: daysAgoIso(now, 38), decidedBy: DEMO.sam, decisionNote: 'Renewed for one year.', newPrescriptionId: 'rx-john-albuterol-2', idempotencyKey: null,
    },
    {
      id: 'rq-john-atorvastatin-renewal', prescriptionId: 'rx-john-atorvastatin', patientId: DEMO.john, kind: 'RENEWAL', status: 'PENDING',
      requestedAt: daysAgoIso(now, 2), requestedBy: DEMO.john, note: 'Down to my last week of tablets.',
      decidedAt: null, decidedBy: null, decisionNote: null, newPrescriptionId: null, idempotencyKey: null,
    },
  ];
  await db.transaction(async (tx) => {
    await ensureMedications(tx);
    // Renewed-from rows first: the self-reference is a foreign key.
    await tx.getRepository(PrescriptionEntity).insert(specs.map((s) => prescription(s, now)));
    await tx.getRepository(FillEntity).insert(fills);
    await tx.getRepository(PharmacyRequestEntity).insert(requests);
  });
}

/**
 * Jane's children, whose prescriptions Jane sees and asks refills of as their
 * parent (proxy access): Emma (12) a rescue inhaler with refills left, Liam
 * (15) an antibiotic course that is finished.
 */
async function seedChildren(db: DataSource, now: Date): Promise<void> {
  const specs: RxSpec[] = [
    { id: 'rx-emma-albuterol', patientId: DEMO.emma, code: RXNORM.albuterol, quantity: 1, daysSupply: 30, refillsAuthorized: 3, refillsRemaining: 2, writtenDaysAgo: 45, expiresInDays: 320 },
    { id: 'rx-liam-amoxicillin', patientId: DEMO.liam, code: RXNORM.amoxicillin, quantity: 30, daysSupply: 10, refillsAuthorized: 0, refillsRemaining: 0, writtenDaysAgo: 60, expiresInDays: 305 },
  ];
  const fills: FillRow[] = [
    { id: 'fl-emma-albuterol-1', prescriptionId: 'rx-emma-albuterol', filledOn: addDays(now, -45), quantity: 1 },
    { id: 'fl-liam-amoxicillin-1', prescriptionId: 'rx-liam-amoxicillin', filledOn: addDays(now, -60), quantity: 30 },
  ];
  await db.transaction(async (tx) => {
    await ensureMedications(tx);
    await tx.getRepository(PrescriptionEntity).insert(specs.map((s) => prescription(s, now)));
    await tx.getRepository(FillEntity).insert(fills);
  });
}

export interface ScalePatient {
  patientId: string;
  /** Prescriptions of the patient; each gets two fills, every other one renews the next, every third has a refill pending. */
  count: number;
}

/**
 * A synthetic patient with `count` prescriptions (with fills, renewals and
 * pending requests), for batching tests and benchmarks. Prescribed by Alex Kim.
 */
export async function seedScalePatient(db: DataSource, s: ScalePatient, now: Date = new Date()): Promise<void> {
  const ids = Array.from({ length: s.count }, () => randomUUID());
  const rows: PrescriptionRow[] = [];
  const fills: FillRow[] = [];
  const requests: PharmacyRequestRow[] = [];
  const medications = MEDICATIONS.map((m) => m.rxnormCode);
  for (let i = 0; i < s.count; i++) {
    const code = medications[i % medications.length];
    const writtenDaysAgo = 2 * i + 1;
    rows.push(
      prescription(
        {
          id: ids[i],
          patientId: s.patientId,
          code,
          quantity: 30,
          daysSupply: 30,
          refillsAuthorized: 3,
          refillsRemaining: i % 4,
          writtenDaysAgo,
          expiresInDays: i % 5 === 4 ? -(i % 150) - 1 : 365 - writtenDaysAgo,
          discontinuedDaysAgo: i % 7 === 6 ? 1 : undefined,
          // Newer renews older: prescription 0 renewed 1, 2 renewed 3, ...
          renewedFromId: i % 2 === 0 && i + 1 < s.count ? ids[i + 1] : undefined,
        },
        now,
      ),
    );
    for (const back of [0, 30]) {
      fills.push({ id: randomUUID(), prescriptionId: ids[i], filledOn: addDays(now, -writtenDaysAgo - back), quantity: 30 });
    }
    if (i % 3 === 0) {
      requests.push({
        id: randomUUID(), prescriptionId: ids[i], patientId: s.patientId, kind: 'REFILL', status: 'PENDING', requestedAt: daysAgoIso(now, 1), requestedBy: s.patientId,
        note: null, decidedAt: null, decidedBy: null, decisionNote: null, newPrescriptionId: null, idempotencyKey: null,
      });
    }
  }
  await db.transaction(async (tx) => {
    await ensureMedications(tx);
    // Oldest first, so that every renewed-from row exists before the row that points at it.
    const oldestFirst = [...rows].reverse();
    for (let i = 0; i < oldestFirst.length; i += 200) await tx.getRepository(PrescriptionEntity).insert(oldestFirst.slice(i, i + 200));
    for (let i = 0; i < fills.length; i += 200) await tx.getRepository(FillEntity).insert(fills.slice(i, i + 200));
    for (let i = 0; i < requests.length; i += 200) await tx.getRepository(PharmacyRequestEntity).insert(requests.slice(i, i + 200));
  });
}
