import { scalarResolvers } from '@portal/kit';
import type { Resolvers } from '../generated/graphql';
import { Medication } from './Medication';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { PharmacyRequest } from './PharmacyRequest';
import { Prescription } from './Prescription';
import { Query } from './Query';

export const resolvers: Resolvers = { ...scalarResolvers, Query, Mutation, Patient, Prescription, Medication, PharmacyRequest };
