import type { SubgraphModule } from '@portal/kit';
import { createContext, type PharmacyContext } from './context';
import { entities } from './db/entities';
import { CreatePharmacy1764000000400 } from './db/migrations/1764000000400-CreatePharmacy';
import { PharmacyWrites1764000000410 } from './db/migrations/1764000000410-PharmacyWrites';
import { PharmacistLookups1764000000420 } from './db/migrations/1764000000420-PharmacistLookups';
import { OutboxDeadLetters1764000000430 } from './db/migrations/1764000000430-OutboxDeadLetters';
import { PendingQueueOrder1764000000440 } from './db/migrations/1764000000440-PendingQueueOrder';
import { PharmacyStore } from './db/store';
import { pharmacyRoutes } from './routes';
import { OutboxWorker } from './outbox/worker';
import { notifierSettings, type NotifierOptions } from './outbox/settings';
import { resolvers } from './resolvers';
import { typeDefs } from './schema';
import { pharmacyErrors } from './errors';

export interface PharmacyOptions {
  /**
   * Where and as whom to post the messages that tell patients of decisions.
   * Left out, this instance delivers nothing: decisions still store their
   * messages in the outbox, for an instance that has a notifier.
   */
  notifier?: NotifierOptions;
}

/**
 * Pharmacy: medications, prescriptions, fills, refill and renewal requests,
 * and the outbox of messages to patients. Tokens are verified against
 * identity's JWKS and care access is asked of identity (the kit's defaults).
 */
export function createPharmacyModule(options: PharmacyOptions = {}): SubgraphModule<PharmacyContext> {
  let worker: OutboxWorker | null = null;
  const notifier = options.notifier;
  return {
    name: 'pharmacy',
    errorCodes: pharmacyErrors,
    typeDefs,
    resolvers,
    entities,
    migrations: [CreatePharmacy1764000000400, PharmacyWrites1764000000410, PharmacistLookups1764000000420, OutboxDeadLetters1764000000430, PendingQueueOrder1764000000440],
    // A pharmacist sees a patient only while a request of theirs is pending (the kit's Access asks this).
    pharmacyAccess: ({ database }) => {
      const store = new PharmacyStore(database.dataSource);
      return (viewer, ids) => (viewer.role === 'PHARMACIST' ? store.patientsWithPendingRequests(ids) : Promise.resolve(new Set()));
    },
    routes: (runtime) => pharmacyRoutes(runtime),
    createContext: (base) => createContext(base, { kickOutbox: () => worker?.kick() }),
    background: notifier
      ? (runtime) => {
          const running = new OutboxWorker(runtime.database.dataSource, notifierSettings(notifier, runtime.config.identityUrl));
          worker = running;
          running.start();
          return {
            stop: async () => {
              if (worker === running) worker = null;
              await running.stop();
            },
          };
        }
      : undefined,
  };
}
