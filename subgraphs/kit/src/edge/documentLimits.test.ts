import { buildSchema, parse, validate, type OperationDefinitionNode } from 'graphql';
import { DEFAULT_DOCUMENT_LIMITS, DocumentMeter, documentLimits, type DocumentLimits } from './documentLimits';

const schema = buildSchema(`
  type Query { me: Person, people(first: Int = 10): PersonConnection!, tags: [String!]!, person(id: ID!): Person }
  type Person { id: ID!, name: String, friends: [Person!]!, page(first: Int): PersonConnection! }
  type PersonConnection { edges: [PersonEdge!]! }
  type PersonEdge { node: Person! }
`);

const limits: DocumentLimits = { ...DEFAULT_DOCUMENT_LIMITS, maxDepth: 6, maxAliases: 3, maxRootFields: 3, maxDirectives: 2, maxCost: 1_000, listSize: 10 };
const check = (query: string, l = limits) => validate(schema, parse(query), [documentLimits(l)]).map((e) => e.message);
const measure = (query: string, l = limits) => {
  const doc = parse(query);
  const meter = new DocumentMeter(doc, schema, l);
  return { ...meter.measure(doc.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode), walks: meter.fragmentWalks };
};

/** `fragment F0 on Query { ...F1 ...F1 } ... fragment F{n} on Query { leaf }`: 2^n leaves when expanded. */
function doubling(levels: number, leaf = 'tags'): string {
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  return `query { ...F0 } ${fragments.join(' ')} fragment F${levels} on Query { ${leaf} }`;
}

describe('DocumentMeter', () => {
  it('walks each fragment once however often it is spread (30 levels of doubling)', () => {
    const m = measure(doubling(30), { ...limits, maxCost: Number.MAX_SAFE_INTEGER });
    expect(m.walks.size).toBe(31);
    expect([...m.walks.values()].every((n) => n === 1)).toBe(true);
    // 2^30 spreads of `tags` (a list of scalars: 1 each) are still counted.
    expect(m.cost).toBe(2 ** 30);
    expect(m.rootFields).toBe(2 ** 30);
  });

  it('stops at the first limit passed', () => {
    const m = measure(doubling(30));
    expect(m.cost).toBeGreaterThan(limits.maxCost);
    expect(m.cost).toBeLessThan(4 * limits.maxCost);
    expect([...m.walks.values()].every((n) => n === 1)).toBe(true);
  });

  it('multiplies list fields by first, their default, or the list size; edges count once', () => {
    // people(first: 3): 1 + 3 * (edges 1 + 1 * (node 1 + 1 * (id 1 + friends (1 + 10 * id 1))))
    expect(measure('{ people(first: 3) { edges { node { id friends { id } } } } }').cost).toBe(1 + 3 * (1 + (1 + (1 + (1 + 10)))));
    expect(measure('{ people { edges { node { id } } } }').cost).toBe(1 + 10 * (1 + (1 + 1)));
    expect(measure('query($n: Int) { me { page(first: $n) { edges { node { id } } } } }').cost).toBe(1 + (1 + 10 * 3));
  });

  it('does not loop on a fragment cycle (graphql-js reports the cycle itself)', () => {
    expect(measure('query { me { ...A } } fragment A on Person { id ...B } fragment B on Person { ...A }').depth).toBe(2);
  });
});

describe('documentLimits', () => {
  it('lets an ordinary operation through', () => {
    expect(check('query { me { id name friends { id } } people(first: 5) { edges { node { id } } } }')).toEqual([]);
  });

  it('refuses fragment doubling by its cost', () => {
    expect(check(doubling(30))).toContain('The operation would resolve more than 1000 fields; ask for less at a time.');
  });

  it('refuses nesting past the depth, counting through fragments and inline fragments', () => {
    const deepOnly = { ...limits, maxCost: 1e9 };
    expect(check('{ me { friends { friends { friends { friends { id } } } } } }', deepOnly)).toEqual([]);
    expect(check('{ me { ... on Person { friends { ...F } } } } fragment F on Person { friends { friends { friends { friends { id } } } } }', deepOnly)).toEqual([
      'The operation is nested more than 6 levels deep; ask for less at a time.',
    ]);
  });

  it('refuses too many aliases, root fields and directives', () => {
    expect(check('{ a: me { id } b: me { id } c: me { id } d: me { id } }')).toEqual(
      expect.arrayContaining(['The document uses more than 3 aliases; ask for less at a time.', 'The operation asks for more than 3 fields at its root; split it.']),
    );
    expect(check('{ me { id @include(if: true) name @skip(if: false) friends @include(if: true) { id } } }')).toEqual(['The document uses more than 2 directives.']);
  });

  it('counts root fields through fragments', () => {
    expect(check('{ ...R ...R } fragment R on Query { me { id } tags }')).toEqual(['The operation asks for more than 3 fields at its root; split it.']);
  });
});
