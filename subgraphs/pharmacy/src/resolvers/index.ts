import { scalarResolvers } from '@portal/kit';
import { Medication } from './Medication';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { PharmacyRequest } from './PharmacyRequest';
import { Prescription } from './Prescription';
import { Query } from './Query';

export const resolvers = { ...scalarResolvers, Query, Mutation, Patient, Prescription, Medication, PharmacyRequest };
