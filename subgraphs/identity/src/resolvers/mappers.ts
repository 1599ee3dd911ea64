import type { AccountRow, AffiliationRow, PersonRow, PivCardRow } from '../db/entities';
import type { SignInResult } from '../services/signIn';

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

/** `signInMethods` is resolved in Account.ts: it needs the account's PIV cards. */
export const toAccount = (a: AccountRow, locked = false) => ({
  id: a.id,
  username: a.username,
  status: a.status === 'DEACTIVATED' ? 'DEACTIVATED' : locked ? 'LOCKED' : 'ACTIVE',
});

export const toSignInPayload = (r: SignInResult) => ({ accessToken: r.accessToken, expiresAt: r.expiresAt, account: toAccount(r.account) });

export const toPivCard = (c: PivCardRow) => ({ id: c.id, uuid: c.cardUuid, registeredAt: c.registeredAt });

export type AccountModel = ReturnType<typeof toAccount>;
export type PatientModel = ReturnType<typeof toPatient>;
export type PractitionerModel = ReturnType<typeof toPractitioner>;
