import { PortalError, badInput, signAccessToken, type Viewer } from '@portal/kit';
import { ErrorCode } from '../errors';
import { SESSION_MAX_SECONDS } from '@portal/kit';
import type { AccountRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import type { KeyRing } from '../keys';
import { burnPasswordCheck, verifyPassword } from './passwords';
import type { SessionService } from './sessions';
import { outcomeOf, type SecurityAudit } from './audit';
import { retryAfterSeconds, type Throttle } from './throttle';

export interface SignInResult {
  accessToken: string;
  /** When the session ends if unused (the token itself lives longer; the session decides). */
  expiresAt: Date;
  account: AccountRow;
}

const invalidCredentials = () =>
  new PortalError(ErrorCode.INVALID_CREDENTIALS, 'The username or password is not right. Check both and try again.');

/** Sign-in with this username waits until `until`: ACCOUNT_LOCKED with `retryAfter` seconds. */
export const dsLogonLocked = (until: Date, now: Date) =>
  new PortalError(
    ErrorCode.ACCOUNT_LOCKED,
    `Too many wrong passwords: try again after ${until.toISOString()} (the wait doubles with every further wrong password, up to 15 minutes), or call the DS Logon help desk.`,
    { retryAfter: retryAfterSeconds(until, now) },
  );

export const staffNoDsLogon = () =>
  new PortalError(ErrorCode.FORBIDDEN, 'Care staff sign in only with their CAC: DS Logon is for patients.');

/** Lower-cased, trimmed: the key a username is stored and throttled under. */
export const usernameKey = (username: string) => username.trim().toLowerCase();

/**
 * DS Logon sign-in, and the session and token every sign-in ends with.
 * Failures are counted per username, known or not, so a locked-out reply
 * cannot tell an attacker whether a username exists. DS Logon signs in
 * patients only: a staff role comes only from a card, never from a password.
 */
export class SignInService {
  constructor(
    private readonly store: IdentityStore,
    private readonly keys: KeyRing,
    private readonly sessions: SessionService,
    private readonly throttle: Throttle,
    private readonly audit: SecurityAudit,
    private readonly clock: () => Date,
  ) {}

  async withDsLogon(username: string, password: string): Promise<SignInResult> {
    if (!username.trim() || username.length > 64) throw badInput('Enter your DS Logon username.', 'username');
    if (!password || password.length > 256) throw badInput('Enter your DS Logon password.', 'password');
    const key = usernameKey(username);
    const refuse = async (error: PortalError, account?: AccountRow | null, detail?: string) => {
      await this.audit.write({ event: 'SIGN_IN', method: 'DS_LOGON', outcome: outcomeOf(error), accountId: account?.id, personId: account?.personId, detail });
      return error;
    };
    // No username holds a colon; such a key belongs to the identity-check throttle and must not be slowed from here.
    if (key.includes(':')) {
      await burnPasswordCheck(password);
      throw await refuse(invalidCredentials());
    }

    const reserved = await this.throttle.reserve(key);
    if (!reserved.ok) throw await refuse(dsLogonLocked(reserved.until, this.clock()));
    const { reservation } = reserved;

    const account = await this.store.accountByUsername(key);
    const ok = account?.passwordHash ? await verifyPassword(password, account.passwordHash) : (await burnPasswordCheck(password), false);
    if (!account || !ok) {
      // The reservation stays counted: it is this failure.
      await this.audit.write({ event: 'SIGN_IN', method: 'DS_LOGON', outcome: ErrorCode.INVALID_CREDENTIALS, accountId: account?.id, personId: account?.personId });
      if (reservation.lockedUntil) {
        await this.audit.write({ event: 'LOCKOUT', method: 'DS_LOGON', outcome: ErrorCode.ACCOUNT_LOCKED, accountId: account?.id, personId: account?.personId, detail: `failures=${reservation.failures}` });
        throw dsLogonLocked(reservation.lockedUntil, this.clock());
      }
      throw invalidCredentials();
    }
    // The right password: not a guess, whatever follows. A lock set meanwhile by racing wrong passwords still holds.
    if (!(await this.throttle.succeeded(reservation))) {
      const state = await this.store.throttleOf(key);
      const until = state?.lockedUntil ? new Date(state.lockedUntil) : this.clock();
      throw await refuse(dsLogonLocked(until, this.clock()), account, 'locked meanwhile');
    }
    // Only a holder of the right password learns that the account was deactivated.
    if (account.status === 'DEACTIVATED') {
      throw await refuse(new PortalError(ErrorCode.ACCOUNT_DEACTIVATED, 'This DS Logon account has been deactivated. Create a new DS Logon account to sign in.'), account);
    }
    if (account.role !== 'PATIENT') throw await refuse(staffNoDsLogon(), account);
    return this.issue(account, 'DS_LOGON');
  }

  /** Opens a session and signs its access token. */
  /** `via`: TLS for a card presented in the TLS handshake (signInWithClientCertificate), noted in the audit row. */
  async issue(account: AccountRow, method: 'DS_LOGON' | 'CAC' | 'PIV', via?: 'TLS'): Promise<SignInResult> {
    const careTeamIds = await this.store.careTeamIdsOf(account.personId);
    const session = await this.sessions.open(account.id, method);
    await this.audit.write({ event: 'SIGN_IN', method, outcome: 'OK', accountId: account.id, personId: account.personId, detail: `role=${account.role}${via ? ` via=${via}` : ''}` });
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
