import { scalarResolvers } from '@portal/kit';
import type { Resolvers } from '../generated/graphql';
import { Appointment } from './Appointment';
import { Condition } from './Condition';
import { LabResult } from './LabResult';
import { LabResultConnection } from './LabResultConnection';
import { Medication } from './Medication';
import { Patient } from './Patient';
import { Query } from './Query';
import { VisitNote } from './VisitNote';
import { VisitNoteConnection } from './VisitNoteConnection';
import { VitalConnection } from './VitalConnection';

export const resolvers: Resolvers = {
  ...scalarResolvers,
  Query,
  Patient,
  LabResult,
  LabResultConnection,
  VisitNote,
  VisitNoteConnection,
  VitalConnection,
  Condition,
  Medication,
  Appointment,
};
