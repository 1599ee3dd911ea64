import { scalarResolvers } from '@portal/kit';
import type { Resolvers } from '../generated/graphql';
import { CareTeam } from './CareTeam';
import { Message } from './Message';
import { MessageDraft } from './MessageDraft';
import { MessageThread } from './MessageThread';
import { MessageThreadConnection } from './MessageThreadConnection';
import { Mutation } from './Mutation';
import { Patient } from './Patient';
import { Query } from './Query';

// The messaging SDL declares DateTime only.
export const resolvers: Resolvers = { DateTime: scalarResolvers.DateTime, Query, Mutation, MessageThread, MessageThreadConnection, Message, MessageDraft, Patient, CareTeam };
