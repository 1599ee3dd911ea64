/**
 * The gateway's build-time entry point (`@portal/gateway/tooling`): what the
 * command-line fronts in `scripts/` run to compose and check the supergraph,
 * generate types and the operation manifest, and compare the schema with the
 * main branch's. It pulls in development-only packages (GraphQL Code
 * Generator), so production code never imports it.
 */
export { composeSupergraph } from './compose';
export { SUPERGRAPH_FILE } from './subgraphs';
export { generatedFiles, staleFiles } from './codegen';
export { buildManifest, MANIFEST_FILE, manifestText } from './operations';
export { DELIBERATE_CHANGES_FILE, compareSdl, readDeliberateChanges } from './schemaEvolution';
export { defaultBase, supergraphAt } from './schemaHistory';
