/**
 * supergraph.yaml (Rover) and deploy/router.yaml (Apollo Router) against the
 * code: neither tool can be downloaded here, so this test is what keeps them
 * true. Subgraph names, SDL files and URLs are those of scripts/compose.ts
 * and the stack; Router's limits are the gateway's defaults.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REQUEST_ID_HEADER, REQUEST_ID_PROOF_HEADER } from '@portal/kit';
import { composeFrom, routingUrlOf } from './compose';
import { DEFAULT_SUBGRAPH_LIMITS, readGatewayConfig, SUBGRAPH_URL_SETTINGS } from './config';
import { REPO_ROOT, schemaFileOf, SUBGRAPHS, SUPERGRAPH_FILE } from './subgraphs';

const yamlOf = (file: string) => parseYaml(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'));
const NAMES = SUBGRAPHS.map((s) => s.name as string).sort();

describe('supergraph.yaml (rover supergraph compose --config supergraph.yaml)', () => {
  const config = yamlOf('supergraph.yaml') as { federation_version: string; subgraphs: Record<string, { routing_url: string; schema: { file: string } }> };

  it('pins the federation version the repository composes with', () => {
    const composition = JSON.parse(fs.readFileSync(require.resolve('@apollo/composition/package.json'), 'utf8')) as { version: string };
    expect(config.federation_version).toBe(`=${composition.version}`);
  });

  it('lists the subgraphs of scripts/compose.ts, with their SDL files and routing URLs', () => {
    expect(Object.keys(config.subgraphs).sort()).toEqual(NAMES);
    for (const s of SUBGRAPHS) {
      const entry = config.subgraphs[s.name];
      expect(path.resolve(REPO_ROOT, entry.schema.file)).toBe(schemaFileOf(s.name));
      expect(entry.routing_url).toBe(routingUrlOf(s));
      expect(entry.routing_url).toBe(`http://localhost:${s.port}/graphql`);
    }
  });

  it('composes, as Rover would, into the committed supergraph', () => {
    const composed = composeFrom(
      Object.entries(config.subgraphs).map(([name, entry]) => ({ name, url: entry.routing_url, file: path.resolve(REPO_ROOT, entry.schema.file) })),
    );
    expect(composed).toBe(fs.readFileSync(SUPERGRAPH_FILE, 'utf8'));
  });
});

describe('deploy/router.yaml (Apollo Router)', () => {
  const router = yamlOf('deploy/router.yaml');
  const gateway = readGatewayConfig({});
  const edge = gateway.portal.edge!;

  it('sends each subgraph to the gateway’s <SUBGRAPH>_URL setting, with the gateway’s default', () => {
    expect(Object.keys(router.override_subgraph_url).sort()).toEqual(NAMES);
    for (const s of SUBGRAPHS) {
      expect(router.override_subgraph_url[s.name]).toBe(`\${env.${SUBGRAPH_URL_SETTINGS[s.name]}:-${gateway.subgraphUrls[s.name]}}/graphql`);
    }
  });

  it('listens where the gateway does, at /graphql, with no introspection or landing page', () => {
    expect(router.supergraph).toMatchObject({ listen: `\${env.HOST:-${gateway.host}}:\${env.PORT:-${gateway.port}}`, path: '/graphql', introspection: false });
    expect(router.sandbox.enabled).toBe(false);
    expect(router.homepage.enabled).toBe(false);
  });

  it('passes on the Authorization header, the request id and its proof, and the client address', () => {
    const propagated = router.headers.all.request.map((rule: { propagate?: { named: string } }) => rule.propagate?.named);
    expect(propagated).toEqual(['authorization', REQUEST_ID_HEADER, REQUEST_ID_PROOF_HEADER, 'x-forwarded-for']);
  });

  it('has the gateway’s default limits and subgraph timeout', () => {
    expect(router.limits).toEqual({
      max_depth: edge.document.maxDepth,
      max_root_fields: edge.document.maxRootFields,
      max_aliases: edge.document.maxAliases,
      parser_max_tokens: edge.document.maxTokens,
      http_max_request_bytes: edge.maxBodyBytes,
    });
    expect(router.traffic_shaping.all.timeout).toBe(`${DEFAULT_SUBGRAPH_LIMITS.subgraphTimeoutMs / 1000}s`);
    expect(gateway.subgraphTimeoutMs).toBe(DEFAULT_SUBGRAPH_LIMITS.subgraphTimeoutMs);
  });

  it('lets no browser origin call, as CORS_ORIGINS unset', () => {
    expect(edge.corsOrigins).toEqual([]);
    expect(router.cors).toEqual({ allow_any_origin: false, policies: [] });
  });
});
