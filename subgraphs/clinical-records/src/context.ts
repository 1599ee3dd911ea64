import type { SubgraphContext } from '@portal/kit';
import { ClinicalStore } from './db/store';
import { createLoaders, type ClinicalLoaders } from './loaders';
import { LibraryService } from './services/library';
import { RecordsService } from './services/records';

export interface ClinicalContext extends SubgraphContext {
  loaders: ClinicalLoaders;
  records: RecordsService;
  library: LibraryService;
}

export function createContext(base: SubgraphContext): ClinicalContext {
  const store = new ClinicalStore(base.db);
  const loaders = createLoaders(store, (patientId) => base.access.hidesSensitive(patientId));
  return {
    ...base,
    loaders,
    records: new RecordsService(base.access, loaders),
    library: new LibraryService(store, loaders),
  };
}
