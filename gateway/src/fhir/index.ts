export { fhirRoutes, FHIR_JSON } from './route';
export { buildPatientBundle } from './bundle';
export { bundleProblems } from './check';
export { EVERYTHING_QUERY, readPatientRecord, type PatientRecord } from './record';
