import type { AccountRow, AffiliationRow, PersonRow } from '../db/entities';

/** Storage rows never reach GraphQL as they are: these shape what the schema promises. */
export const toPatient = (p: PersonRow) => ({
  id: p.id,
  dodId: p.dodId,
  name: { given: p.givenName, family: p.familyName },
  dateOfBirth: p.dateOfBirth,
});

export const toPractitioner = (p: PersonRow) => ({
  id: p.id,
  name: { given: p.givenName, family: p.familyName },
  specialty: p.specialty ?? 'UNSPECIFIED',
});

export const toAffiliation = (a: AffiliationRow) => ({
  organization: a.organization,
  status: a.status,
  startDate: a.startDate,
  endDate: a.endDate,
});

export const toAccount = (a: AccountRow, locked = false) => ({
  id: a.id,
  username: a.username,
  status: a.status === 'DEACTIVATED' ? 'DEACTIVATED' : locked ? 'LOCKED' : 'ACTIVE',
  // Every person in the registry has an EDIPI on a common access card.
  signInMethods: [...(a.username ? ['DS_LOGON'] : []), 'CAC'],
});

export type PatientModel = ReturnType<typeof toPatient>;
export type PractitionerModel = ReturnType<typeof toPractitioner>;
