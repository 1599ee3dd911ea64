import fs from 'node:fs';
import path from 'node:path';
import { parse, validate, type GraphQLSchema } from 'graphql';
import { apiSchemaOf } from './compose';
import { depthLimit, MAX_QUERY_DEPTH } from './depthLimit';
import { REPO_ROOT, SUPERGRAPH_FILE } from './subgraphs';

const api: GraphQLSchema = apiSchemaOf(fs.readFileSync(SUPERGRAPH_FILE, 'utf8'));
const check = (query: string, max = MAX_QUERY_DEPTH) => validate(api, parse(query), [depthLimit(max)]).map((e) => e.message);

/** Patient -> careTeams -> threads -> patient -> careTeams ... `rounds` times. */
function nested(rounds: number): string {
  let inner = 'id';
  for (let i = 0; i < rounds; i++) inner = `careTeams { threads(first: 1) { edges { node { patient { ${inner} } } } } }`;
  return `{ me { patient { ${inner} } } }`;
}

describe('depthLimit', () => {
  it('lets every contract operation through', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'schema', 'operations', 'portal.graphql'), 'utf8');
    expect(check(doc)).toEqual([]);
  });

  it('refuses a query nested deeper than the limit, counting through fragments', () => {
    expect(check(nested(1))).toEqual([]);
    expect(check(nested(4))).toEqual([`The operation is nested more than ${MAX_QUERY_DEPTH} levels deep; ask for less at a time.`]);
    const viaFragments = `query { me { ...A } } fragment A on Me { patient { ...B } } fragment B on Patient { careTeams { threads { edges { node { id } } } } }`;
    expect(check(viaFragments, 7)).toEqual([]);
    expect(check(viaFragments, 6)).toHaveLength(1);
  });

  it('does not loop on a fragment cycle (graphql-js reports the cycle itself)', () => {
    const cyclic = `query { me { ...A } } fragment A on Me { patient { id } ...B } fragment B on Me { ...A }`;
    expect(check(cyclic)).toEqual([]);
  });
});
