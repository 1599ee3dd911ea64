import { parse } from 'graphql';
import { anyOf, definePolicy, patientSelf, serviceScope, type PolicyEntry } from './policy';
import { policyCoverageProblems } from './policyCoverage';

const sdl = parse(`
  type Query { topics: [Topic!]! note(id: ID!): Note }
  type Mutation { writeNote(text: String!): Note }
  type Topic { id: ID! title: String! }
  type Note @key(fields: "id") { id: ID! text: String! }
  type Patient @key(fields: "id") { id: ID! notes: [Note!]! latest: Wrapper }
  type Wrapper { note: Note }
  type Practitioner @key(fields: "id", resolvable: false) { id: ID! }
`);

const entry: PolicyEntry = { allow: anyOf(patientSelf, serviceScope('notes:read')), audit: { kind: 'note', action: 'read' } };
const complete = {
  healthTypes: ['Note'],
  otherTypes: { Topic: 'public', Patient: 'stub', Wrapper: 'holder', Practitioner: 'stub' },
  openFields: { 'Query.topics': 'public topics' } as Record<string, string>,
  entries: {
    'Query.note': entry,
    'Mutation.writeNote': entry,
    'Note.__resolveReference': entry,
    'Patient.notes': entry,
    'Patient.latest': entry,
  } as Record<string, PolicyEntry>,
};
const without = (key: string) => {
  const entries = { ...complete.entries };
  delete entries[key];
  return definePolicy({ ...complete, entries });
};

describe('policyCoverageProblems', () => {
  it('finds nothing for a policy naming every route to health data', () => {
    expect(policyCoverageProblems(sdl, definePolicy(complete))).toEqual([]);
  });

  it('names a root field with no entry and no review', () => {
    expect(policyCoverageProblems(sdl, without('Mutation.writeNote'))).toContain('Mutation.writeNote has no policy entry and is not a reviewed open field');
  });

  it('names an entity field that reaches a health type, directly or through another type', () => {
    expect(policyCoverageProblems(sdl, without('Patient.notes'))).toEqual(['Patient.notes reaches health type Note (from a reference to Patient) with no policy entry on the way']);
    expect(policyCoverageProblems(sdl, without('Patient.latest'))).toEqual(['Wrapper.note reaches health type Note (from a reference to Patient) with no policy entry on the way']);
  });

  it('names a health entity the router can fetch by reference with no __resolveReference entry', () => {
    expect(policyCoverageProblems(sdl, without('Note.__resolveReference'))).toEqual([
      'Note is a health type the router can fetch by reference, with no Note.__resolveReference entry',
    ]);
  });

  it('names entries and open fields that are not in the schema, and a reference entry of a type that cannot be fetched', () => {
    const policy = definePolicy({
      ...complete,
      openFields: { ...complete.openFields, 'Query.gone': 'x' },
      entries: { ...complete.entries, 'Patient.nope': entry, 'Practitioner.__resolveReference': entry },
    });
    expect(policyCoverageProblems(sdl, policy)).toEqual([
      'Patient.nope is in the policy but not in the schema',
      'Practitioner.__resolveReference is in the policy but not in the schema',
      'Query.gone is in the policy but not in the schema',
    ]);
  });

  it('names a type neither declared health nor reviewed, and one declared but missing', () => {
    const policy = definePolicy({ ...complete, otherTypes: { Patient: 'stub', Wrapper: 'holder', Practitioner: 'stub', Ghost: 'gone' } });
    expect(policyCoverageProblems(sdl, policy)).toEqual(['type Topic is neither a health type nor reviewed as other', 'type Ghost is declared but not in the schema']);
  });

  it('names a reviewed type or open field without a reason', () => {
    const policy = definePolicy({ ...complete, otherTypes: { ...complete.otherTypes, Topic: ' ' }, openFields: { 'Query.topics': '' } });
    expect(policyCoverageProblems(sdl, policy)).toEqual(['Topic is reviewed without a reason', 'Query.topics is reviewed without a reason']);
  });
});
