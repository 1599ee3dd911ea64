import { scalarResolvers } from '@portal/kit';
import { CareTeam } from './CareTeam';
import { Me } from './Me';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { Practitioner } from './Practitioner';
import { Query } from './Query';

export const resolvers = { ...scalarResolvers, Query, Mutation, Me, Patient, Practitioner, CareTeam };
