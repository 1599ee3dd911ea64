import { randomUUID } from 'node:crypto';
import { PortalError, badInput, forbidden, isUniqueViolation, notFound, parseId, type Access } from '@portal/kit';
import { ErrorCode } from '../errors';
import type { AccountRole, AccountRow, PersonRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import { outcomeOf, type SecurityAudit } from './audit';
import { identityMatches, identityNotVerified, validateDetails, type IdentityDetails } from './identityCheck';
import { queueNotice } from '../notices/queue';
import { hashPassword } from './passwords';
import { passwordProblem, USERNAME } from './passwordPolicy';
import type { SessionService } from './sessions';
import { staffNoDsLogon, usernameKey } from './signIn';
import { retryAfterSeconds, throttleKey, type Throttle } from './throttle';

export interface NewDsLogonAccount extends IdentityDetails {
  username: string;
  password: string;
}

export interface DsLogonCredential {
  username: string;
  password: string;
}

const usernameTaken = () => new PortalError(ErrorCode.CONFLICT, 'That username is taken. Choose another.', { field: 'username' });
const alreadyActive = () =>
  new PortalError(ErrorCode.CONFLICT, 'You already have an active DS Logon account. Sign in with it, or deactivate it before creating another.');
const signInWithCardFirst = () =>
  new PortalError(
    ErrorCode.CONFLICT,
    'Your portal account signs in with a smart card. Sign in with your CAC, then add a DS Logon username and password to it (addDsLogonCredential).',
  );

const roleOf = (person: PersonRow): AccountRole =>
  person.kind === 'PATIENT' ? 'PATIENT' : person.specialty === 'PHARMACIST' ? 'PHARMACIST' : 'PRACTITIONER';

/**
 * DS Logon accounts: who may create one, add one to a card account, and
 * deactivate one. A credential joins an existing account only on the strength
 * of a stronger one: the anonymous sign-up, proved only by facts that are not
 * secret (DoD ID, name, birth date), may create an account for a patient who
 * has none (or only deactivated ones), never add a password to an account a
 * card signs in to, and never give staff a DS Logon at all.
 */
export class AccountService {
  constructor(
    private readonly store: IdentityStore,
    private readonly access: Access,
    private readonly sessions: SessionService,
    private readonly throttle: Throttle,
    private readonly audit: SecurityAudit,
    private readonly clock: () => Date,
  ) {}

  async create(input: NewDsLogonAccount): Promise<AccountRow> {
    validateDetails(input);
    const username = checkCredential(input);
    const audited = async (error: PortalError, person?: PersonRow | null) => {
      await this.audit.write({ event: 'ACCOUNT_CREATED', method: 'DS_LOGON', outcome: outcomeOf(error), personId: person?.id });
      return error;
    };

    const now = this.clock();
    const key = throttleKey('identity', input.personIdentifier.trim());
    const reserved = await this.throttle.reserve(key);
    if (!reserved.ok) throw await audited(tooManyAttempts(reserved.until, now));
    const person = await this.store.personByDodId(input.personIdentifier.trim());
    if (!person || !identityMatches(person, input)) {
      // The reservation stays counted: it is this failure.
      const error = reserved.reservation.lockedUntil ? tooManyAttempts(reserved.reservation.lockedUntil, now) : identityNotVerified();
      await this.audit.write({ event: 'ACCOUNT_CREATED', method: 'DS_LOGON', outcome: ErrorCode.IDENTITY_NOT_VERIFIED, personId: person?.id });
      if (reserved.reservation.lockedUntil) await this.audit.write({ event: 'LOCKOUT', outcome: ErrorCode.RATE_LIMITED, personId: person?.id, detail: 'identity check' });
      throw error;
    }
    if (!(await this.throttle.succeeded(reserved.reservation))) {
      const state = await this.store.throttleOf(key);
      throw await audited(tooManyAttempts(state?.lockedUntil ? new Date(state.lockedUntil) : now, now), person);
    }
    // Staff sign in by card only: a DS Logon of theirs would be a staff sign-in proved by public facts.
    if (person.kind !== 'PATIENT') throw await audited(staffNoDsLogon(), person);

    const active = (await this.store.accountsOfPerson(person.id)).find((a) => a.status === 'ACTIVE');
    if (active) throw await audited(active.username ? alreadyActive() : signInWithCardFirst(), person);
    if (await this.store.accountByUsername(username)) throw await audited(usernameTaken(), person);
    const account: AccountRow = {
      id: randomUUID(),
      personId: person.id,
      username,
      passwordHash: await hashPassword(input.password),
      role: roleOf(person),
      status: 'ACTIVE',
      createdAt: now.toISOString(),
      deactivatedAt: null,
    };
    try {
      await this.store.transaction(async (tx) => {
        await tx.insertAccount(account);
        await this.audit.write({ event: 'ACCOUNT_CREATED', method: 'DS_LOGON', outcome: 'OK', accountId: account.id, personId: person.id }, tx);
        await this.audit.write({ event: 'CREDENTIAL_ADDED', method: 'DS_LOGON', outcome: 'OK', accountId: account.id, personId: person.id, detail: 'DS_LOGON' }, tx);
        await queueNotice(tx, account, 'DS_LOGON_ADDED', now);
      });
      return account;
    } catch (e) {
      // A racing request took the username, or opened the person's account, first: the unique indexes decide.
      if (!isUniqueViolation(e)) throw e;
      if (await this.store.accountByUsername(username)) throw await audited(usernameTaken(), person);
      throw await audited(alreadyActive(), person);
    }
  }

  /**
   * Adds a DS Logon username and password to the viewer's own account, which
   * so far signs in only by card: allowed to a patient signed in by CAC or PIV
   * in this session, never to staff (who sign in by card only).
   */
  async addDsLogon(input: DsLogonCredential): Promise<AccountRow> {
    const viewer = this.access.requireViewer();
    const refuse = async (error: PortalError) => {
      await this.audit.write({ event: 'CREDENTIAL_ADDED', method: viewer.method, outcome: outcomeOf(error), accountId: viewer.accountId, personId: viewer.personId, detail: 'DS_LOGON' });
      return error;
    };
    if (viewer.role !== 'PATIENT') throw await refuse(viewer.role === 'SERVICE' ? forbidden('Only the account’s holder can add a DS Logon to it.') : staffNoDsLogon());
    if (viewer.method !== 'CAC' && viewer.method !== 'PIV') {
      throw await refuse(forbidden('Sign in with your smart card (CAC or PIV) to add a DS Logon username and password to your account.'));
    }
    const username = checkCredential(input);
    const [account] = await this.store.accountsByIds([viewer.accountId]);
    if (!account || account.status !== 'ACTIVE') throw await refuse(notFound('Your active account'));
    if (account.username) throw await refuse(new PortalError(ErrorCode.CONFLICT, 'Your account has a DS Logon username already.'));
    if (await this.store.accountByUsername(username)) throw await refuse(usernameTaken());
    const passwordHash = await hashPassword(input.password);
    const now = this.clock();
    try {
      const changed = await this.store.transaction(async (tx) => {
        if (!(await tx.addDsLogon(account.id, username, passwordHash))) return false;
        await this.audit.write({ event: 'CREDENTIAL_ADDED', method: viewer.method, outcome: 'OK', accountId: account.id, personId: account.personId, detail: 'DS_LOGON' }, tx);
        await queueNotice(tx, account, 'DS_LOGON_ADDED', now);
        return true;
      });
      if (!changed) throw await refuse(new PortalError(ErrorCode.CONFLICT, 'Your account changed meanwhile. Try again.'));
      return { ...account, username, passwordHash };
    } catch (e) {
      if (isUniqueViolation(e)) throw await refuse(usernameTaken());
      throw e;
    }
  }

  /** The holder or an administrator deactivates a DS Logon account; every session of it ends at once. */
  async deactivate(input: string): Promise<AccountRow> {
    const viewer = this.access.requireViewer();
    // Refused before anything is read or audited: such a string names no account.
    const accountId = parseId(input, 'accountId');
    const refuse = async (error: PortalError, account?: AccountRow) => {
      await this.audit.write({ event: 'ACCOUNT_DEACTIVATED', outcome: outcomeOf(error), accountId: account?.id ?? accountId, personId: account?.personId });
      return error;
    };
    if (viewer.accountId !== accountId && viewer.role !== 'ADMIN') {
      throw await refuse(forbidden('Only the account’s holder or an administrator can deactivate a DS Logon account.'));
    }
    const [account] = await this.store.accountsByIds([accountId]);
    if (!account) throw await refuse(notFound('The account'));
    if (!account.username) throw await refuse(badInput('This account signs in only with a smart card; it is not a DS Logon account.', 'accountId'), account);
    const now = this.clock();
    if (account.status === 'ACTIVE') {
      await this.store.transaction(async (tx) => {
        if (!(await tx.deactivateAccount(account.id, now))) return;
        await this.audit.write({ event: 'ACCOUNT_DEACTIVATED', outcome: 'OK', accountId: account.id, personId: account.personId }, tx);
        await this.audit.write({ event: 'CREDENTIAL_REMOVED', outcome: 'OK', accountId: account.id, personId: account.personId, detail: 'DS_LOGON' }, tx);
        await queueNotice(tx, account, 'DS_LOGON_REMOVED', now);
      });
    }
    await this.sessions.endAllOf(account.id);
    const [after] = await this.store.accountsByIds([accountId]);
    return after ?? { ...account, status: 'DEACTIVATED', deactivatedAt: now.toISOString() };
  }
}

/** The username's key, once it and the password meet the policy. */
function checkCredential(input: DsLogonCredential): string {
  const username = usernameKey(input.username);
  if (!USERNAME.test(username)) {
    throw badInput('A username is 3 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.', 'username');
  }
  const problem = passwordProblem(input.password, username);
  if (problem) throw badInput(problem, 'password');
  return username;
}

const tooManyAttempts = (until: Date, now: Date) =>
  new PortalError(
    ErrorCode.RATE_LIMITED,
    `Too many attempts with details that do not match: try again after ${until.toISOString()}, or call the DS Logon help desk.`,
    { retryAfter: retryAfterSeconds(until, now) },
  );
