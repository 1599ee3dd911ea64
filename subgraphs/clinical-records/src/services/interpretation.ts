export type Interpretation = 'NORMAL' | 'LOW' | 'HIGH' | 'CRITICAL_LOW' | 'CRITICAL_HIGH' | 'ABNORMAL';

export interface ResultForInterpretation {
  value: string;
  refLow: number | null;
  refHigh: number | null;
  /** What the source reported, if anything: our enum or an HL7 v2 abnormal flag. */
  interpretation: string | null;
}

const STORED: Record<string, Interpretation> = {
  NORMAL: 'NORMAL',
  LOW: 'LOW',
  HIGH: 'HIGH',
  CRITICAL_LOW: 'CRITICAL_LOW',
  CRITICAL_HIGH: 'CRITICAL_HIGH',
  ABNORMAL: 'ABNORMAL',
  // HL7 v2 OBX-8 flags, as lab interfaces send them.
  N: 'NORMAL',
  L: 'LOW',
  H: 'HIGH',
  LL: 'CRITICAL_LOW',
  HH: 'CRITICAL_HIGH',
  A: 'ABNORMAL',
};

const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * The source's own interpretation when it gave one; otherwise the value
 * against the reference range. Null when the value is not a plain number
 * (e.g. "Negative", "<0.5") or there is no numeric range to compare with:
 * guessing there would tell a patient something the lab did not.
 */
export function interpret(result: ResultForInterpretation): Interpretation | null {
  const stored = result.interpretation?.trim().toUpperCase();
  if (stored && STORED[stored]) return STORED[stored];
  const { refLow: low, refHigh: high } = result;
  if (low == null && high == null) return null;
  const text = result.value.trim();
  if (!PLAIN_NUMBER.test(text)) return null;
  const value = Number(text);
  if (low != null && value < low) return 'LOW';
  if (high != null && value > high) return 'HIGH';
  return 'NORMAL';
}
