import { badInput } from '@portal/kit';

export const SUBJECT_MAX = 120;
export const BODY_MAX = 10_000;
export const SENDER_NAME_MAX = 100;

/** Characters as a person counts them (code points, so an emoji is one). */
const lengthOf = (s: string) => [...s].length;

// PostgreSQL text cannot hold NUL; refusing it here keeps a driver error from ever being the answer.
function refuseNul(value: string, field: string, what: string): void {
  if (value.includes('\u0000')) throw badInput(`The ${what} contains a character that cannot be stored (NUL).`, field);
}

/** A subject to send: 1 to 120 characters after trimming; stored trimmed. */
export function checkSubject(raw: string, field = 'subject'): string {
  const subject = raw.trim();
  refuseNul(subject, field, 'subject');
  if (subject.length === 0) throw badInput('Give the message a subject.', field);
  if (lengthOf(subject) > SUBJECT_MAX) throw badInput(`The subject is too long: at most ${SUBJECT_MAX} characters.`, field);
  return subject;
}

/** A body to send: plain text, 1 to 10,000 characters and not only blanks; stored exactly as given. */
export function checkBody(raw: string, field = 'body'): string {
  refuseNul(raw, field, 'message');
  if (raw.trim().length === 0) throw badInput('The message is empty: write something before sending it.', field);
  if (lengthOf(raw) > BODY_MAX) throw badInput(`The message is too long: at most ${BODY_MAX.toLocaleString('en-US')} characters.`, field);
  return raw;
}

/** A draft's subject may stay empty until it is sent, but never grows past the limit. */
export function checkDraftSubject(raw: string, field = 'subject'): string {
  const subject = raw.trim();
  refuseNul(subject, field, 'subject');
  if (lengthOf(subject) > SUBJECT_MAX) throw badInput(`The subject is too long: at most ${SUBJECT_MAX} characters.`, field);
  return subject;
}

/** A draft's body may stay empty until it is sent; stored exactly as given. */
export function checkDraftBody(raw: string, field = 'body'): string {
  refuseNul(raw, field, 'message');
  if (lengthOf(raw) > BODY_MAX) throw badInput(`The message is too long: at most ${BODY_MAX.toLocaleString('en-US')} characters.`, field);
  return raw;
}

/** The name a service shows as the sender: 1 to 100 characters after trimming. */
export function checkSenderName(raw: string | null | undefined, fallback: string, field = 'senderName'): string {
  if (raw === null || raw === undefined) return fallback;
  const name = raw.trim();
  refuseNul(name, field, 'sender name');
  if (name.length === 0 || lengthOf(name) > SENDER_NAME_MAX) throw badInput(`A sender name has 1 to ${SENDER_NAME_MAX} characters.`, field);
  return name;
}
