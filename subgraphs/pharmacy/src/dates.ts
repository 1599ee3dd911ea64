/** Calendar arithmetic on YYYY-MM-DD strings, in UTC so that every instance agrees on "today". */

const DAY_MS = 86_400_000;

/** The UTC calendar date of an instant. */
export const utcDate = (at: Date): string => at.toISOString().slice(0, 10);

/** `date` moved by `days` (negative goes back). */
export function addDays(date: string | Date, days: number): string {
  const base = typeof date === 'string' ? Date.parse(`${date}T00:00:00Z`) : Date.parse(`${utcDate(date)}T00:00:00Z`);
  return utcDate(new Date(base + days * DAY_MS));
}

/** Whole days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}
