/**
 * Test data builders: prescriptions and requests with unique ids, for tests
 * that need a case the demo cast does not have (or must not disturb).
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DEMO } from '@portal/demo';
import { addDays } from './dates';
import { PharmacyRequestEntity, PrescriptionEntity, type PharmacyRequestRow, type PrescriptionRow } from './db/entities';
import { RXNORM } from './seed';

export const uniqueId = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export function pharmacyFactory(db: DataSource, now: Date = new Date()) {
  return {
    /** An active lisinopril prescription of `patientId` with 2 of 5 refills left, valid 200 more days, unless told otherwise. */
    async prescription(patientId: string, over: Partial<PrescriptionRow> = {}): Promise<PrescriptionRow> {
      const row: PrescriptionRow = {
        id: uniqueId('rx-test'),
        patientId,
        medicationCode: RXNORM.lisinopril,
        directions: 'Take 1 tablet by mouth once daily.',
        quantity: 30,
        daysSupply: 30,
        refillsAuthorized: 5,
        refillsRemaining: 2,
        writtenOn: addDays(now, -100),
        expiresOn: addDays(now, 200),
        status: 'ACTIVE',
        prescriberId: DEMO.alex,
        renewedFromId: null,
        discontinuedAt: null,
        createdAt: new Date(now.getTime() - 100 * 86_400_000).toISOString(),
        careTeamId: DEMO.careTeamBlue,
        ...over,
      };
      await db.getRepository(PrescriptionEntity).insert(row);
      return row;
    },

    /** A PENDING request of the prescription's patient. */
    async request(rx: PrescriptionRow, kind: 'REFILL' | 'RENEWAL', over: Partial<PharmacyRequestRow> = {}): Promise<PharmacyRequestRow> {
      const row: PharmacyRequestRow = {
        id: uniqueId('rq-test'),
        prescriptionId: rx.id,
        patientId: rx.patientId,
        kind,
        status: 'PENDING',
        requestedAt: now.toISOString(),
        requestedBy: rx.patientId,
        note: null,
        decidedAt: null,
        decidedBy: null,
        decisionNote: null,
        newPrescriptionId: null,
        idempotencyKey: null,
        ...over,
      };
      await db.getRepository(PharmacyRequestEntity).insert(row);
      return row;
    },
  };
}

export type PharmacyFactory = ReturnType<typeof pharmacyFactory>;
