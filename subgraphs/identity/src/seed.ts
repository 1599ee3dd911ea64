import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DEMO } from '@portal/demo';
import {
  AccountEntity,
  AffiliationEntity,
  CareTeamEntity,
  CareTeamMemberEntity,
  GuardianLinkEntity,
  PersonEntity,
  type AccountRow,
  type AffiliationRow,
  type PersonRow,
} from './db/entities';
import { hashPassword } from './services/passwords';
import { ensureDevPki } from './smartcard/devPki';

/**
 * The demo cast of contract/README.md, and Jane's children (README.md's demo
 * cast, for proxy access). Idempotent: does nothing when already
 * seeded. Given DATA_DIR, it also writes the development PKI there when
 * missing: a dev CA and the cast's smart cards (see smartcard/devPki.ts).
 */
export async function seedDemo(db: DataSource, now = new Date(), dataDir?: string): Promise<void> {
  if (dataDir) await ensureDevPki(dataDir);
  await seedClinicPractitioners(db, now);
  await seedAdults(db, now);
  await seedChildren(db, now);
}

/** Jane, John, Alex and Sam with their accounts, and the two demo care teams. */
async function seedAdults(db: DataSource, now: Date): Promise<void> {
  if (await db.getRepository(PersonEntity).findOneBy({ id: DEMO.jane })) return;
  const people: PersonRow[] = [
    { id: DEMO.jane, kind: 'PATIENT', dodId: '1000000001', givenName: 'Jane', middleName: 'A', familyName: 'Doe', dateOfBirth: '1990-04-12', specialty: null },
    { id: DEMO.john, kind: 'PATIENT', dodId: '1000000002', givenName: 'John', middleName: 'B', familyName: 'Roe', dateOfBirth: '1982-09-03', specialty: null },
    { id: DEMO.alex, kind: 'PRACTITIONER', dodId: '2000000001', givenName: 'Alex', middleName: null, familyName: 'Kim', dateOfBirth: '1978-02-20', specialty: 'PRIMARY_CARE_PHYSICIAN' },
    { id: DEMO.sam, kind: 'PRACTITIONER', dodId: '2000000002', givenName: 'Sam', middleName: null, familyName: 'Lee', dateOfBirth: '1985-11-30', specialty: 'PHARMACIST' },
  ];
  const affiliations: AffiliationRow[] = [
    { id: 'af-jane-dod', personId: DEMO.jane, organization: 'DOD', status: 'ACTIVE_DUTY', startDate: '2012-06-01', endDate: null },
    { id: 'af-john-dod', personId: DEMO.john, organization: 'DOD', status: 'ACTIVE_DUTY', startDate: '2004-06-01', endDate: '2012-05-31' },
    { id: 'af-john-va', personId: DEMO.john, organization: 'VA', status: 'VETERAN', startDate: '2012-06-01', endDate: null },
  ];
  const createdAt = now.toISOString();
  const accounts: AccountRow[] = [
    { id: 'ac-jane-doe', personId: DEMO.jane, username: 'jane.doe', passwordHash: await hashPassword('Demo-Password-1'), role: 'PATIENT', status: 'ACTIVE', createdAt, deactivatedAt: null },
    { id: 'ac-john-roe', personId: DEMO.john, username: 'john.roe', passwordHash: await hashPassword('Demo-Password-2'), role: 'PATIENT', status: 'ACTIVE', createdAt, deactivatedAt: null },
    { id: 'ac-alex-kim', personId: DEMO.alex, username: null, passwordHash: null, role: 'PRACTITIONER', status: 'ACTIVE', createdAt, deactivatedAt: null },
    { id: 'ac-sam-lee', personId: DEMO.sam, username: null, passwordHash: null, role: 'PHARMACIST', status: 'ACTIVE', createdAt, deactivatedAt: null },
  ];
  await db.transaction(async (tx) => {
    await tx.getRepository(PersonEntity).insert(people);
    await tx.getRepository(AffiliationEntity).insert(affiliations);
    await tx.getRepository(AccountEntity).insert(accounts);
    await tx.getRepository(CareTeamEntity).insert([
      { id: DEMO.careTeamBlue, name: 'Primary Care Team Blue' },
      { id: DEMO.careTeamGreen, name: 'Behavioral Health Team Green' },
    ]);
    await tx.getRepository(CareTeamMemberEntity).insert([
      { careTeamId: DEMO.careTeamBlue, personId: DEMO.jane },
      { careTeamId: DEMO.careTeamBlue, personId: DEMO.john },
      { careTeamId: DEMO.careTeamBlue, personId: DEMO.alex },
      { careTeamId: DEMO.careTeamGreen, personId: DEMO.jane },
      { careTeamId: DEMO.careTeamGreen, personId: DEMO.riley },
    ]);
  });
}

/** The day `years` years and `months` months before `now` (UTC), YYYY-MM-DD. */
const bornBefore = (now: Date, years: number, months: number) =>
  new Date(Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth() - months, now.getUTCDate())).toISOString().slice(0, 10);

/**
 * Jane's children, for proxy access: Emma, 12 on the seed day (her mother sees
 * everything), and Liam, 15 (sensitive records hidden from his mother). Their
 * ages count from the seed day, so in a database kept for years they grow up:
 * Liam's link gives nothing from his 18th birthday. Dependents on Jane's DoD
 * affiliation and on her care team (Alex treats them); no portal accounts of
 * their own. A step of its own, so databases seeded before they existed get them.
 */
