import { scalarResolvers } from '@portal/kit';
import type { Resolvers } from '../generated/graphql';
import { Account } from './Account';
import { CareTeam } from './CareTeam';
import { Me } from './Me';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { Practitioner } from './Practitioner';
import { ProxyAuthor } from './ProxyAuthor';
import { ProxyGrant } from './ProxyGrant';
import { Query } from './Query';

export const resolvers: Resolvers = { ...scalarResolvers, Query, Mutation, Me, Account, Patient, Practitioner, CareTeam, ProxyGrant, ProxyAuthor };
