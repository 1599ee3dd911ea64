import type { SignInMethod, Viewer } from '@portal/kit';
import type { AccountRow, AffiliationRow, PersonRow, PivCardRow, ProxyGrantRow } from '../db/entities';
import type { ProxyForEntry } from '../services/proxies';
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

/** `proxyName` and `active` are resolved in ProxyGrant.ts: they need the proxy's person row and today's date. */
export const toProxyGrant = (g: ProxyGrantRow) => ({
  id: g.id,
  proxyPersonId: g.proxyPersonId,
  scopes: g.scopes.split(' ') as ProxyForEntry['scopes'],
  endsOn: g.endsOn,
  createdAt: new Date(g.createdAt),
  revokedAt: g.revokedAt ? new Date(g.revokedAt) : null,
  row: g,
});

export const toProxyAccess = (e: ProxyForEntry) => ({
  patient: toPatient(e.patient),
  relationship: e.relationship,
  scopes: e.scopes,
  sensitiveHidden: e.hideSensitive,
  endsOn: e.endsOn,
});

export type ProxyGrantModel = ReturnType<typeof toProxyGrant>;
export type ProxyAccessModel = ReturnType<typeof toProxyAccess>;
export type AccountModel = ReturnType<typeof toAccount>;
export type PatientModel = ReturnType<typeof toPatient>;
export type PractitionerModel = ReturnType<typeof toPractitioner>;

/** The parent of Me's fields: who is signed in. */
export type MeModel = { viewer: Viewer };
/**
 * The viewer's session. `method` is the token's: never SERVICE here, since
 * `Query.me` answers null to a service token.
 */
export type SessionModel = { method: SignInMethod; expiresAt: Date };
/** Organization and status are stored as text; the schema's enums check them on the way out. */
export type AffiliationModel = ReturnType<typeof toAffiliation>;
