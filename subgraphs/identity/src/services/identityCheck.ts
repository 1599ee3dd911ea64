import { PortalError, badInput } from '@portal/kit';
import { ErrorCode } from '../errors';
import type { PersonRow } from '../db/entities';

/** What a person tells about themself to prove who they are before they can sign in. */
export interface IdentityDetails {
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  /** The 10-digit DoD ID. */
  personIdentifier: string;
}

const normalized = (name: string) => name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();

/** Names compare case-insensitively; the DoD ID and birth date exactly. */
export function identityMatches(person: PersonRow, d: IdentityDetails): boolean {
  return (
    person.dodId === d.personIdentifier.trim() &&
    person.dateOfBirth === d.dateOfBirth &&
    normalized(person.givenName) === normalized(d.firstName) &&
    normalized(person.familyName) === normalized(d.lastName)
  );
}

/** One answer whichever detail was wrong, so the details cannot be guessed one at a time. */
export const identityNotVerified = () =>
  new PortalError(
    ErrorCode.IDENTITY_NOT_VERIFIED,
    'The details you entered do not match our records. Check your name, date of birth and DoD ID (and DS Logon username and password), or call the DS Logon help desk.',
  );

export function validateDetails(d: IdentityDetails): void {
  if (!d.firstName.trim() || d.firstName.length > 100) throw badInput('Enter your first name.', 'firstName');
  if (!d.lastName.trim() || d.lastName.length > 100) throw badInput('Enter your last name.', 'lastName');
  if (!/^\d{10}$/.test(d.personIdentifier.trim())) throw badInput('The person identifier is your 10-digit DoD ID.', 'personIdentifier');
}
