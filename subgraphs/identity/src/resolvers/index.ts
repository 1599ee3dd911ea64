import { scalarResolvers } from '@portal/kit';
import { Account } from './Account';
import { CareTeam } from './CareTeam';
import { Me } from './Me';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { Practitioner } from './Practitioner';
import { Query } from './Query';

export const resolvers = { ...scalarResolvers, Query, Mutation, Me, Account, Patient, Practitioner, CareTeam };
