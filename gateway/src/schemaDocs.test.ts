import fs from 'node:fs';
import { composeServices } from '@apollo/composition';
import { buildSchema, parse } from 'graphql';
import { ErrorCode } from '@portal/kit';
import { SUBGRAPH_ERROR_CODES } from './generated/errorCodes';
import { apiSchemaOf } from './compose';
import { allDescriptions, docCountOfSchema, undocumentedInSchema, undocumentedInSdl } from './schemaDocs';
import { SUBGRAPHS, SUPERGRAPH_FILE, schemaFileOf } from './subgraphs';

const api = apiSchemaOf(fs.readFileSync(SUPERGRAPH_FILE, 'utf8'));
const sdlOf = (name: (typeof SUBGRAPHS)[number]['name']) => parse(fs.readFileSync(schemaFileOf(name), 'utf8'));

describe('the graph’s documentation (what Sandbox shows)', () => {
  it('describes the schema and every type, field, argument, input field and enum value of the API schema', () => {
    expect(undocumentedInSchema(api)).toEqual([]);
  });

  it('counts every element as described', () => {
    const count = docCountOfSchema(api);
    for (const { total, described } of Object.values(count)) expect(described).toBe(total);
    // Guards the walk itself: a walk that found nothing would pass the test above.
    expect(count.types.total).toBeGreaterThanOrEqual(80);
    expect(count.fields.total).toBeGreaterThanOrEqual(240);
    expect(count.arguments.total).toBeGreaterThanOrEqual(45);
    expect(count.enumValues.total).toBeGreaterThanOrEqual(60);
  });

  it.each(SUBGRAPHS.map((s) => [s.name]))('%s: every definition in its schema.graphql has a description', (name) => {
    expect(undocumentedInSdl(sdlOf(name), name === 'identity')).toEqual([]);
  });

  it('gives a type or field shared by several subgraphs the same description in each (no INCONSISTENT_DESCRIPTION hint)', () => {
    const result = composeServices(SUBGRAPHS.map((s) => ({ name: s.name, url: `http://localhost:${s.port}/graphql`, typeDefs: sdlOf(s.name) })));
    expect(result.errors).toBeUndefined();
    expect((result.hints ?? []).filter((h) => h.definition.code === 'INCONSISTENT_DESCRIPTION').map((h) => h.message)).toEqual([]);
  });

  it('mentions every code of the error registries (the kit’s generic ones and each subgraph’s)', () => {
    const text = allDescriptions(api);
    const missing = [...Object.values(ErrorCode), ...Object.values(SUBGRAPH_ERROR_CODES).flat()].filter((code) => !new RegExp(`\\b${code}\\b`).test(text));
    expect(missing).toEqual([]);
  });
});

describe('undocumentedInSchema / undocumentedInSdl', () => {
  const sdl = `
    "The schema" schema { query: Query }
    "Q" type Query { "f" f(a: Int, "b" b: Int): E  g: In }
    enum E { "x" X Y }
    input In { "p" p: Int q: Int }
    scalar S
  `;

  it('name every undescribed element by its schema coordinate', () => {
    expect(undocumentedInSchema(buildSchema(sdl)).sort()).toEqual(['E', 'E.Y', 'In', 'In.q', 'Query.f(a:)', 'Query.g', 'S'].sort());
    expect(undocumentedInSdl(parse(sdl), true).sort()).toEqual(['E', 'E.Y', 'In', 'In.q', 'Query.f(a:)', 'Query.g', 'S'].sort());
  });

  it('leave Query and Mutation to the subgraph that describes them, but not their fields', () => {
    expect(undocumentedInSdl(parse('type Query { "f" f: Int g: Int }'), false)).toEqual(['Query.g']);
    expect(undocumentedInSchema(buildSchema('type Query { "f" f: Int }'))).toEqual(['schema', 'Query']);
  });
});
