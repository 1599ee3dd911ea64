import { parse } from 'graphql';
import { anyOf, careTeam, definePolicy, forbidden, patientSelf, pharmacist, serviceScope, type SubgraphContext, type SubgraphModule } from '@portal/kit';

/** The probe's own policy: may the viewer read an appointment, or a visit note, of the patient. */
const probePolicy = definePolicy({
  healthTypes: [],
  otherTypes: {},
  openFields: {},
  entries: {
    'Query.mayRead#appointment': { allow: anyOf(patientSelf, careTeam, serviceScope('scheduling:read')), audit: { kind: 'appointment', action: 'read' } },
    'Query.mayRead#visit_note': { allow: anyOf(patientSelf, careTeam, serviceScope('clinical-records:read')), audit: { kind: 'visit_note', action: 'read' } },
    'Query.mayRead#prescription': { allow: anyOf(patientSelf, careTeam, pharmacist, serviceScope('pharmacy:read')), audit: { kind: 'prescription', action: 'read' } },
  },
});
type ProbeKind = 'appointment' | 'visit_note' | 'prescription';

/**
 * A minimal "other subgraph" for identity's tests: it verifies tokens against
 * identity's JWKS and checks sessions the way every other subgraph does, and
 * asks a declared policy about one record kind.
 */
export function probeModule(): SubgraphModule<SubgraphContext> {
  return {
    name: 'probe',
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query {
        whoami: String
        mayRead(patientId: ID!, kind: String!): Boolean
      }
    `),
    resolvers: {
      Query: {
        whoami: (_: unknown, __: unknown, ctx: SubgraphContext) => ctx.access.requireViewer().accountId,
        async mayRead(_: unknown, args: { patientId: string; kind: ProbeKind }, ctx: SubgraphContext) {
          const entry = `Query.mayRead#${args.kind}` as const;
          if (!(entry in probePolicy.entries)) throw forbidden();
          await probePolicy.assert(entry, ctx.access, args.patientId);
          return true;
        },
      },
    },
    entities: [],
    migrations: [],
    createContext: (base) => base,
  };
}
