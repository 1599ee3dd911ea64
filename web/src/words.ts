/**
 * The graph's error codes (README, "Error codes") in plain words. Where the
 * server's own message says why (a refill or renewal refused), it is kept.
 */
import { NETWORK, type GraphError } from './graph';

export function plainWords(error: GraphError | undefined): string {
  if (!error) return 'Something went wrong. Please try again.';
  const code = error.extensions?.code;
  const wait = error.extensions?.retryAfter;
  switch (code) {
    case 'INVALID_CREDENTIALS':
      return 'That username and password do not match. Check both and try again.';
    case 'ACCOUNT_LOCKED':
      return `Too many wrong passwords in a row. Wait ${wait ?? 'a few'} seconds, then try again.`;
    case 'ACCOUNT_DEACTIVATED':
      return 'This account has been closed. Create a new DS Logon account to sign in.';
    case 'CLIENT_CERTIFICATE_REQUIRED':
      return 'No smart card was presented. Put your CAC or PIV card in the reader and open the portal at its HTTPS address that asks for the card, or sign in with DS Logon.';
    case 'CERTIFICATE_INVALID':
      return 'Your smart card could not be read, or was not issued by a trusted DoD authority.';
    case 'CERTIFICATE_EXPIRED':
      return 'Your smart card’s certificate has expired. Sign in with DS Logon, or renew your card.';
    case 'CERTIFICATE_REVOKED':
      return 'Your smart card’s certificate has been revoked. Sign in with DS Logon, or renew your card.';
    case 'UNAUTHENTICATED':
      return 'Your session has ended. Please sign in again.';
    case 'FORBIDDEN':
      return 'Your account cannot do this here.';
    case 'NOT_FOUND':
      return 'We could not find that. It may have been moved or removed.';
    case 'SLOT_UNAVAILABLE':
      return 'Someone else just booked that time. Please choose another time.';
    case 'APPOINTMENT_NOT_CANCELLABLE':
      return `This appointment can no longer be cancelled or moved. ${error.message}`;
    case 'REPLY_WINDOW_CLOSED':
      return 'You can no longer reply in this conversation (it has been quiet for 45 days, or it came from TRICARE Online and is read-only). Start a new message instead.';
    case 'REFILL_NOT_ALLOWED':
      return `A refill cannot be requested now. ${error.message}`;
    case 'RENEWAL_NOT_ALLOWED':
      return `A renewal cannot be requested now. ${error.message}`;
    case 'RATE_LIMITED':
      return `Too many requests in a short time. Wait ${wait ?? 'a few'} seconds, then try again.`;
    case 'SERVICE_UNAVAILABLE':
      return 'This part of the portal is not available right now. Please try again in a moment.';
    case 'BAD_USER_INPUT':
      return `Please check what you entered. ${error.message}`;
    case NETWORK:
      return error.message;
    default:
      return 'Something went wrong. Please try again.';
  }
}

const DATE = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium' });

/** A date and time in the clinic's own zone (appointments), or the reader's. */
export function when(iso: string, timeZone?: string): string {
  // dateStyle/timeStyle cannot be combined with timeZoneName: the parts are named one by one.
  return new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone,
    timeZoneName: timeZone ? 'short' : undefined,
  }).format(new Date(iso));
}

export function day(iso: string): string {
  // Plain dates (YYYY-MM-DD) are calendar days: shown as such, not shifted by the reader's zone.
  return /^\d{4}-\d{2}-\d{2}$/.test(iso) ? DATE.format(new Date(`${iso}T12:00:00Z`)) : DATE.format(new Date(iso));
}

const LABELS: Record<string, string> = {
  PRIMARY_CARE: 'Primary care',
  FOLLOW_UP: 'Follow-up',
  IMMUNIZATION: 'Immunization',
  BEHAVIORAL_HEALTH: 'Behavioral health',
  OPTOMETRY: 'Eye exam',
  DENTAL: 'Dental',
  BOOKED: 'Booked',
  CANCELLED: 'Cancelled',
  CHECKED_IN: 'Checked in',
  FULFILLED: 'Completed',
  NO_SHOW: 'Missed',
  GENERAL: 'General question',
  APPOINTMENT: 'Appointment',
  MEDICATION: 'Medication',
  TEST_RESULT: 'Test result',
  EDUCATION: 'Health education',
  INBOX: 'Inbox',
  SENT: 'Sent',
  DRAFTS: 'Drafts',
  ARCHIVE: 'Archive',
  NORMAL: 'Normal',
  LOW: 'Low',
  HIGH: 'High',
  CRITICAL_LOW: 'Critically low',
  CRITICAL_HIGH: 'Critically high',
  ABNORMAL: 'Abnormal',
  ACTIVE: 'Active',
  EXPIRED: 'Expired',
  DISCONTINUED: 'Discontinued',
  PENDING: 'Pending',
  APPROVED: 'Approved',
  DENIED: 'Denied',
  COMPLETED: 'Completed',
  REFILL: 'Refill',
  RENEWAL: 'Renewal',
};

export const label = (value: string | null | undefined): string => (value ? (LABELS[value] ?? value) : '');
