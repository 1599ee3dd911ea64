import { EntitySchema } from 'typeorm';
import type { OutboxRowBase } from '@portal/kit';

export type PersonKind = 'PATIENT' | 'PRACTITIONER';
export type AccountRole = 'PATIENT' | 'PRACTITIONER' | 'PHARMACIST' | 'ADMIN';

export interface PersonRow {
  id: string;
  kind: PersonKind;
  dodId: string;
  givenName: string;
  middleName: string | null;
  familyName: string;
  dateOfBirth: string;
  /** Practitioners only: PRIMARY_CARE_PHYSICIAN, PHARMACIST, ... */
  specialty: string | null;
}

export interface AffiliationRow {
  id: string;
  personId: string;
  organization: string;
  status: string;
  startDate: string;
  endDate: string | null;
}

export interface AccountRow {
  id: string;
  personId: string;
  /** Lower-case DS Logon username; null for a smart-card-only account. */
  username: string | null;
  passwordHash: string | null;
  role: AccountRole;
  status: 'ACTIVE' | 'DEACTIVATED';
  createdAt: string;
  deactivatedAt: string | null;
}

export interface SessionRow {
  id: string;
  accountId: string;
  method: string;
  createdAt: string;
  /** The absolute end: the token's own expiry. The idle limit runs from `lastSeenAt`. */
  expiresAt: string;
  endedAt: string | null;
  /** The last request seen, written at most every 30 s (null until the first write). */
  lastSeenAt: string | null;
}

/** A smart-card challenge that has been used: its nonce, kept until the challenge would have expired anyway. */
export interface UsedChallengeRow {
  nonce: string;
  expiresAt: string;
}

export interface PivCardRow {
  id: string;
  /** The lower-case UUID of the card's `urn:uuid:` subject alternative name. */
  cardUuid: string;
  accountId: string;
  /** SHA-256 (base64url) of the certificate registered last; identifies the certificate, not the card. */
  fingerprint: string;
  registeredAt: string;
}

export interface ServiceClientRow {
  clientId: string;
  secretHash: string;
  /** Space-separated, e.g. `scheduling:read identity:read`. */
  scopes: string;
  createdAt: string;
  disabledAt: string | null;
}

export interface CareTeamRow {
  id: string;
  name: string;
}

export interface CareTeamMemberRow {
  careTeamId: string;
  personId: string;
}

export interface SignInThrottleRow {
  usernameKey: string;
  failures: number;
  lockedUntil: string | null;
}

/** One row of identity's own audit trail: who signed in or changed a credential, how, from where, with what outcome. Never a password or health data. */
export interface IdentityAuditRow {
  id: string;
  occurredAt: string;
  requestId: string;
  event: string;
  /** DS_LOGON, CAC, PIV or SERVICE, where the event is a sign-in or token. */
  method: string | null;
  /** OK, or the error code the caller got (INVALID_CREDENTIALS, ACCOUNT_LOCKED, ...). */
  outcome: string;
  /** The account the event is about, when known (`service:<client>` for a service token). */
  accountId: string | null;
  personId: string | null;
  actorAccountId: string | null;
  actorRole: string;
  clientAddress: string | null;
  /** A credential kind, card UUID, lock-out delay or client id: never a secret. */
  detail: string | null;
}

/**
 * A message to a holder that a credential of theirs was added or removed, or to a grantor and a proxy that
 * a proxy grant was given or revoked, delivered through messaging.
 * The delivery columns (attempts, refusals, next attempt, delivered, dead, last error) are the kit's
 * `OutboxRowBase`; at OUTBOX_MAX_REFUSALS permanent refusals a notice is dead, kept for operators until purged.
 */
export interface NoticeRow extends OutboxRowBase {
  personId: string;
  accountId: string;
  kind: string;
  subject: string;
  body: string;
  leaseBy: string | null;
  leaseUntil: string | null;
}

/** A parent's or legal guardian's link to a child: what it gives depends on the child's age on the day asked. */
export interface GuardianLinkRow {
  guardianPersonId: string;
  childPersonId: string;
  createdAt: string;
}

