import fs from 'node:fs';
import { compareSdl, parseDeliberateChanges, readDeliberateChanges } from './schemaEvolution';
import { previousSupergraph, supergraphAt } from './schemaHistory';
import { SUPERGRAPH_FILE } from './subgraphs';

const before = `
  type Query { patient(id: ID!, since: String): Patient!  search(filter: Filter): [Patient!]! }
  type Patient { id: ID!  name: String!  visits: [Visit!]!  age: Int }
  type Visit { id: ID!  minutes: Int }
  input Filter { name: String  active: Boolean }
`;

describe('compareSdl: the breaking changes a check lets through', () => {
  it('passes an unchanged schema and an added field', () => {
    expect(compareSdl(before, before, []).unapproved).toEqual([]);
    expect(compareSdl(before, before.replace('age: Int', 'age: Int  email: String'), []).unapproved).toEqual([]);
  });

  it('catches a removed field', () => {
    expect(compareSdl(before, before.replace('age: Int', ''), []).unapproved).toEqual([
      { type: 'FIELD_REMOVED', description: 'Patient.age was removed.' },
    ]);
  });

  it('catches a nullable argument made non-null', () => {
    expect(compareSdl(before, before.replace('since: String', 'since: String!'), []).unapproved).toEqual([
      { type: 'ARG_CHANGED_KIND', description: 'Query.patient arg since has changed type from String to String!.' },
    ]);
  });

  it('catches a nullable input field made non-null', () => {
    const changes = compareSdl(before, before.replace('active: Boolean', 'active: Boolean!'), []).unapproved;
    expect(changes.map((c) => c.type)).toEqual(['FIELD_CHANGED_KIND']);
    expect(changes[0].description).toContain('Filter.active');
  });

  it('catches an output field whose type changes, even when it also becomes nullable', () => {
    expect(compareSdl(before, before.replace('name: String!', 'name: Int'), []).unapproved.map((c) => c.type)).toEqual(['FIELD_CHANGED_KIND']);
  });

  it('reports an output field made nullable apart, without failing (the partial-answer fields of eef0bda)', () => {
    const after = before.replace('patient(id: ID!, since: String): Patient!', 'patient(id: ID!, since: String): Patient').replace('[Visit!]!', '[Visit]');
    const evolution = compareSdl(before, after, []);
    expect(evolution.unapproved).toEqual([]);
    expect(evolution.nullable.map((c) => c.description).sort()).toEqual([
      'Patient.visits changed type from [Visit!]! to [Visit].',
      'Query.patient changed type from Patient! to Patient.',
    ]);
  });

  it('lets a breaking change through when it is listed as deliberate, with exactly its type and description', () => {
    const removed = { type: 'FIELD_REMOVED', description: 'Patient.age was removed.', reason: 'Age follows from dateOfBirth; no client read it.' };
    const after = before.replace('age: Int', '');
    const evolution = compareSdl(before, after, [removed]);
    expect(evolution.unapproved).toEqual([]);
    expect(evolution.approved).toEqual([removed]);
    expect(compareSdl(before, after, [{ ...removed, description: 'Patient.name was removed.' }]).unapproved).toHaveLength(1);
    expect(compareSdl(before, after, [{ ...removed, type: 'TYPE_REMOVED' }]).unapproved).toHaveLength(1);
  });

  it('reports dangerous changes without failing', () => {
    const evolution = compareSdl(before, before.replace('since: String)', 'since: String, limit: Int)'), []);
    expect(evolution.unapproved).toEqual([]);
    expect(evolution.dangerous.map((c) => c.type)).toEqual(['OPTIONAL_ARG_ADDED']);
  });
});

describe('schema/breaking-changes.json', () => {
  it('is a list of {type, description, reason}, each with a reason', () => {
    expect(() => readDeliberateChanges()).not.toThrow();
    expect(() => parseDeliberateChanges('[{"type":"FIELD_REMOVED","description":"Patient.age was removed."}]', 'f.json')).toThrow(
      'f.json: entry 0 needs a non-empty "reason".',
    );
    expect(() => parseDeliberateChanges('{}', 'f.json')).toThrow(/expected a JSON array/);
  });
});

// CI runs on a clone of main, where `npm run schema:breaking` compares main with itself:
// this compares the committed supergraph with the one before its latest change.
describe('the committed supergraph against the one before its latest change', () => {
  const previous = previousSupergraph();
  const current = fs.readFileSync(SUPERGRAPH_FILE, 'utf8');

  if ('missing' in previous) {
    it.skip(`has no breaking change that is not listed as deliberate (skipped: no git history to compare with, ${previous.missing})`, () => {});
  } else {
    it(`has no breaking change that is not listed as deliberate (compared with ${previous.ref})`, () => {
      expect(compareSdl(previous.sdl, current, readDeliberateChanges()).unapproved).toEqual([]);
    });
  }

  const eef0bda = { before: supergraphAt('eef0bda^'), after: supergraphAt('eef0bda') };
  (eef0bda.before && eef0bda.after ? it : it.skip)('does not call the cross-subgraph fields made nullable in eef0bda breaking (skipped without that history)', () => {
    const evolution = compareSdl(eef0bda.before!, eef0bda.after!, []);
    expect(evolution.unapproved).toEqual([]);
    expect(evolution.nullable).toHaveLength(15);
    expect(evolution.nullable.map((c) => c.description)).toContain('Patient.prescriptions changed type from [Prescription!]! to [Prescription!].');
  });
});
