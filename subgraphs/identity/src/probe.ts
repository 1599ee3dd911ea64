import { parse } from 'graphql';
import type { RecordKind, SubgraphContext, SubgraphModule } from '@portal/kit';

/**
 * A minimal "other subgraph" for identity's tests: it verifies tokens against
 * identity's JWKS and checks sessions the way every other subgraph does, and
 * asks the kit's Access about one record kind.
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
        async mayRead(_: unknown, args: { patientId: string; kind: RecordKind }, ctx: SubgraphContext) {
          await ctx.access.assert(args.patientId, args.kind);
          return true;
        },
      },
    },
    entities: [],
    migrations: [],
    createContext: (base) => base,
  };
}
