/** The gateway's test entry point (`@portal/gateway/testing`): internals the end-to-end tests check against. Never imported by production code. */
export { SECTION_UNAVAILABLE } from './resilience';
export { buildManifest } from './operations';
export { bundleProblems } from './fhir/check';
export { SUBGRAPH_ERROR_CODES } from './generated/errorCodes';
