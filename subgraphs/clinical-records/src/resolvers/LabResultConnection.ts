import type { ClinicalContext } from '../context';
import type { PatientConnectionModel } from './mappers';

export const LabResultConnection = {
  totalCount: (c: PatientConnectionModel, _: unknown, ctx: ClinicalContext) => ctx.records.labResultCount(c.patientId),
};
