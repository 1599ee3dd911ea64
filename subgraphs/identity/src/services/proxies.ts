import { randomUUID } from 'node:crypto';
import { badInput, ErrorCode, forbidden, notFound, parseId, PortalError, type Access, type Viewer } from '@portal/kit';
import type { PersonRow, ProxyGrantRow } from '../db/entities';
import type { IdentityStore } from '../db/store';
import type { IdentityLoaders } from '../loaders';
import { proxyNoticeText, queueProxyNotice, type ProxyNoticeKind } from '../notices/queue';
import { policy } from '../policy';
import { outcomeOf, type SecurityAudit } from './audit';
import { proxyAccessOf } from './proxyAccess';
import { ADULT_AGE, ageOn, dayOf, MAX_GRANT_YEARS, PROXY_SCOPES, shiftDay, type ProxyAccessRule, type ProxyScope } from './proxyRules';

/** At most this many live grants per grantor: a bound on who can see one record, and on the notices a grantor can cause. */
export const MAX_LIVE_GRANTS = 10;
/** At most this many grants created per grantor in 24 hours (grant and revoke in a loop would message the proxy each time). */
export const MAX_GRANTS_PER_DAY = 20;

export interface GrantInput {
  dodId: string;
  scopes: readonly string[];
  endsOn: string;
}

/** One patient the viewer may see as a proxy now. */
export interface ProxyForEntry extends ProxyAccessRule {
  patient: PersonRow;
}

const ineligible = () => badInput('No patient with that DoD ID can be named as your proxy. Check the number and try again.', 'dodId');

/**
 * Proxy access as the viewer sees it: whom they are a proxy for, the grants
 * they gave, a patient by id, and giving and revoking grants. Who may is asked
 * of `../policy.ts`; the age rules are `proxyRules.ts`. Grants and revocations
 * are written to identity's security audit and told to both people by secure
 * message (the notice outbox), in the change's transaction.
 */
export class ProxyService {
  constructor(
    private readonly store: IdentityStore,
    private readonly access: Access,
    private readonly loaders: IdentityLoaders,
    private readonly audit: SecurityAudit,
    private readonly clock: () => Date,
  ) {}

  private today(): string {
    return dayOf(this.clock());
  }

  /**
   * The name of `proxyId`, who wrote a message in `patientId`'s name: for
   * whoever may read that patient's record (`ProxyAuthor.__resolveReference`,
   * the care team included), and only when `proxyId` is or was that patient's
   * proxy, so the reference cannot be used to look up anyone's name. Null
   * otherwise, exactly like an unknown id.
   */
  async author(proxyId: string, patientId: string): Promise<{ id: string; patientId: string; name: { given: string; family: string } } | null> {
    await policy.viewer('ProxyAuthor.__resolveReference', this.access);
    if (!(await policy.check('ProxyAuthor.__resolveReference', this.access, patientId))) return null;
    if (proxyId === patientId || !(await this.loaders.actedAsProxy.load({ proxyId, patientId }))) return null;
    const person = await this.loaders.person.load(proxyId);
    if (!person || person.kind !== 'PATIENT') return null;
    return { id: proxyId, patientId, name: { given: person.givenName, family: person.familyName } };
  }

  /** The patients the viewer may see as a proxy now, by name; empty for anyone but a patient. */
  async proxyFor(): Promise<ProxyForEntry[]> {
    if (!(await policy.admits('Me.proxyFor', this.access))) return [];
    const viewer = this.access.requireViewer();
    const found = await proxyAccessOf(this.store, viewer.personId, this.today());
    // Together, so the people and the policy's grant question are each one batch.
    const checked = await Promise.all(
      [...found].map(async ([patientId, rule]): Promise<ProxyForEntry | null> => {
        const patient = await this.loaders.person.load(patientId);
        if (!patient || patient.kind !== 'PATIENT') return null;
        return (await policy.check('Me.proxyFor', this.access, patientId)) ? { ...rule, patient } : null;
      }),
    );
    const entries = checked.filter((e): e is ProxyForEntry => e !== null);
    return entries.sort((a, b) => a.patient.familyName.localeCompare(b.patient.familyName) || a.patient.givenName.localeCompare(b.patient.givenName) || a.patient.id.localeCompare(b.patient.id));
  }

