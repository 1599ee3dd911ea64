import { badInput } from '@portal/kit';
import type { CodeSystem, HealthTopicRow } from '../db/entities';
import type { ClinicalStore } from '../db/store';
import { codeKey, type ClinicalLoaders } from '../loaders';

export const MAX_SEARCH_LENGTH = 100;
export const MAX_TOPICS = 50;

/**
 * The health-information library: provider-approved topics, public to
 * everyone (no sign-in, no audit), since they hold no one's health data.
 */
export class LibraryService {
  constructor(
    private readonly store: ClinicalStore,
    private readonly loaders: ClinicalLoaders,
  ) {}

  /** Case-insensitive match on title or summary; every topic (up to the cap) for an empty search. */
  search(search: string | null | undefined): Promise<HealthTopicRow[]> {
    if (search != null && search.length > MAX_SEARCH_LENGTH) {
      throw badInput(`search is at most ${MAX_SEARCH_LENGTH} characters.`, 'search');
    }
    return this.store.searchTopics((search ?? '').trim().toLowerCase(), MAX_TOPICS);
  }

  /** Topics linked to one code (a LOINC test, an ICD-10 condition, an RxNorm medication). */
  topicsFor(system: CodeSystem, code: string): Promise<HealthTopicRow[]> {
    return this.loaders.topicsByCode.load(codeKey(system, code));
  }
}
