/**
 * Stable ids of the demo cast (contract/README.md), shared by every subgraph's
 * seed so that references across subgraphs meet. Development data only.
 */
export const DEMO = {
  jane: 'pt-1000000001',
  john: 'pt-1000000002',
  /** Jane's children, for proxy access: Emma is 12 (her parent sees everything), Liam 15 (sensitive records hidden from the parent). */
  emma: 'pt-1000000003',
  liam: 'pt-1000000004',
  alex: 'pr-2000000001',
  sam: 'pr-2000000002',
  /** Practitioners of the other demo clinics (Eye Clinic, Behavioral Health Clinic). */
  morgan: 'pr-2000000003',
  riley: 'pr-2000000004',
  careTeamBlue: 'ct-primary-blue',
  careTeamGreen: 'ct-behavioral-green',
  familyHealthClinic: 'cl-family-health',
} as const;
