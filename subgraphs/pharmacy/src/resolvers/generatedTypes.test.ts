/**
 * The resolver map is typed by the types generated from schema.graphql
 * (src/generated/graphql.ts, `npm run codegen`). The `@ts-expect-error` lines
 * below are the proof: `tsc --noEmit` (the first step of `npm test`) fails with
 * "Unused '@ts-expect-error' directive" the day one of them compiles, that is,
 * the day a resolver for a field the SDL lacks, with wrong arguments or with a
 * wrong return shape would be accepted. At run time the test checks that the
 * real map names only types and fields of the SDL, which @apollo/subgraph
 * would otherwise ignore in silence.
 */
import { Kind, type ObjectTypeDefinitionNode, type ObjectTypeExtensionNode } from 'graphql';
import type { MutationResolvers, PrescriptionResolvers, QueryResolvers, Resolvers } from '../generated/graphql';
import { typeDefs } from '../schema';
import { resolvers } from '.';

// A field the SDL does not have (Prescription.refillable misspelled).
export const misspelled: PrescriptionResolvers = {
  // @ts-expect-error 'refilable' does not exist in type 'PrescriptionResolvers'
  refilable: () => true,
};

// A type the SDL does not have.
export const unknownType: Resolvers = {
  // @ts-expect-error 'Prescriptoin' does not exist in type 'Resolvers'
  Prescriptoin: {},
};

// An argument the field does not take, and one of the wrong type.
export const wrongArguments: QueryResolvers = {
  // @ts-expect-error Query.pharmacistLookup has patientId and reason, no patientID
  pharmacistLookup: (_, args) => ({ id: args.patientID }),
  // @ts-expect-error kind is a PharmacyRequestKind, not a number
  pendingPharmacyRequests: (_, args) => (args.kind === 1 ? [] : []),
};

// A wrong return shape: Prescription.refillable is a Boolean!, Mutation.requestRefill a PharmacyRequest!.
export const wrongReturns: PrescriptionResolvers & MutationResolvers = {
  // @ts-expect-error a string is not a Boolean
  refillable: () => 'yes',
  // @ts-expect-error a PharmacyRequest needs more than an id (the mapper's PharmacyRequestModel)
  requestRefill: () => ({ id: 'rq-1' }),
};

// A parent of the wrong model: Prescription's resolvers receive PrescriptionModel (resolvers/mappers.ts).
export const wrongParent: PrescriptionResolvers = {
  // @ts-expect-error PrescriptionModel has no `status` (the service derives it)
  status: (rx) => rx.status,
};

describe('pharmacy resolver map', () => {
  it('names only types and fields that schema.graphql declares', () => {
    const fields = new Map<string, Set<string>>();
    for (const def of typeDefs.definitions) {
      if (def.kind === Kind.SCALAR_TYPE_DEFINITION) fields.set(def.name.value, new Set());
      if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const type = def as ObjectTypeDefinitionNode | ObjectTypeExtensionNode;
      const known = fields.get(type.name.value) ?? new Set(['__resolveReference']);
      for (const f of type.fields ?? []) known.add(f.name.value);
      fields.set(type.name.value, known);
    }
    const unknown = Object.entries(resolvers).flatMap(([typeName, map]) => {
      const known = fields.get(typeName);
      if (!known) return [typeName];
      if (known.size === 0) return []; // a scalar
      return Object.keys(map as object)
        .filter((f) => !known.has(f))
        .map((f) => `${typeName}.${f}`);
    });
    expect(unknown).toEqual([]);
    expect(Object.keys(resolvers)).toEqual(expect.arrayContaining(['Query', 'Mutation', 'Prescription', 'PharmacyRequest', 'Patient', 'Medication']));
  });
});
