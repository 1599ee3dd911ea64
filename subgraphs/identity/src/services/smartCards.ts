import { randomUUID } from 'node:crypto';
import { PortalError, badInput } from '@portal/kit';
import { ErrorCode } from '../errors';
import type { AccountRow, PersonRow, PivCardRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import { isUniqueViolation } from '@portal/kit';
import { parseCard, signatureMatches, verifyCard, type VerifiedCard } from '../smartcard/certificate';
import type { ChallengeCodec } from '../smartcard/challenge';
import type { TrustStore } from '../smartcard/trust';
import { identityMatches, identityNotVerified, validateDetails, type IdentityDetails } from './identityCheck';
import { outcomeOf, type SecurityAudit } from './audit';
import { queueNotice } from '../notices/queue';
import { burnPasswordCheck, verifyPassword } from './passwords';
import { dsLogonLocked, staffNoDsLogon, usernameKey, type SignInResult, type SignInService } from './signIn';
import type { Throttle } from './throttle';

/** Used challenges are forgotten this long after they expired, a margin for instances whose clocks differ. */
const USED_CHALLENGE_MARGIN_MS = 60_000;
const MAX_CHALLENGE_LENGTH = 128;
const MAX_SIGNATURE_LENGTH = 2_048;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export interface CardProof {
  certificate: string;
  challenge: string;
  signature: string;
}

export interface PivRegistration extends IdentityDetails, CardProof {
  dsLogonUsername: string;
  dsLogonPassword: string;
}

const challengeInvalid = () =>
  new PortalError(ErrorCode.CHALLENGE_INVALID, 'The challenge is unknown, expired or already used. Ask for a new one (smartCardChallenge) and sign that.');
const signatureInvalid = () =>
  new PortalError(ErrorCode.SIGNATURE_INVALID, 'The signature does not match this card’s certificate. Sign the challenge exactly as issued, with this card.');
const notRegistered = (message: string) => new PortalError(ErrorCode.CARD_NOT_REGISTERED, message);

/** Who a verified card signs in: an account, an account to create on success, or a refusal to give once the card proved itself. */
type Target = { account: AccountRow } | { createFor: PersonRow } | { refusal: PortalError };

/**
 * Smart-card sign-in (CAC and PIV) and PIV registration. Order matters: the
 * challenge is used up first (cheap, and a failed attempt still spends it),
 * then the certificate is checked, then the signature; what the card maps to
 * is told only to someone whose signature proved they hold the card.
 */
export class SmartCardService {
  constructor(
    private readonly store: IdentityStore,
    private readonly trust: TrustStore,
    private readonly challenges: ChallengeCodec,
    private readonly signIn: SignInService,
    private readonly throttle: Throttle,
    private readonly audit: SecurityAudit,
    private readonly clock: () => Date,
  ) {}

  /** Writes nothing: the challenge carries its own expiry and MAC (smartcard/challenge.ts). */
  async challenge(): Promise<{ challenge: string; expiresAt: Date }> {
    return this.challenges.issue(this.clock());
  }

  /** A card sign-in; a refused one is audited here, a successful one where its session opens. */
  async signInWithCard(proof: CardProof): Promise<SignInResult> {
    try {
      return await this.cardSignIn(proof);
    } catch (e) {
      if (e instanceof PortalError) await this.audit.write({ event: 'SIGN_IN', method: 'SMART_CARD', outcome: outcomeOf(e) });
      throw e;
    }
  }

  /**
   * A card sign-in with the certificate of the TLS handshake, as the gateway
   * forwarded it (base64 DER, proved by its HMAC: see kit clientCertificate.ts).
   * The handshake proved the client holds the card's key, so no challenge;
   * every other check is signInWithCard's. Audited like it, with `via=TLS` in the detail.
   */
  async signInWithClientCertificate(certificate: string | undefined): Promise<SignInResult> {
    try {
      if (!certificate) throw noClientCertificate();
      const now = this.clock();
      const verified = await verifyCard(parseCard(derToPem(certificate)), this.trust, now);
      const target = await this.targetOf(verified);
      if ('refusal' in target) throw target.refusal;
      const account = 'account' in target ? target.account : await this.createSmartCardAccount(target.createFor, now);
      return await this.signIn.issue(account, verified.identity.kind, 'TLS');
    } catch (e) {
      if (e instanceof PortalError) await this.audit.write({ event: 'SIGN_IN', method: 'SMART_CARD', outcome: outcomeOf(e), detail: 'via=TLS' });
      throw e;
    }
  }

  /**
   * Bad signatures are not counted against the card or the account: a
   * signature cannot be guessed, and counting them would let anyone holding a
   * (public) certificate lock its holder out.
   */
  private async cardSignIn(proof: CardProof): Promise<SignInResult> {
    validateProof(proof);
    const now = this.clock();
    await this.useChallenge(proof.challenge, now);
    const card = parseCard(proof.certificate);
    const verified = await verifyCard(card, this.trust, now);
    const target = await this.targetOf(verified);
    if (!signatureMatches(verified, proof.challenge, proof.signature)) throw signatureInvalid();
    if ('refusal' in target) throw target.refusal;
    const account = 'account' in target ? target.account : await this.createSmartCardAccount(target.createFor, now);
    return this.signIn.issue(account, verified.identity.kind);
  }

  /**
   * Links a PIV card to a DS Logon account after checking that the card is
   * good, that it signed the challenge, and that the name, birth date, DoD ID,
   * username and password all belong to one person.
   */
  async registerPiv(input: PivRegistration): Promise<PivCardRow> {
    try {
      return await this.pivRegistration(input);
    } catch (e) {
      if (e instanceof PortalError) await this.audit.write({ event: 'CARD_REGISTERED', method: 'PIV', outcome: outcomeOf(e) });
      throw e;
    }
  }

  private async pivRegistration(input: PivRegistration): Promise<PivCardRow> {
    validateDetails(input);
    if (!input.dsLogonUsername.trim() || input.dsLogonUsername.length > 64) throw badInput('Enter your DS Logon username.', 'dsLogonUsername');
    if (!input.dsLogonPassword || input.dsLogonPassword.length > 256) throw badInput('Enter your DS Logon password.', 'dsLogonPassword');
    validateProof(input);
    const now = this.clock();
    const userKey = usernameKey(input.dsLogonUsername);
    await this.useChallenge(input.challenge, now);
    const card = parseCard(input.certificate);
    const verified = await verifyCard(card, this.trust, now);
    if (verified.identity.kind !== 'PIV') throw badInput('This is a CAC: it signs in by itself and needs no registration.', 'certificate');
    if (!signatureMatches(verified, input.challenge, input.signature)) throw signatureInvalid();

    // The password and the details are guessable: each try is reserved against the username, like a sign-in, before it is checked.
    if (userKey.includes(':')) {
      await burnPasswordCheck(input.dsLogonPassword);
      throw identityNotVerified();
    }
    const reserved = await this.throttle.reserve(userKey);
    if (!reserved.ok) throw dsLogonLocked(reserved.until, now);
    const account = await this.store.accountByUsername(userKey);
    const passwordOk = account?.passwordHash ? await verifyPassword(input.dsLogonPassword, account.passwordHash) : (await burnPasswordCheck(input.dsLogonPassword), false);
    const [person] = account && passwordOk ? await this.store.peopleByIds([account.personId]) : [];
    if (!account || !person || !identityMatches(person, input)) {
      // One answer whichever detail was wrong; the reservation stays counted like a wrong password.
      if (reserved.reservation.lockedUntil) {
        await this.audit.write({ event: 'LOCKOUT', method: 'PIV', outcome: ErrorCode.ACCOUNT_LOCKED, accountId: account?.id, personId: account?.personId, detail: `failures=${reserved.reservation.failures}` });
        throw dsLogonLocked(reserved.reservation.lockedUntil, now);
      }
      throw identityNotVerified();
    }
    if (!(await this.throttle.succeeded(reserved.reservation))) {
      const state = await this.store.throttleOf(userKey);
      throw dsLogonLocked(state?.lockedUntil ? new Date(state.lockedUntil) : now, now);
    }
    if (account.status === 'DEACTIVATED') {
      throw new PortalError(ErrorCode.ACCOUNT_DEACTIVATED, 'This DS Logon account has been deactivated. Create a new DS Logon account, then register the card to it.');
    }
    // A PIV card signs in the account's role: only a patient's DS Logon may vouch for one.
    if (account.role !== 'PATIENT') throw staffNoDsLogon();
    return this.link((verified.identity as { uuid: string }).uuid, account, verified, now);
  }

  /** Checks the challenge's MAC and expiry, then records its use; refused when forged, expired or used before. */
  private async useChallenge(challenge: string, now: Date): Promise<void> {
    const opened = challenge.length <= MAX_CHALLENGE_LENGTH ? this.challenges.open(challenge, now) : null;
    if (!opened || !(await this.store.useChallenge(opened.nonce, opened.expiresAt))) throw challengeInvalid();
    await this.store.purgeUsedChallenges(new Date(now.getTime() - USED_CHALLENGE_MARGIN_MS));
  }

  /**
   * A CAC signs in the person with its EDIPI: a practitioner's own account, or
   * a patient's active account (one made for smart cards on their first CAC
   * sign-in if they have none). A PIV card signs in the account it is registered to.
   */
  private async targetOf(card: VerifiedCard): Promise<Target> {
    const { identity } = card;
    if (identity.kind === 'PIV') {
      const registration = await this.store.pivCardByUuid(identity.uuid);
      if (!registration) return { refusal: notRegistered('This PIV card is not registered. Register it with your DS Logon account first (registerPivCard).') };
      // The UUID is not a secret (anyone a card was shown to may put it in a certificate of another trusted
      // issuer): the card is the certificate that was registered, by its fingerprint.
      if (registration.fingerprint !== card.fingerprint) {
        return { refusal: notRegistered('This certificate is not the one registered for this PIV card. If the card was renewed, register it again (registerPivCard).') };
      }
      const [account] = await this.store.accountsByIds([registration.accountId]);
      if (!account || account.status !== 'ACTIVE') {
        return {
          refusal: new PortalError(
            ErrorCode.ACCOUNT_DEACTIVATED,
            'The DS Logon account this PIV card is registered to has been deactivated. Create a new DS Logon account and register the card again.',
          ),
        };
      }
      return { account };
    }
    const person = await this.store.personByDodId(identity.edipi);
    if (!person) return { refusal: notRegistered('No one with this card’s DoD ID is known to the portal. Call the portal help desk.') };
    const accounts = await this.store.accountsOfPerson(person.id);
    const active = accounts.find((a) => a.status === 'ACTIVE');
    if (active) return { account: active };
    if (person.kind === 'PATIENT') return { createFor: person };
    return accounts.length
      ? { refusal: new PortalError(ErrorCode.ACCOUNT_DEACTIVATED, 'Your portal account has been deactivated. Call the portal help desk.') }
      : { refusal: notRegistered('There is no portal account for this practitioner. Call the portal help desk.') };
  }

  private async createSmartCardAccount(person: PersonRow, now: Date): Promise<AccountRow> {
    const account: AccountRow = {
      id: randomUUID(),
      personId: person.id,
      username: null,
      passwordHash: null,
      role: 'PATIENT',
      status: 'ACTIVE',
      createdAt: now.toISOString(),
      deactivatedAt: null,
    };
    try {
      await this.store.transaction(async (tx) => {
        await tx.insertAccount(account);
        await this.audit.write({ event: 'ACCOUNT_CREATED', method: 'CAC', outcome: 'OK', accountId: account.id, personId: person.id }, tx);
      });
      return account;
    } catch (e) {
      // A racing first sign-in made it first; one active account per person is the database's rule.
      if (!isUniqueViolation(e)) throw e;
      const active = (await this.store.accountsOfPerson(person.id)).find((a) => a.status === 'ACTIVE');
      if (!active) throw e;
      return active;
    }
  }

  private async link(uuid: string, account: AccountRow, card: VerifiedCard, now: Date): Promise<PivCardRow> {
    const existing = await this.store.pivCardByUuid(uuid);
    const registeredAt = now.toISOString();
    if (!existing) {
      const row: PivCardRow = { id: randomUUID(), cardUuid: uuid, accountId: account.id, fingerprint: card.fingerprint, registeredAt };
      try {
        await this.store.transaction(async (tx) => {
          await tx.insertPivCard(row);
          await this.registered(tx, account, uuid, now);
        });
        return row;
      } catch (e) {
        if (isUniqueViolation(e)) throw alreadyRegistered();
        throw e;
      }
    }
    if (existing.accountId === account.id) {
      if (existing.fingerprint === card.fingerprint) return existing;
      // A renewed certificate of the same card, registered again by the account's holder: it replaces the old one.
      const renewed = { accountId: account.id, fingerprint: card.fingerprint, registeredAt };
      if (!(await this.store.relinkPivCard(existing.id, existing.accountId, renewed))) throw alreadyRegistered();
      return { ...existing, ...renewed };
    }
    const [previous] = await this.store.accountsByIds([existing.accountId]);
    // A card moves only from a deactivated account of the same person: it keeps signing in to the same record.
    if (previous && (previous.status === 'ACTIVE' || previous.personId !== account.personId)) throw alreadyRegistered();
    const moved = { accountId: account.id, fingerprint: card.fingerprint, registeredAt };
    const relinked = await this.store.transaction(async (tx) => {
      if (!(await tx.relinkPivCard(existing.id, existing.accountId, moved))) return false;
      await this.registered(tx, account, uuid, now);
      return true;
    });
    if (!relinked) throw alreadyRegistered();
    return { ...existing, ...moved };
  }

  /** Audits a registration and tells the holder, in the registration's transaction. */
  private async registered(tx: IdentityStore, account: AccountRow, uuid: string, now: Date): Promise<void> {
    await this.audit.write({ event: 'CARD_REGISTERED', method: 'PIV', outcome: 'OK', accountId: account.id, personId: account.personId, detail: uuid }, tx);
    await this.audit.write({ event: 'CREDENTIAL_ADDED', method: 'PIV', outcome: 'OK', accountId: account.id, personId: account.personId, detail: 'PIV' }, tx);
    await queueNotice(tx, account, 'PIV_REGISTERED', now);
  }
}

const noClientCertificate = () =>
  new PortalError(
    ErrorCode.CLIENT_CERTIFICATE_REQUIRED,
    'No card certificate came with this connection. Insert your card and choose its certificate when the browser asks (reload the page if it did not), or sign in another way.',
  );

/** The PEM parseCard reads, from base64 DER. */
function derToPem(base64: string): string {
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const alreadyRegistered = () =>
  new PortalError(ErrorCode.CONFLICT, 'This PIV card is registered to another DS Logon account. Call the DS Logon help desk.');

function validateProof(proof: CardProof): void {
  if (!proof.certificate.trim()) throw badInput('Send the card’s certificate (PEM).', 'certificate');
  if (!proof.challenge.trim()) throw badInput('Send the challenge you signed.', 'challenge');
  if (!proof.signature.trim() || proof.signature.length > MAX_SIGNATURE_LENGTH || !BASE64.test(proof.signature.trim())) {
    throw badInput('Send the signature over the challenge, in base64.', 'signature');
  }
}
