export { createGateway, startGateway, type GatewayOptions } from './server';
export { DEFAULT_SUBGRAPH_LIMITS, readGatewayConfig, readSubgraphLimits, type BreakerSettings, type GatewayConfig, type SubgraphLimits } from './config';
export { SUBGRAPHS, SUPERGRAPH_FILE, type SubgraphName } from './subgraphs';
export { composeSupergraph, apiSchemaOf } from './compose';
export { fhirRoutes } from './fhir';
