/**
 * Hive Gateway (with the Rust query planner of @graphql-hive/router-runtime)
 * in one process, as the peer of `npm run bench:gateway`:
 *   HIVE_PORT=5120 HIVE_SUPERGRAPH=schema/supergraph.graphql HIVE_SUBGRAPH_URLS='{"identity":"http://127.0.0.1:5101/graphql",...}' node bench/hive/serve.mjs
 * It forwards Authorization and the request id to every subgraph, and its
 * subgraph request deduplication is off (Apollo's gateway has none).
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';

const port = Number(process.env.HIVE_PORT);
const urls = JSON.parse(process.env.HIVE_SUBGRAPH_URLS ?? '{}');
const FORWARDED = ['authorization', 'x-request-id'];

// The router's Rust parser refuses a description on the schema definition (which GraphQL allows since its
// October 2021 edition): it is dropped here, which changes nothing the planner or the executor reads.
const supergraph = readFileSync(process.env.HIVE_SUPERGRAPH, 'utf8').replace(/^\s*"""[\s\S]*?"""\s*(?=schema\b)/, '');

const gateway = createGatewayRuntime({
  supergraph,
  unifiedGraphHandler,
  transportEntries: Object.fromEntries(Object.entries(urls).map(([name, location]) => [name, { location, options: { deduplicateInflightRequests: false } }])),
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => Object.fromEntries(FORWARDED.map((h) => [h, request.headers.get(h)]).filter(([, v]) => v)),
  },
  landingPage: false,
  graphiql: false,
  logging: 'error',
});

const server = createServer(gateway);
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`hive gateway at http://127.0.0.1:${port}/graphql`));
const stop = () => server.close(() => gateway.dispose().finally(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
