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
