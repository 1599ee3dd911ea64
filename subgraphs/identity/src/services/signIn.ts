import { ErrorCode, PortalError, badInput, signAccessToken, type Viewer } from '@portal/kit';
import { SESSION_MAX_SECONDS } from '@portal/kit/src/auth/sessions';
import type { AccountRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import type { KeyRing } from '../keys';
import { burnPasswordCheck, verifyPassword } from './passwords';
import type { SessionService } from './sessions';
import { LOCK_MINUTES, Throttle } from './throttle';

export { LOCK_MINUTES, MAX_FAILED_SIGN_INS } from './throttle';

export interface SignInResult {
  accessToken: string;
  /** When the session ends if unused (the token itself lives longer; the session decides). */
  expiresAt: Date;
  account: AccountRow;
}

const invalidCredentials = () =>
  new PortalError(ErrorCode.INVALID_CREDENTIALS, 'The username or password is not right. Check both and try again.');

export const dsLogonLocked = (until: string) =>
  new PortalError(
    ErrorCode.ACCOUNT_LOCKED,
    `Too many wrong passwords: sign-in is locked until ${until}. Try again then, or call the DS Logon help desk.`,
  );

/** Lower-cased, trimmed: the key a username is stored and throttled under. */
export const usernameKey = (username: string) => username.trim().toLowerCase();

/**
 * DS Logon sign-in, and the session and token every sign-in ends with.
 * Failures are counted per username, known or not, so a locked-out reply
 * cannot tell an attacker whether a username exists.
 */
export class SignInService {
  constructor(
    private readonly store: IdentityStore,
    private readonly keys: KeyRing,
    private readonly sessions: SessionService,
    private readonly throttle: Throttle,
  ) {}

  async withDsLogon(username: string, password: string): Promise<SignInResult> {
    if (!username.trim() || username.length > 64) throw badInput('Enter your DS Logon username.', 'username');
    if (!password || password.length > 256) throw badInput('Enter your DS Logon password.', 'password');
    const key = usernameKey(username);
    // No username holds a colon; such a key belongs to the smart-card throttles and must not be locked from here.
    if (key.includes(':')) {
      await burnPasswordCheck(password);
      throw invalidCredentials();
    }

    const lockedUntil = await this.throttle.lockedUntil(key);
    if (lockedUntil) throw dsLogonLocked(lockedUntil);

    const account = await this.store.accountByUsername(key);
    const ok = account?.passwordHash ? await verifyPassword(password, account.passwordHash) : (await burnPasswordCheck(password), false);
    if (!account || !ok) {
      if (await this.throttle.fail(key)) {
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
    await this.throttle.clear(key);
    return this.issue(account, 'DS_LOGON');
  }

  /** Opens a session and signs its access token. */
  async issue(account: AccountRow, method: 'DS_LOGON' | 'CAC' | 'PIV'): Promise<SignInResult> {
    const careTeamIds = await this.store.careTeamIdsOf(account.personId);
    const session = await this.sessions.open(account.id, method);
    const { token } = await signAccessToken(
      this.keys.signing,
      { accountId: account.id, personId: account.personId, role: account.role, method, sessionId: session.id, careTeamIds },
      SESSION_MAX_SECONDS,
    );
    return { accessToken: token, expiresAt: session.idleExpiresAt, account };
  }

  /** Ends the viewer's session; service tokens have none. */
  async signOut(viewer: Viewer): Promise<boolean> {
    if (viewer.role === 'SERVICE') return false;
    await this.sessions.end(viewer);
    return true;
  }
}
