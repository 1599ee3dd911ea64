import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

/** Deep enough for every contract operation and the record download (at most 10 levels). */
export const MAX_QUERY_DEPTH = 15;

/**
 * Refuses operations nested deeper than `max` fields, before any subgraph is
 * called: a cheap guard against queries built to exhaust the graph
 * (Patient -> careTeams -> threads -> patient -> ... without end).
 */
export function depthLimit(max = MAX_QUERY_DEPTH) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);

    const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let deepest = 0;
      for (const sel of set.selections) {
        let d = 0;
        if (sel.kind === Kind.FIELD) d = sel.selectionSet ? 1 + depthOf(sel.selectionSet, seen) : 1;
        else if (sel.kind === Kind.INLINE_FRAGMENT) d = depthOf(sel.selectionSet, seen);
        else {
          const name = sel.name.value;
          const fragment = fragments.get(name);
          // A fragment spread cycle is reported by graphql-js's own rule; do not loop on it.
          if (fragment && !seen.has(name)) d = depthOf(fragment.selectionSet, new Set([...seen, name]));
        }
        deepest = Math.max(deepest, d);
        if (deepest > max) return deepest;
      }
      return deepest;
    };

    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, new Set());
        if (depth > max) {
          context.reportError(
            new GraphQLError(`The operation is nested more than ${max} levels deep; ask for less at a time.`, { nodes: [node] }),
          );
        }
      },
    };
  };
}
