import type { ErrorCodeRegistry } from '@portal/kit';
import type { SubgraphName } from '@portal/gateway';
import { identityErrors } from '@portal/identity';
import { schedulingErrors } from '@portal/scheduling';
import { messagingErrors } from '@portal/messaging';
import { pharmacyErrors } from '@portal/pharmacy';

/**
 * Each subgraph's own error codes (declared in its `src/errors.ts`), in the
 * gateway's subgraph order; null for a subgraph that raises only the kit's
 * generic codes. README's "Error codes" list and the gateway's list of codes
 * it passes on are generated from it (`npm run docs:error-codes`).
 */
export const SUBGRAPH_ERROR_REGISTRIES: Record<SubgraphName, ErrorCodeRegistry | null> = {
  identity: identityErrors,
  scheduling: schedulingErrors,
  messaging: messagingErrors,
  pharmacy: pharmacyErrors,
  'clinical-records': null,
};
