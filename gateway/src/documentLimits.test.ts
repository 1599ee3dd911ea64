import fs from 'node:fs';
import { Lexer, parse, Source, TokenKind, validate, type OperationDefinitionNode } from 'graphql';
import { countAliasesAndDirectives, DEFAULT_DOCUMENT_LIMITS, DEFAULT_EDGE_SETTINGS, DocumentMeter, documentLimits } from '@portal/kit';
import { apiSchemaOf } from './compose';
import { EVERYTHING_QUERY } from './fhir/record';
import { buildManifest } from './operations';
import { SUPERGRAPH_FILE } from './subgraphs';

const api = apiSchemaOf(fs.readFileSync(SUPERGRAPH_FILE, 'utf8'));
const contract = buildManifest().operations;
const L = DEFAULT_DOCUMENT_LIMITS;

function tokens(text: string): number {
  const lexer = new Lexer(new Source(text));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

describe('the default document limits', () => {
  it('cover the 31 contract operations and the project\'s own additions (51 in all)', () => expect(contract).toHaveLength(51));

  // "A portal client never meets them": every contract operation uses at most half of each.
  it.each(contract.map((op) => [op.name, op.body] as const))('%s stays within half of every limit', (_, body) => {
    const doc = parse(body);
    const m = new DocumentMeter(doc, api, L).measure(doc.definitions[0] as OperationDefinitionNode);
    const { aliases, directives } = countAliasesAndDirectives(doc);
    expect(m.depth).toBeLessThanOrEqual(L.maxDepth / 2);
    expect(m.cost).toBeLessThanOrEqual(L.maxCost / 2);
    expect(m.rootFields).toBeLessThanOrEqual(L.maxRootFields / 2);
    expect(aliases).toBeLessThanOrEqual(L.maxAliases / 2);
    expect(directives).toBeLessThanOrEqual(L.maxDirectives / 2);
    expect(tokens(body)).toBeLessThanOrEqual(L.maxTokens / 2);
    expect(body.length).toBeLessThanOrEqual(DEFAULT_EDGE_SETTINGS.maxQueryChars / 2);
    expect(validate(api, doc, [documentLimits(L)])).toEqual([]);
  });

  it('let the record download’s own query through (100 rows a page)', () => {
    expect(validate(api, parse(EVERYTHING_QUERY), [documentLimits(L)])).toEqual([]);
  });

  it('refuse an operation nested past the depth limit through the real schema', () => {
    let inner = 'id';
    for (let i = 0; i < 5; i++) inner = `careTeams { threads(first: 1) { edges { node { patient { ${inner} } } } } }`;
    expect(validate(api, parse(`{ me { patient { ${inner} } } }`), [documentLimits(L)]).map((e) => e.message)).toEqual([
      `The operation is nested more than ${L.maxDepth} levels deep; ask for less at a time.`,
    ]);
  });
});
