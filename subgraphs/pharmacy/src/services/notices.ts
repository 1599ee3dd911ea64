/**
 * The secure message that tells a patient how their renewal was decided. It
 * goes to the patient's own inbox, yet says no more than they need to act:
 * which medication, the decision, the reason given, and where to look.
 */

/** Sent to messaging as the message's category and sender. */
export const NOTICE_CATEGORY = 'MEDICATION' as const;
export const NOTICE_SENDER = 'Your care team';

export interface RenewalNoticeFacts {
  approved: boolean;
  medicationName: string;
  /** The decider's note; always present for a denial. */
  note: string | null;
  /** Of the new prescription, when approved. */
  refills?: number;
  expiresOn?: string;
}

export interface Notice {
  subject: string;
  body: string;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The idempotency key of a decision's message: one message per request, however often delivered. */
export const renewalNoticeKey = (requestId: string) => `renewal-decision:${requestId}`;

export function renewalNotice(f: RenewalNoticeFacts): Notice {
  if (f.approved) {
    const lines = [
      `Your care team approved your request to renew your ${f.medicationName} prescription.`,
      `The new prescription has ${plural(f.refills ?? 0, 'refill')} and is valid until ${f.expiresOn}.`,
    ];
    if (f.note) lines.push('', `Note from your care team: ${f.note}`);
    lines.push('', 'You can see it under Prescriptions.');
    return { subject: 'Your prescription renewal was approved', body: lines.join('\n') };
  }
  return {
    subject: 'Your prescription renewal was not approved',
    body: [
      `Your care team did not approve your request to renew your ${f.medicationName} prescription.`,
      '',
      `Reason: ${f.note ?? 'not given'}`,
      '',
      'Reply to this message if you have questions.',
    ].join('\n'),
  };
}

export interface RefillNoticeFacts {
  filled: boolean;
  medicationName: string;
  /** The pharmacist's reason; always present for a denial. */
  reason?: string | null;
  /** Refills left after the fill. */
  refillsRemaining?: number;
}

/** The idempotency key of a refill's message: one message per request, however often delivered. */
export const refillNoticeKey = (requestId: string) => `refill-decision:${requestId}`;

/**
 * Tells the patient their refill was filled or denied: the medication's
 * name, the outcome, refills left or the reason, and where to look; no
 * strength, dose or directions (no more than a renewal's message says).
 */
export function refillNotice(f: RefillNoticeFacts): Notice {
  if (f.filled) {
    return {
      subject: 'Your prescription refill was filled',
      body: [
        `The pharmacy filled your request to refill your ${f.medicationName} prescription.`,
        `The prescription has ${plural(f.refillsRemaining ?? 0, 'refill')} left.`,
        '',
        'You can see it under Prescriptions.',
      ].join('\n'),
    };
  }
  return {
    subject: 'Your prescription refill was not filled',
    body: [
      `The pharmacy did not fill your request to refill your ${f.medicationName} prescription.`,
      '',
      `Reason: ${f.reason ?? 'not given'}`,
      '',
      'Reply to this message if you have questions.',
    ].join('\n'),
  };
}
