import type { ClinicalContext } from '../context';
import { toHealthTopic } from './mappers';

export const Query = {
  async healthTopics(_: unknown, { search }: { search?: string | null }, ctx: ClinicalContext) {
    return (await ctx.library.search(search)).map(toHealthTopic);
  },
};