async function seedChildren(db: DataSource, now: Date): Promise<void> {
  if (await db.getRepository(PersonEntity).findOneBy({ id: DEMO.emma })) return;
  const emmaBorn = bornBefore(now, 12, 3);
  const liamBorn = bornBefore(now, 15, 4);
  const createdAt = now.toISOString();
  await db.transaction(async (tx) => {
    await tx.getRepository(PersonEntity).insert([
      { id: DEMO.emma, kind: 'PATIENT', dodId: '1000000003', givenName: 'Emma', middleName: 'C', familyName: 'Doe', dateOfBirth: emmaBorn, specialty: null },
      { id: DEMO.liam, kind: 'PATIENT', dodId: '1000000004', givenName: 'Liam', middleName: 'D', familyName: 'Doe', dateOfBirth: liamBorn, specialty: null },
    ]);
    await tx.getRepository(AffiliationEntity).insert([
      { id: 'af-emma-dod', personId: DEMO.emma, organization: 'DOD', status: 'DEPENDENT', startDate: emmaBorn, endDate: null },
      { id: 'af-liam-dod', personId: DEMO.liam, organization: 'DOD', status: 'DEPENDENT', startDate: liamBorn, endDate: null },
    ]);
    await tx.getRepository(CareTeamMemberEntity).insert([
      { careTeamId: DEMO.careTeamBlue, personId: DEMO.emma },
      { careTeamId: DEMO.careTeamBlue, personId: DEMO.liam },
    ]);
    await tx.getRepository(GuardianLinkEntity).insert([
      { guardianPersonId: DEMO.jane, childPersonId: DEMO.emma, createdAt },
      { guardianPersonId: DEMO.jane, childPersonId: DEMO.liam, createdAt },
    ]);
  });
}

/**
 * The practitioners who staff the demo's other clinics (scheduling seeds their
 * slots). A step of its own, so databases seeded before they existed get them.
 */
async function seedClinicPractitioners(db: DataSource, now: Date): Promise<void> {
  if (await db.getRepository(PersonEntity).findOneBy({ id: DEMO.morgan })) return;
  const createdAt = now.toISOString();
  await db.transaction(async (tx) => {
    await tx.getRepository(PersonEntity).insert([
      { id: DEMO.morgan, kind: 'PRACTITIONER', dodId: '2000000003', givenName: 'Morgan', middleName: null, familyName: 'Diaz', dateOfBirth: '1981-06-14', specialty: 'OPTOMETRIST' },
      { id: DEMO.riley, kind: 'PRACTITIONER', dodId: '2000000004', givenName: 'Riley', middleName: null, familyName: 'Chen', dateOfBirth: '1983-03-08', specialty: 'PSYCHOLOGIST' },
    ]);
    await tx.getRepository(AccountEntity).insert([
      { id: 'ac-morgan-diaz', personId: DEMO.morgan, username: null, passwordHash: null, role: 'PRACTITIONER', status: 'ACTIVE', createdAt, deactivatedAt: null },
      { id: 'ac-riley-chen', personId: DEMO.riley, username: null, passwordHash: null, role: 'PRACTITIONER', status: 'ACTIVE', createdAt, deactivatedAt: null },
    ]);
  });
}

export interface ScalePatient {
  patientId: string;
  /** Rows per list (affiliations here). */
  count: number;
  username?: string;
  password?: string;
}

/**
 * A synthetic patient with `count` rows in each list this subgraph owns,
 * for batching tests and benchmarks. Uses the demo care team and practitioner.
 */
export async function seedScalePatient(db: DataSource, s: ScalePatient): Promise<void> {
  const dodId = String(3000000000 + Math.floor(Math.random() * 999999999)).slice(0, 10);
  await db.transaction(async (tx) => {
    await tx.getRepository(PersonEntity).insert({
      id: s.patientId, kind: 'PATIENT', dodId, givenName: 'Synthetic', middleName: null, familyName: `Patient-${s.patientId.slice(-6)}`, dateOfBirth: '1970-01-01', specialty: null,
    });
    const affs: AffiliationRow[] = [];
    for (let i = 0; i < s.count; i++) {
      const year = 1990 + (i % 30);
      affs.push({ id: randomUUID(), personId: s.patientId, organization: i % 2 ? 'VA' : 'DOD', status: i % 2 ? 'VETERAN' : 'RESERVE', startDate: `${year}-01-${String((i % 28) + 1).padStart(2, '0')}`, endDate: null });
    }
    for (let i = 0; i < affs.length; i += 200) await tx.getRepository(AffiliationEntity).insert(affs.slice(i, i + 200));
    if (s.username && s.password) {
      await tx.getRepository(AccountEntity).insert({
        id: `ac-${s.patientId}`, personId: s.patientId, username: s.username, passwordHash: await hashPassword(s.password), role: 'PATIENT', status: 'ACTIVE', createdAt: new Date().toISOString(), deactivatedAt: null,
      });
    }
    await tx.getRepository(CareTeamMemberEntity).insert({ careTeamId: DEMO.careTeamBlue, personId: s.patientId });
  });
}
