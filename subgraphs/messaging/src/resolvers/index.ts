import { scalarResolvers } from '@portal/kit';
import { CareTeam } from './CareTeam';
import { MessageThread } from './MessageThread';
import { Patient } from './Patient';
import { Query } from './Query';

// The messaging SDL declares DateTime only.
export const resolvers = { DateTime: scalarResolvers.DateTime, Query, MessageThread, Patient, CareTeam };
