import { scalarResolvers } from '@portal/kit';
import { Medication } from './Medication';
import { Patient } from './Patient';
import { PharmacyRequest } from './PharmacyRequest';
import { Prescription } from './Prescription';

export const resolvers = { ...scalarResolvers, Patient, Prescription, Medication, PharmacyRequest };
