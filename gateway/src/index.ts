export { createGateway, startGateway, type GatewayOptions } from './server';
export { readGatewayConfig, type GatewayConfig } from './config';
export { SUBGRAPHS, SUPERGRAPH_FILE, type SubgraphName } from './subgraphs';
export { composeSupergraph, apiSchemaOf } from './compose';
export { fhirRoutes } from './fhir';
