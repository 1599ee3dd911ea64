import { ErrorCode, PortalError, badInput, signAccessToken, type SigningKey } from '@portal/kit';
import type { AccountRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import { burnPasswordCheck, verifyPassword } from './passwords';

export const MAX_FAILED_SIGN_INS = 5;
export const LOCK_MINUTES = 15;

export interface SignInResult {
  accessToken: string;
  expiresAt: Date;
  account: AccountRow;
}

const invalidCredentials = () =>
  new PortalError(ErrorCode.INVALID_CREDENTIALS, 'The username or password is not right. Check both and try again.');

/** Lower-cased, trimmed: the key a username is stored and throttled under. */
export const usernameKey = (username: string) => username.trim().toLowerCase();

/**
 * DS Logon sign-in. Failures are counted per username, known or not, so a
 * locked-out reply cannot tell an attacker whether a username exists.
 */
export class SignInService {
  constructor(
    private readonly store: IdentityStore,
    private readonly key: SigningKey,
  ) {}

  async withDsLogon(username: string, password: string, now = new Date()): Promise<SignInResult> {
    if (!username.trim() || username.length > 64) throw badInput('Enter your DS Logon username.', 'username');
    if (!password || password.length > 256) throw badInput('Enter your DS Logon password.', 'password');
    const key = usernameKey(username);

    const throttle = await this.store.throttleOf(key);
    if (throttle?.lockedUntil && new Date(throttle.lockedUntil) > now) {
      throw new PortalError(
        ErrorCode.ACCOUNT_LOCKED,
        `Too many wrong passwords: sign-in is locked until ${throttle.lockedUntil}. Try again then, or call the DS Logon help desk.`,
      );
    }

    const account = await this.store.accountByUsername(key);
    const ok = account?.passwordHash ? await verifyPassword(password, account.passwordHash) : (await burnPasswordCheck(password), false);
    if (!account || !ok) {
      const failures = await this.store.recordFailure(key);
      if (failures >= MAX_FAILED_SIGN_INS) {
        const until = new Date(now.getTime() + LOCK_MINUTES * 60_000);
        await this.store.lock(key, until);
        throw new PortalError(
          ErrorCode.ACCOUNT_LOCKED,
          `Too many wrong passwords: sign-in is locked for ${LOCK_MINUTES} minutes. Try again then, or call the DS Logon help desk.`,
        );
      }
      throw invalidCredentials();
    }
    // Only a holder of the right password learns that the account was deactivated.
    if (account.status === 'DEACTIVATED') {
      throw new PortalError(ErrorCode.ACCOUNT_DEACTIVATED, 'This DS Logon account has been deactivated. Create a new DS Logon account to sign in.');
    }
    if (throttle) await this.store.clearFailures(key);
    return this.issue(account, 'DS_LOGON');
  }

  /** Opens a session and signs its access token. */
  async issue(account: AccountRow, method: 'DS_LOGON' | 'CAC' | 'PIV'): Promise<SignInResult> {
    const careTeamIds = await this.store.careTeamIdsOf(account.personId);
    const expiresAt = new Date(Date.now() + 15 * 60_000);
    const sessionId = await this.store.createSession(account.id, method, expiresAt);
    const { token, expiresAt: exp } = await signAccessToken(this.key, {
      accountId: account.id,
      personId: account.personId,
      role: account.role,
      method,
      sessionId,
      careTeamIds,
    });
    return { accessToken: token, expiresAt: exp, account };
  }
}
