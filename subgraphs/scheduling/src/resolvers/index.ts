import { scalarResolvers } from '@portal/kit';
import { Appointment } from './Appointment';
import { Clinic } from './Clinic';
import { Patient } from './Patient';
import { Query } from './Query';

export const resolvers = { DateTime: scalarResolvers.DateTime, Query, Clinic, Appointment, Patient };
