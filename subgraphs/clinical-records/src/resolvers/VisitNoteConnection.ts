import type { ClinicalContext } from '../context';
import type { PatientConnectionModel } from './mappers';

export const VisitNoteConnection = {
  totalCount: (c: PatientConnectionModel, _: unknown, ctx: ClinicalContext) => ctx.records.visitNoteCount(c.patientId),
};
