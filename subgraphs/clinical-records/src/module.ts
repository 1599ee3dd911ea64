import type { SubgraphModule } from '@portal/kit';
import { createContext, type ClinicalContext } from './context';
import { entities } from './db/entities';
import { CreateClinicalRecords1764000000500 } from './db/migrations/1764000000500-CreateClinicalRecords';
import { AddClinicalCodes1764000000501 } from './db/migrations/1764000000501-AddClinicalCodes';
import { RecordSensitivity1764000000502 } from './db/migrations/1764000000502-RecordSensitivity';
import { resolvers } from './resolvers';
import { typeDefs } from './schema';

/**
 * Clinical records: visit notes, lab results, conditions, allergies,
 * immunizations, vitals and the health-information library. Tokens are
 * verified against identity's JWKS and care access is asked of identity
 * (the kit's defaults).
 */
export function createClinicalRecordsModule(): SubgraphModule<ClinicalContext> {
  return {
    name: 'clinical-records',
    typeDefs,
    resolvers,
    entities,
    migrations: [CreateClinicalRecords1764000000500, AddClinicalCodes1764000000501, RecordSensitivity1764000000502],
    createContext,
  };
}
