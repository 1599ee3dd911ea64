/** Checks of mutation inputs: each refusal is BAD_USER_INPUT naming the field. */
import { badInput, parseId } from '@portal/kit';

export const NOTE_MAX = 500;
/** Bounds of what a renewal's decider may give the new prescription. */
export const REFILLS_MAX = 11;
export const DAYS_SUPPLY_MAX = 365;
/** How long a prescription created by an approved renewal is valid. */
export const RENEWED_VALID_DAYS = 365;

/** Characters as a person counts them (code points, so an emoji is one). */
const lengthOf = (s: string) => [...s].length;

/** A free-text note, trimmed, at most 500 characters; blank or left out is null. */
export function parseNote(raw: string | null | undefined, field = 'note'): string | null {
  if (raw === null || raw === undefined) return null;
  const note = raw.trim();
  // PostgreSQL text cannot hold NUL; refusing it here keeps a driver error from ever being the answer.
  if (note.includes('\u0000')) throw badInput('The note contains a character that cannot be stored (NUL).', field);
  if (lengthOf(note) > NOTE_MAX) throw badInput(`The ${field} is too long: at most ${NOTE_MAX} characters.`, field);
  return note.length === 0 ? null : note;
}

/** A whole number in [min, max], or `fallback` when left out. */
export function parseBounded(raw: number | null | undefined, field: string, min: number, max: number, fallback: number): number {
  if (raw === null || raw === undefined) return fallback;
  if (!Number.isInteger(raw) || raw < min || raw > max) throw badInput(`${field} must be a whole number from ${min} to ${max}.`, field);
  return raw;
}

export interface DecisionInput {
  requestId: string;
  approve: boolean;
  note?: string | null;
  refills?: number | null;
  daysSupply?: number | null;
}

/** A checked decision; refills and days of supply fall back to the old prescription's once it is known. */
export interface Decision {
  requestId: string;
  approve: boolean;
  note: string | null;
  refills: number | null;
  daysSupply: number | null;
}

/** A denial needs a reason (1-500 characters); refills and days of supply must be in range whenever given. */
export function parseDecision(input: DecisionInput): Decision {
  const requestId = parseId(input.requestId, 'requestId');
  const note = parseNote(input.note);
  if (!input.approve && note === null) throw badInput('Give the reason for denying the renewal: the patient is told it.', 'note');
  const refills = input.refills == null ? null : parseBounded(input.refills, 'refills', 0, REFILLS_MAX, 0);
  const daysSupply = input.daysSupply == null ? null : parseBounded(input.daysSupply, 'daysSupply', 1, DAYS_SUPPLY_MAX, 1);
  return { requestId, approve: input.approve, note, refills, daysSupply };
}

export interface RefillDenialInput {
  requestId: string;
  reason: string;
}

/** A refill denial: the request's id, and a reason of 1 to 500 characters (the patient is told it). */
export function parseRefillDenial(input: RefillDenialInput): RefillDenialInput {
  const requestId = parseId(input.requestId, 'requestId');
  const reason = parseNote(input.reason, 'reason');
  if (reason === null) throw badInput('Give the reason for denying the refill: the patient is told it.', 'reason');
  return { requestId, reason };
}
