import type { SubgraphModule } from '@portal/kit';
import { createContext, type SchedulingContext } from './context';
import { entities } from './db/entities';
import { CreateScheduling1764000000200 } from './db/migrations/1764000000200-CreateScheduling';
import { IndexAppointmentPractitioner1764000000201 } from './db/migrations/1764000000201-IndexAppointmentPractitioner';
import { resolvers } from './resolvers';
import { typeDefs } from './schema';
import { schedulingErrors } from './errors';

/** Scheduling: clinics, slots and appointments. Tokens and care access come from identity. */
export function createSchedulingModule(): SubgraphModule<SchedulingContext> {
  return {
    name: 'scheduling',
    errorCodes: schedulingErrors,
    typeDefs,
    resolvers,
    entities,
    migrations: [CreateScheduling1764000000200, IndexAppointmentPractitioner1764000000201],
    createContext: (base) => createContext(base),
  };
}
