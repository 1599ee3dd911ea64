/**
 * The refill and renewal rules of PRODUCT.md ("Prescriptions"), pure so that
 * the read side (`refillable`, `renewable`) and the request mutations give
 * the same answer and the same reason.
 */
import { daysBetween } from '../dates';

export type RequestKind = 'REFILL' | 'RENEWAL';
export type PrescriptionStatus = 'ACTIVE' | 'EXPIRED' | 'DISCONTINUED';

/** A renewal can be asked for up to this many days after the prescription expired. */
export const RENEWAL_WINDOW_DAYS = 120;

/** What the rules need to know about one prescription. */
export interface PrescriptionFacts {
  discontinued: boolean;
  refillsRemaining: number;
  /** YYYY-MM-DD, the last day the prescription may be used. */
  expiresOn: string;
  /** Kinds of the requests of this prescription still waiting for staff. */
  pendingKinds: readonly RequestKind[];
  /** A newer prescription was already created by renewing this one. */
  renewed: boolean;
}

export type RefillRefusal = 'DISCONTINUED' | 'EXPIRED' | 'NO_REFILLS_LEFT' | 'REFILL_PENDING';
export type RenewalRefusal = 'DISCONTINUED' | 'REFILLS_REMAINING' | 'EXPIRED_TOO_LONG_AGO' | 'ALREADY_RENEWED' | 'RENEWAL_PENDING';

export type Verdict<R extends string> = { allowed: true } | { allowed: false; reason: R; message: string };

/** Expired from the day after `expiresOn` (UTC). */
export const isExpired = (facts: Pick<PrescriptionFacts, 'expiresOn'>, today: string): boolean => facts.expiresOn < today;

/** The status a client sees: DISCONTINUED is stored, EXPIRED follows from the date. */
export function effectiveStatus(facts: Pick<PrescriptionFacts, 'discontinued' | 'expiresOn'>, today: string): PrescriptionStatus {
  if (facts.discontinued) return 'DISCONTINUED';
  return isExpired(facts, today) ? 'EXPIRED' : 'ACTIVE';
}

const refused = <R extends string>(reason: R, message: string): Verdict<R> => ({ allowed: false, reason, message });
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Refill: active, not expired, refills remaining, no refill already pending. */
export function refillVerdict(rx: PrescriptionFacts, today: string): Verdict<RefillRefusal> {
  if (rx.discontinued) {
    return refused('DISCONTINUED', 'This prescription was discontinued, so it cannot be refilled. Send your care team a message if you still need this medication.');
  }
  if (isExpired(rx, today)) {
    return refused('EXPIRED', `This prescription expired on ${rx.expiresOn}, so it cannot be refilled. Request a renewal instead.`);
  }
  if (rx.refillsRemaining <= 0) {
    return refused('NO_REFILLS_LEFT', 'This prescription has no refills left. Request a renewal instead.');
  }
  if (rx.pendingKinds.includes('REFILL')) {
    return refused('REFILL_PENDING', 'A refill of this prescription is already waiting for the pharmacy.');
  }
  return { allowed: true };
}

/**
 * Renewal: not discontinued, no refills left or expired (a prescription with
 * refills left is refilled, not renewed), expired no more than 120 days ago,
 * not renewed already, no renewal already pending.
 */
export function renewalVerdict(rx: PrescriptionFacts, today: string): Verdict<RenewalRefusal> {
  if (rx.discontinued) {
    return refused('DISCONTINUED', 'This prescription was discontinued, so it cannot be renewed. Send your care team a message if you still need this medication.');
  }
  const expired = isExpired(rx, today);
  if (!expired && rx.refillsRemaining > 0) {
    return refused('REFILLS_REMAINING', `This prescription still has ${plural(rx.refillsRemaining, 'refill')} left. Request a refill instead of a renewal.`);
  }
  if (expired && daysBetween(rx.expiresOn, today) > RENEWAL_WINDOW_DAYS) {
    return refused(
      'EXPIRED_TOO_LONG_AGO',
      `This prescription expired on ${rx.expiresOn}, more than ${RENEWAL_WINDOW_DAYS} days ago, so it cannot be renewed. Ask your care team for a new prescription.`,
    );
  }
  if (rx.renewed) {
    return refused('ALREADY_RENEWED', 'This prescription has already been renewed. Use the new prescription instead.');
  }
  if (rx.pendingKinds.includes('RENEWAL')) {
    return refused('RENEWAL_PENDING', 'A renewal of this prescription is already waiting for your care team.');
  }
  return { allowed: true };
}
