import { createHash } from 'node:crypto';
import type { Reference } from 'fhir/r4';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Whether `id` is a valid FHIR id: 1 to 64 of A-Z a-z 0-9 - and `.`. */
export const isFhirId = (id: string) => FHIR_ID.test(id);

/**
 * The portal's id when FHIR accepts it as is (every id the portal writes today
 * does), otherwise a stable digest of it: the same record keeps the same id
 * from one download to the next, and references stay consistent.
 */
export function fhirId(raw: string): string {
  if (isFhirId(raw)) return raw;
  return `x${createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, 63)}`;
}

/** A relative literal reference, `Type/id`, resolved against the bundle's fullUrls. */
export function ref(type: string, rawId: string, display?: string): Reference {
  return { reference: `${type}/${fhirId(rawId)}`, ...(display ? { display } : {}) };
}
