import { scalarResolvers } from '@portal/kit';
import type { Resolvers } from '../generated/graphql';
import { Appointment } from './Appointment';
import { AppointmentConnection } from './AppointmentConnection';
import { Clinic } from './Clinic';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { Practitioner } from './Practitioner';
import { Query } from './Query';
import { Slot } from './Slot';

export const resolvers: Resolvers = { DateTime: scalarResolvers.DateTime, Query, Mutation, Clinic, Slot, Appointment, AppointmentConnection, Patient, Practitioner };
