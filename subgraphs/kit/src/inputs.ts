/**
 * The checks every subgraph applies to the ids and idempotency keys it is
 * given: one rule each, so that an input one subgraph refuses is refused by
 * all, always as BAD_USER_INPUT naming the field.
 */
import { badInput } from './errors';

/** Ids are varchar(64) everywhere in the portal. */
export const ID_MAX = 64;
export const IDEMPOTENCY_KEY_MAX = 100;

// The portal's ids are a prefix and a name (`pt-1000000001`, `sl-fh-2026-05-04-0900`) or a
// UUID: letters, digits, '-' and '_', starting with a letter or digit. Nothing else can name a
// stored row, so anything else (blanks, quotes, slashes, NUL) is refused before a query runs.
const ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${ID_MAX - 1}}$`);

// Printable ASCII, space to '~': the characters of an Idempotency-Key header value
// (draft-ietf-httpapi-idempotency-key-header, an sf-string). It leaves out NUL, which
// PostgreSQL text cannot hold, and every other control character.
const IDEMPOTENCY_KEY = new RegExp(`^[\\x20-\\x7e]{1,${IDEMPOTENCY_KEY_MAX}}$`);

/** An id given in an input: letters, digits, '-' and '_', at most 64, not starting with '-' or '_'. */
export function parseId(value: string, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw badInput(`${field} is not a valid id.`, field);
  return value;
}

/** An opaque retry key, 1 to 100 printable ASCII characters, compared exactly; null when not given. */
export function parseIdempotencyKey(value: string | null | undefined, field = 'idempotencyKey'): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    throw badInput(`An idempotency key has 1 to ${IDEMPOTENCY_KEY_MAX} printable ASCII characters (space to '~').`, field);
  }
  return value;
}
