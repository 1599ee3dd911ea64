import type { ClinicalContext } from '../context';
import type { PatientConnectionModel } from './mappers';

export const VitalConnection = {
  totalCount: (c: PatientConnectionModel, _: unknown, ctx: ClinicalContext) => ctx.records.vitalCount(c.patientId),
};
