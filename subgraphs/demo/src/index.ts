/**
 * Stable ids of the demo cast (contract/README.md), shared by every subgraph's
 * seed so that references across subgraphs meet. Development data only.
 */
export const DEMO = {
  jane: 'pt-1000000001',
  john: 'pt-1000000002',
  alex: 'pr-2000000001',
  sam: 'pr-2000000002',
  /** Practitioners of the other demo clinics (Eye Clinic, Behavioral Health Clinic). */
  morgan: 'pr-2000000003',
  riley: 'pr-2000000004',
  careTeamBlue: 'ct-primary-blue',
  careTeamGreen: 'ct-behavioral-green',
  familyHealthClinic: 'cl-family-health',
} as const;
