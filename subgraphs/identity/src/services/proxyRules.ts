/**
 * The rules of proxy access that depend only on dates: how old a child is on
 * a given day, what a parent's link gives at that age, and how a link and a
 * grant for the same patient combine. Pure functions of a given "today", so
 * the age boundaries are tested without moving a clock.
 */

/** The record areas a proxy may be given (identity's `ProxyScope`; the strings the subgraphs pass to `proxyFor`). */
export const PROXY_SCOPES = ['APPOINTMENTS', 'MESSAGES', 'MEDICATIONS', 'RESULTS', 'NOTES', 'HEALTH_SUMMARY'] as const;
export type ProxyScope = (typeof PROXY_SCOPES)[number];

/** A parent sees everything of a child under this age, sensitive records too. */
export const SENSITIVE_HIDDEN_FROM_AGE = 13;
/** From this age a parent's link gives nothing: only the adult's own grant does. */
export const ADULT_AGE = 18;
/** How far ahead a grant may end. */
export const MAX_GRANT_YEARS = 5;

export type ProxyRelationship = 'PARENT_OR_GUARDIAN' | 'CAREGIVER';

/** What a proxy may see of one patient's record today, and why. */
export interface ProxyAccessRule {
  relationship: ProxyRelationship;
  scopes: ProxyScope[];
  hideSensitive: boolean;
  /** The last day of access: the grant's end, or for a parent the day before the child turns 18. */
  endsOn: string;
}

/** Today's date (UTC), YYYY-MM-DD: grants end and birthdays turn on UTC days, the same on every instance. */
export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

/** Age in whole years on `today` (both YYYY-MM-DD). Someone born on 29 February turns a year older on 1 March in other years. */
export function ageOn(dateOfBirth: string, today: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number);
  const [ty, tm, td] = today.split('-').map(Number);
  const beforeBirthday = tm < bm || (tm === bm && td < bd);
  return ty - by - (beforeBirthday ? 1 : 0);
}

/** `day` plus `years` years and `days` days (YYYY-MM-DD; 29 February plus a year is 1 March). */
export function shiftDay(day: string, years: number, days = 0): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y + years, m - 1, d + days)).toISOString().slice(0, 10);
}

/**
 * What a parent's or legal guardian's link to a child gives on `today`: under
 * 13 every scope with sensitive records; 13 to 17 every scope without them;
 * from 18 nothing (null).
 */
export function guardianAccess(childDateOfBirth: string, today: string): ProxyAccessRule | null {
  const age = ageOn(childDateOfBirth, today);
  if (age >= ADULT_AGE || age < 0) return null;
  return {
    relationship: 'PARENT_OR_GUARDIAN',
    scopes: [...PROXY_SCOPES],
    hideSensitive: age >= SENSITIVE_HIDDEN_FROM_AGE,
    endsOn: shiftDay(childDateOfBirth, ADULT_AGE, -1),
  };
}

/** What a live grant gives: its scopes (known ones only, in the enum's order), sensitive records included, until its end. */
export function grantAccess(grant: { scopes: string; endsOn: string }): ProxyAccessRule {
  const named = new Set(grant.scopes.split(' '));
  return { relationship: 'CAREGIVER', scopes: PROXY_SCOPES.filter((s) => named.has(s)), hideSensitive: false, endsOn: grant.endsOn };
}

/**
 * A link and a grant (or two grants) for the same patient: the union of their
 * scopes; sensitive records hidden only when every source hides them; the
 * parent's relationship when a link counts; the latest end.
 */
export function combine(a: ProxyAccessRule, b: ProxyAccessRule): ProxyAccessRule {
  const scopes = new Set([...a.scopes, ...b.scopes]);
  return {
    relationship: a.relationship === 'PARENT_OR_GUARDIAN' || b.relationship === 'PARENT_OR_GUARDIAN' ? 'PARENT_OR_GUARDIAN' : 'CAREGIVER',
    scopes: PROXY_SCOPES.filter((s) => scopes.has(s)),
    hideSensitive: a.hideSensitive && b.hideSensitive,
    endsOn: a.endsOn > b.endsOn ? a.endsOn : b.endsOn,
  };
}
