import { In, LessThan, MoreThanOrEqual, type DataSource, type FindOptionsWhere } from 'typeorm';
import {
  FillEntity,
  MedicationEntity,
  PharmacyRequestEntity,
  PrescriptionEntity,
  type FillRow,
  type MedicationRow,
  type PharmacyRequestRow,
  type PrescriptionRow,
} from './entities';

/** The status filter of Patient.prescriptions; EXPIRED and ACTIVE depend on today's date. */
export type PrescriptionFilter = 'ACTIVE' | 'EXPIRED' | 'DISCONTINUED' | null;

/** Every SQL statement of the pharmacy subgraph. Each read takes many keys, one statement for all. */
export class PharmacyStore {
  constructor(private readonly db: DataSource) {}

  medicationsByCodes(codes: readonly string[]): Promise<MedicationRow[]> {
    if (codes.length === 0) return Promise.resolve([]);
    return this.db.getRepository(MedicationEntity).findBy({ rxnormCode: In([...codes]) });
  }

  prescriptionsByIds(ids: readonly string[]): Promise<PrescriptionRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.getRepository(PrescriptionEntity).findBy({ id: In([...ids]) });
  }

  /** The patients' prescriptions, newest written first, in one statement. */
  prescriptionsOfPatients(patientIds: readonly string[], filter: PrescriptionFilter, today: string): Promise<PrescriptionRow[]> {
    if (patientIds.length === 0) return Promise.resolve([]);
    const where: FindOptionsWhere<PrescriptionRow> = { patientId: In([...patientIds]) };
    if (filter === 'DISCONTINUED') where.status = 'DISCONTINUED';
    if (filter === 'ACTIVE') Object.assign(where, { status: 'ACTIVE', expiresOn: MoreThanOrEqual(today) });
    if (filter === 'EXPIRED') Object.assign(where, { status: 'ACTIVE', expiresOn: LessThan(today) });
    return this.db.getRepository(PrescriptionEntity).find({ where, order: { writtenOn: 'DESC', id: 'DESC' } });
  }

  /** Prescriptions created by renewing one of `ids`. */
  renewalsOf(ids: readonly string[]): Promise<PrescriptionRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.getRepository(PrescriptionEntity).findBy({ renewedFromId: In([...ids]) });
  }

  /** Fills of the prescriptions, newest first. */
  fillsOf(prescriptionIds: readonly string[]): Promise<FillRow[]> {
    if (prescriptionIds.length === 0) return Promise.resolve([]);
    return this.db.getRepository(FillEntity).find({
      where: { prescriptionId: In([...prescriptionIds]) },
      order: { filledOn: 'DESC', id: 'DESC' },
    });
  }

  /** Requests of the prescriptions still waiting for staff, newest first. */
  pendingRequestsOf(prescriptionIds: readonly string[]): Promise<PharmacyRequestRow[]> {
    if (prescriptionIds.length === 0) return Promise.resolve([]);
    return this.db.getRepository(PharmacyRequestEntity).find({
      where: { prescriptionId: In([...prescriptionIds]), status: 'PENDING' },
      order: { requestedAt: 'DESC', id: 'DESC' },
    });
  }

  requestsByIds(ids: readonly string[]): Promise<PharmacyRequestRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.getRepository(PharmacyRequestEntity).findBy({ id: In([...ids]) });
  }
}