/** An adult patient's grant to a caregiver: chosen scopes until `endsOn` (inclusive) or revocation. */
export interface ProxyGrantRow {
  id: string;
  grantorPersonId: string;
  proxyPersonId: string;
  /** Space-separated ProxyScope names. */
  scopes: string;
  /** YYYY-MM-DD, the last day of access. */
  endsOn: string;
  createdAt: string;
  revokedAt: string | null;
}

const varchar = (length: number, extra: object = {}) => ({ type: 'varchar' as const, length, ...extra });

export const PersonEntity = new EntitySchema<PersonRow>({
  name: 'Person',
  tableName: 'person',
  columns: {
    id: varchar(64, { primary: true }),
    kind: varchar(16),
    dodId: varchar(10, { name: 'dod_id', unique: true }),
    givenName: varchar(100, { name: 'given_name' }),
    middleName: varchar(100, { name: 'middle_name', nullable: true }),
    familyName: varchar(100, { name: 'family_name' }),
    dateOfBirth: varchar(10, { name: 'date_of_birth' }),
    specialty: varchar(64, { nullable: true }),
  },
});

export const AffiliationEntity = new EntitySchema<AffiliationRow>({
  name: 'Affiliation',
  tableName: 'affiliation',
  columns: {
    id: varchar(64, { primary: true }),
    personId: varchar(64, { name: 'person_id' }),
    organization: varchar(8),
    status: varchar(24),
    startDate: varchar(10, { name: 'start_date' }),
    endDate: varchar(10, { name: 'end_date', nullable: true }),
  },
});

export const AccountEntity = new EntitySchema<AccountRow>({
  name: 'Account',
  tableName: 'account',
  columns: {
    id: varchar(64, { primary: true }),
    personId: varchar(64, { name: 'person_id' }),
    username: varchar(64, { nullable: true }),
    passwordHash: varchar(255, { name: 'password_hash', nullable: true }),
    role: varchar(16),
    status: varchar(16),
    createdAt: varchar(32, { name: 'created_at' }),
    deactivatedAt: varchar(32, { name: 'deactivated_at', nullable: true }),
  },
});

export const SessionEntity = new EntitySchema<SessionRow>({
  name: 'Session',
  tableName: 'session',
  columns: {
    id: varchar(64, { primary: true }),
    accountId: varchar(64, { name: 'account_id' }),
    method: varchar(16),
    createdAt: varchar(32, { name: 'created_at' }),
    expiresAt: varchar(32, { name: 'expires_at' }),
    endedAt: varchar(32, { name: 'ended_at', nullable: true }),
    lastSeenAt: varchar(32, { name: 'last_seen_at', nullable: true }),
  },
});

export const UsedChallengeEntity = new EntitySchema<UsedChallengeRow>({
  name: 'UsedChallenge',
  tableName: 'smartcard_challenge_used',
  columns: {
    nonce: varchar(64, { primary: true }),
    expiresAt: varchar(32, { name: 'expires_at' }),
  },
});

export const PivCardEntity = new EntitySchema<PivCardRow>({
  name: 'PivCard',
  tableName: 'piv_card',
  columns: {
    id: varchar(64, { primary: true }),
    cardUuid: varchar(36, { name: 'card_uuid', unique: true }),
    accountId: varchar(64, { name: 'account_id' }),
    fingerprint: varchar(64),
    registeredAt: varchar(32, { name: 'registered_at' }),
  },
});

export const ServiceClientEntity = new EntitySchema<ServiceClientRow>({
  name: 'ServiceClient',
  tableName: 'service_client',
  columns: {
    clientId: varchar(64, { name: 'client_id', primary: true }),
    secretHash: varchar(255, { name: 'secret_hash' }),
    scopes: varchar(1000),
    createdAt: varchar(32, { name: 'created_at' }),
    disabledAt: varchar(32, { name: 'disabled_at', nullable: true }),
  },
});

export const CareTeamEntity = new EntitySchema<CareTeamRow>({
  name: 'CareTeam',
  tableName: 'care_team',
  columns: { id: varchar(64, { primary: true }), name: varchar(120) },
});

