import { randomUUID } from 'node:crypto';
import { ErrorCode, PortalError, badInput, forbidden, notFound, type Access } from '@portal/kit';
import type { AccountRole, AccountRow, PersonRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import { isUniqueViolation } from '@portal/kit';
import { identityMatches, identityNotVerified, validateDetails, type IdentityDetails } from './identityCheck';
import { hashPassword } from './passwords';
import { passwordProblem, USERNAME } from './passwordPolicy';
import type { SessionService } from './sessions';
import { usernameKey } from './signIn';
import { throttleKey, type Throttle } from './throttle';

export interface NewDsLogonAccount extends IdentityDetails {
  username: string;
  password: string;
}

const usernameTaken = () => new PortalError(ErrorCode.CONFLICT, 'That username is taken. Choose another.', { field: 'username' });

const roleOf = (person: PersonRow): AccountRole =>
  person.kind === 'PATIENT' ? 'PATIENT' : person.specialty === 'PHARMACIST' ? 'PHARMACIST' : 'PRACTITIONER';

/** DS Logon accounts: who may create one and who may deactivate one. */
export class AccountService {
  constructor(
    private readonly store: IdentityStore,
    private readonly access: Access,
    private readonly sessions: SessionService,
    private readonly throttle: Throttle,
    private readonly clock: () => Date,
  ) {}

  /**
   * A DS Logon account for a known person, who proves who they are with their
   * DoD ID, name and birth date. One active account per person: a person who
   * signs in only by CAC gets the username and password added to that account.
   */
  async create(input: NewDsLogonAccount): Promise<AccountRow> {
    validateDetails(input);
    const username = usernameKey(input.username);
    if (!USERNAME.test(username)) {
      throw badInput('A username is 3 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit.', 'username');
    }
    const problem = passwordProblem(input.password, username);
    if (problem) throw badInput(problem, 'password');

    const now = this.clock();
    const key = throttleKey('identity', input.personIdentifier.trim());
    const lockedUntil = await this.throttle.lockedUntil(key);
    if (lockedUntil) throw tooManyAttempts(lockedUntil);
    const person = await this.store.personByDodId(input.personIdentifier.trim());
    if (!person || !identityMatches(person, input)) {
      const locked = await this.throttle.fail(key);
      throw locked ? tooManyAttempts(locked) : identityNotVerified();
    }
    await this.throttle.clear(key);

    const active = (await this.store.accountsOfPerson(person.id)).find((a) => a.status === 'ACTIVE');
    if (active?.username) {
      throw new PortalError(ErrorCode.CONFLICT, 'You already have an active DS Logon account. Sign in with it, or deactivate it before creating another.');
    }
    if (await this.store.accountByUsername(username)) throw usernameTaken();
    const passwordHash = await hashPassword(input.password);
    try {
      if (active) {
        if (!(await this.store.addDsLogon(active.id, username, passwordHash))) throw new PortalError(ErrorCode.CONFLICT, 'Your account changed meanwhile. Try again.');
        return { ...active, username, passwordHash };
      }
      const account: AccountRow = {
        id: randomUUID(),
        personId: person.id,
        username,
        passwordHash,
        role: roleOf(person),
        status: 'ACTIVE',
        createdAt: now.toISOString(),
        deactivatedAt: null,
      };
      await this.store.insertAccount(account);
      return account;
    } catch (e) {
      // A racing request took the username, or opened the person's account, first: the unique indexes decide.
      if (!isUniqueViolation(e)) throw e;
      if (await this.store.accountByUsername(username)) throw usernameTaken();
      throw new PortalError(ErrorCode.CONFLICT, 'You already have an active DS Logon account. Sign in with it, or deactivate it before creating another.');
    }
  }

  /** The holder or an administrator deactivates a DS Logon account; every session of it ends at once. */
  async deactivate(accountId: string): Promise<AccountRow> {
    const viewer = this.access.requireViewer();
    if (viewer.accountId !== accountId && viewer.role !== 'ADMIN') {
      throw forbidden('Only the account’s holder or an administrator can deactivate a DS Logon account.');
    }
    const [account] = await this.store.accountsByIds([accountId]);
    if (!account) throw notFound('The account');
    if (!account.username) throw badInput('This account signs in only with a smart card; it is not a DS Logon account.', 'accountId');
    const now = this.clock();
    if (account.status === 'ACTIVE') await this.store.deactivateAccount(account.id, now);
    await this.sessions.endAllOf(account.id);
    const [after] = await this.store.accountsByIds([accountId]);
    return after ?? { ...account, status: 'DEACTIVATED', deactivatedAt: now.toISOString() };
  }
}

const tooManyAttempts = (until: string) =>
  new PortalError(ErrorCode.RATE_LIMITED, `Too many attempts with details that do not match: try again after ${until}, or call the DS Logon help desk.`);