  /** The grants the viewer gave, newest first, ended ones too; empty for anyone but a patient. */
  async grants(): Promise<ProxyGrantRow[]> {
    if (!(await policy.admits('Me.proxyGrants', this.access))) return [];
    const viewer = this.access.requireViewer();
    if (!(await policy.may('Me.proxyGrants', this.access, viewer.personId))) return [];
    return this.store.grantsBy(viewer.personId);
  }

  /** Whether a grant gives access today. */
  active(grant: ProxyGrantRow): boolean {
    return grant.revokedAt === null && grant.endsOn >= this.today();
  }

  /** A patient by id for the viewer: themself or one they are a proxy for now; NOT_FOUND otherwise, as for an unknown id. */
  async patient(input: string): Promise<PersonRow> {
    await policy.viewer('Query.patient', this.access);
    const id = parseId(input, 'id');
    const person = await this.loaders.person.load(id);
    if (!person || person.kind !== 'PATIENT') throw notFound('The patient');
    await policy.assert('Query.patient', this.access, id);
    return person;
  }

  /** An adult patient gives a caregiver access to some of their records until `endsOn`. */
  async grant(input: GrantInput): Promise<ProxyGrantRow> {
    const viewer = await policy.viewer('Mutation.grantProxyAccess', this.access);
    const refuse = async (error: PortalError) => {
      await this.audit.write({ event: 'PROXY_GRANTED', outcome: outcomeOf(error), accountId: viewer.accountId, personId: viewer.personId });
      return error;
    };
    const now = this.clock();
    const today = dayOf(now);
    const grantor = await this.loaders.person.load(viewer.personId);
    if (!grantor || ageOn(grantor.dateOfBirth, today) < ADULT_AGE) throw await refuse(forbidden('Only an adult patient (18 or over) can grant proxy access.'));

    const scopes = PROXY_SCOPES.filter((s) => input.scopes.includes(s));
    if (scopes.length === 0) throw await refuse(badInput('Choose at least one kind of record to share.', 'scopes'));
    if (input.endsOn <= today) throw await refuse(badInput('The end date must be after today.', 'endsOn'));
    if (input.endsOn > shiftDay(today, MAX_GRANT_YEARS)) throw await refuse(badInput(`The end date can be at most ${MAX_GRANT_YEARS} years ahead.`, 'endsOn'));
    const dodId = input.dodId.trim();
    // An unknown DoD ID, someone who is not a patient and the viewer themself read alike: the answer tells no one who is registered.
    const proxy = /^\d{10}$/.test(dodId) ? await this.store.personByDodId(dodId) : null;
    if (!proxy || proxy.kind !== 'PATIENT' || proxy.id === viewer.personId) throw await refuse(ineligible());

    if ((await this.store.liveGrantsTo(proxy.id, today, [viewer.personId])).length > 0) {
      throw await refuse(new PortalError(ErrorCode.CONFLICT, 'This person already has proxy access from you. Revoke that grant first to change it.'));
    }
    if ((await this.store.countLiveGrantsBy(viewer.personId, today)) >= MAX_LIVE_GRANTS) {
      throw await refuse(new PortalError(ErrorCode.CONFLICT, `You have ${MAX_LIVE_GRANTS} active proxy grants, the most allowed. Revoke one first.`));
    }
    const day = 24 * 3_600_000;
    const recent = await this.store.grantsCreatedSince(viewer.personId, new Date(now.getTime() - day));
    if (recent.count >= MAX_GRANTS_PER_DAY) {
      const retryAfter = Math.max(1, Math.ceil((Date.parse(recent.oldest ?? now.toISOString()) + day - now.getTime()) / 1000));
      throw await refuse(new PortalError(ErrorCode.RATE_LIMITED, `You can give at most ${MAX_GRANTS_PER_DAY} proxy grants in a day. Try again later.`, { retryAfter }));
    }

    // The viewer shares their own record: audited on it like any change of it.
    await policy.assert('Mutation.grantProxyAccess', this.access, viewer.personId);
    const grant: ProxyGrantRow = {
      id: randomUUID(),
      grantorPersonId: viewer.personId,
      proxyPersonId: proxy.id,
      scopes: scopes.join(' '),
      endsOn: input.endsOn,
      createdAt: now.toISOString(),
      revokedAt: null,
    };
    await this.store.transaction(async (tx) => {
      await tx.insertGrant(grant);
      await this.audit.write({ event: 'PROXY_GRANTED', outcome: 'OK', accountId: viewer.accountId, personId: viewer.personId, detail: `${grant.id} to ${proxy.id}` }, tx);
      await this.tellBoth(tx, viewer, grantor, proxy, grant, 'PROXY_GRANTED', 'PROXY_RECEIVED', now);
    });
    return grant;
  }