export const CareTeamMemberEntity = new EntitySchema<CareTeamMemberRow>({
  name: 'CareTeamMember',
  tableName: 'care_team_member',
  columns: {
    careTeamId: varchar(64, { name: 'care_team_id', primary: true }),
    personId: varchar(64, { name: 'person_id', primary: true }),
  },
});

export const SignInThrottleEntity = new EntitySchema<SignInThrottleRow>({
  name: 'SignInThrottle',
  tableName: 'sign_in_throttle',
  columns: {
    usernameKey: varchar(64, { name: 'username_key', primary: true }),
    failures: { type: 'integer' },
    lockedUntil: varchar(32, { name: 'locked_until', nullable: true }),
  },
});

export const IdentityAuditEntity = new EntitySchema<IdentityAuditRow>({
  name: 'IdentityAuditEvent',
  tableName: 'identity_audit_event',
  columns: {
    id: varchar(36, { primary: true }),
    occurredAt: varchar(32, { name: 'occurred_at' }),
    requestId: varchar(64, { name: 'request_id' }),
    event: varchar(32),
    method: varchar(16, { nullable: true }),
    outcome: varchar(32),
    accountId: varchar(80, { name: 'account_id', nullable: true }),
    personId: varchar(64, { name: 'person_id', nullable: true }),
    actorAccountId: varchar(80, { name: 'actor_account_id', nullable: true }),
    actorRole: varchar(16, { name: 'actor_role' }),
    clientAddress: varchar(64, { name: 'client_address', nullable: true }),
    detail: varchar(100, { nullable: true }),
  },
});

export const NoticeEntity = new EntitySchema<NoticeRow>({
  name: 'IdentityNotice',
  tableName: 'identity_notice',
  columns: {
    id: varchar(36, { primary: true }),
    personId: varchar(64, { name: 'person_id' }),
    accountId: varchar(64, { name: 'account_id' }),
    kind: varchar(32),
    subject: varchar(120),
    body: varchar(2000),
    createdAt: varchar(32, { name: 'created_at' }),
    attempts: { type: 'integer', default: 0 },
    refusals: { type: 'integer', default: 0 },
    nextAttemptAt: varchar(32, { name: 'next_attempt_at' }),
    deliveredAt: varchar(32, { name: 'delivered_at', nullable: true }),
    deadAt: varchar(32, { name: 'dead_at', nullable: true }),
    leaseBy: varchar(36, { name: 'lease_by', nullable: true }),
    leaseUntil: varchar(32, { name: 'lease_until', nullable: true }),
    lastError: varchar(64, { name: 'last_error', nullable: true }),
  },
});

export const GuardianLinkEntity = new EntitySchema<GuardianLinkRow>({
  name: 'GuardianLink',
  tableName: 'guardian_link',
  columns: {
    guardianPersonId: varchar(64, { name: 'guardian_person_id', primary: true }),
    childPersonId: varchar(64, { name: 'child_person_id', primary: true }),
    createdAt: varchar(32, { name: 'created_at' }),
  },
});

export const ProxyGrantEntity = new EntitySchema<ProxyGrantRow>({
  name: 'ProxyGrant',
  tableName: 'proxy_grant',
  columns: {
    id: varchar(36, { primary: true }),
    grantorPersonId: varchar(64, { name: 'grantor_person_id' }),
    proxyPersonId: varchar(64, { name: 'proxy_person_id' }),
    scopes: varchar(200),
    endsOn: varchar(10, { name: 'ends_on' }),
    createdAt: varchar(32, { name: 'created_at' }),
    revokedAt: varchar(32, { name: 'revoked_at', nullable: true }),
  },
});

export const entities = [
  PersonEntity,
  AffiliationEntity,
  AccountEntity,
  SessionEntity,
  CareTeamEntity,
  CareTeamMemberEntity,
  SignInThrottleEntity,
  UsedChallengeEntity,
  PivCardEntity,
  ServiceClientEntity,
  IdentityAuditEntity,
  NoticeEntity,
  GuardianLinkEntity,
  ProxyGrantEntity,
];
