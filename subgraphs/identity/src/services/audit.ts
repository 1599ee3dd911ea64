import { randomUUID } from 'node:crypto';
import type { Viewer } from '@portal/kit';
import type { IdentityAuditRow } from '../db/entities';
import type { IdentityStore } from '../db/store';

/** What identity audits. */
export type SecurityEventKind =
  | 'SIGN_IN'
  | 'LOCKOUT'
  | 'ACCOUNT_CREATED'
  | 'CREDENTIAL_ADDED'
  | 'CREDENTIAL_REMOVED'
  | 'ACCOUNT_DEACTIVATED'
  | 'CARD_REGISTERED'
  | 'SERVICE_TOKEN'
  | 'PROXY_GRANTED'
  | 'PROXY_REVOKED';

export interface SecurityEvent {
  event: SecurityEventKind;
  /** OK, or the error code the caller got. */
  outcome: string;
  method?: string | null;
  accountId?: string | null;
  personId?: string | null;
  /** A credential kind, card UUID, delay or client id: never a password, a username typed in error, or health data. */
  detail?: string | null;
}

/** Who asked and from where: the request's side of every audit row. */
export interface AuditOrigin {
  requestId: string;
  viewer: Viewer | null;
  clientAddress: string | null;
}

/**
 * Writes identity's audit rows (table identity_audit_event), each at once:
 * with the store of the change's transaction where there is one, so the row
 * and the change are written or dropped together; a refusal is written on its
 * own, since there is no change to go with it.
 */
export class SecurityAudit {
  constructor(
    private readonly store: IdentityStore,
    private readonly origin: AuditOrigin,
    private readonly clock: () => Date,
  ) {}

  async write(e: SecurityEvent, store: IdentityStore = this.store): Promise<void> {
    await store.insertAudit(this.row(e));
  }

  row(e: SecurityEvent): IdentityAuditRow {
    const viewer = this.origin.viewer;
    return {
      id: randomUUID(),
      occurredAt: this.clock().toISOString(),
      requestId: this.origin.requestId,
      event: e.event,
      method: e.method ?? null,
      outcome: e.outcome.slice(0, 32),
      accountId: e.accountId ?? null,
      personId: e.personId ?? null,
      actorAccountId: viewer?.accountId ?? null,
      actorRole: viewer?.role ?? 'ANONYMOUS',
      clientAddress: this.origin.clientAddress,
      detail: e.detail?.slice(0, 100) ?? null,
    };
  }
}

/** The error code of a refusal, for the outcome column; INTERNAL for anything else. */
export function outcomeOf(e: unknown): string {
  const code = (e as { extensions?: { code?: unknown } })?.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}