  /** The grantor ends one of their grants; anyone else's grant, or an unknown id, reads NOT_FOUND. */
  async revoke(input: string): Promise<ProxyGrantRow> {
    const viewer = await policy.viewer('Mutation.revokeProxyAccess', this.access);
    const id = parseId(input, 'id');
    const grant = await this.store.grantById(id);
    if (!grant) {
      await this.audit.write({ event: 'PROXY_REVOKED', outcome: ErrorCode.NOT_FOUND, accountId: viewer.accountId, personId: viewer.personId, detail: id });
      throw notFound('The proxy grant');
    }
    if (!(await policy.check('Mutation.revokeProxyAccess', this.access, grant.grantorPersonId))) {
      await this.audit.write({ event: 'PROXY_REVOKED', outcome: ErrorCode.NOT_FOUND, accountId: viewer.accountId, personId: viewer.personId, detail: id });
      throw notFound('The proxy grant');
    }
    if (grant.revokedAt) return grant;
    const now = this.clock();
    const [grantor, proxy] = await Promise.all([this.loaders.person.load(grant.grantorPersonId), this.loaders.person.load(grant.proxyPersonId)]);
    const revoked = await this.store.transaction(async (tx) => {
      if (!(await tx.revokeGrant(grant.id, viewer.personId, now))) return false;
      await this.audit.write({ event: 'PROXY_REVOKED', outcome: 'OK', accountId: viewer.accountId, personId: viewer.personId, detail: `${grant.id} to ${grant.proxyPersonId}` }, tx);
      if (grantor && proxy) await this.tellBoth(tx, viewer, grantor, proxy, grant, 'PROXY_REVOKED', 'PROXY_ENDED', now);
      return true;
    });
    // Revoked meanwhile by a racing request: that one told them.
    if (!revoked) return (await this.store.grantById(grant.id)) ?? grant;
    return { ...grant, revokedAt: now.toISOString() };
  }

  /** The grantor's and the proxy's secure messages, queued in the change's transaction. */
  private async tellBoth(tx: IdentityStore, viewer: Viewer, grantor: PersonRow, proxy: PersonRow, grant: ProxyGrantRow, toGrantor: ProxyNoticeKind, toProxy: ProxyNoticeKind, now: Date): Promise<void> {
    const facts = { grantorName: fullName(grantor), proxyName: fullName(proxy), scopes: grant.scopes.split(' ') as ProxyScope[], endsOn: grant.endsOn };
    const proxyAccount = (await tx.accountsOfPerson(proxy.id)).find((a) => a.status === 'ACTIVE');
    await queueProxyNotice(tx, { personId: grantor.id, accountId: viewer.accountId }, toGrantor, proxyNoticeText(toGrantor, facts), now);
    await queueProxyNotice(tx, { personId: proxy.id, accountId: proxyAccount?.id ?? proxy.id }, toProxy, proxyNoticeText(toProxy, facts), now);
  }
}

const fullName = (p: PersonRow) => `${p.givenName} ${p.familyName}`;
