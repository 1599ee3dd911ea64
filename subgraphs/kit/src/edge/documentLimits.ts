import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

/** Bounds on one GraphQL document, checked at validation (tokens at parsing). */
export interface DocumentLimits {
  /** Fields nested inside each other, counting through fragments. */
  maxDepth: number;
  /** Aliased fields in the document's text. */
  maxAliases: number;
  /** Fields at the root of one operation, counting through fragments. */
  maxRootFields: number;
  /** Directives in the document's text. */
  maxDirectives: number;
  /** Lexical tokens: graphql-js `parse` gives up past this many. */
  maxTokens: number;
  /** Estimated fields resolved: each field counts 1, a list field multiplies what it selects by its page size. */
  maxCost: number;
  /** The page size assumed for a list field without a `first` argument (and for `first` given as a variable without default). */
  listSize: number;
}

/**
 * Far above what any contract operation needs (a test holds each at most half of
 * every limit), far below what freezes a server.
 */
export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  maxDepth: 20,
  maxAliases: 30,
  maxRootFields: 20,
  maxDirectives: 20,
  maxTokens: 3_000,
  maxCost: 50_000,
  listSize: 10,
};

/** What one operation asks for, as the limits count it. Values past a limit are where counting stopped. */
export interface OperationMeasure {
  depth: number;
  cost: number;
  rootFields: number;
}

interface Summary extends OperationMeasure {
  /** Counting stopped early because a limit was passed. */
  over: boolean;
}

const EMPTY: Summary = { depth: 0, cost: 0, rootFields: 0, over: false };

/**
 * Measures depth, cost and root fields of the operations of one document.
 * Each fragment is walked once, whatever the number of its spreads (so
 * `fragment F0 { ...F1 ...F1 } fragment F1 { ...F2 ...F2 } ...` costs linear
 * time, not 2^n), and walking stops as soon as a limit is passed.
 */
export class DocumentMeter {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly memo = new Map<string, Summary>();
  private readonly inProgress = new Set<string>();
  /** How often each fragment's selection set was walked (tests assert once). */
  readonly fragmentWalks = new Map<string, number>();

  constructor(
    document: DocumentNode,
    private readonly schema: GraphQLSchema | undefined,
    private readonly limits: DocumentLimits,
  ) {
    for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(def.name.value, def);
  }

  measure(operation: OperationDefinitionNode): OperationMeasure {
    const root = this.schema?.getRootType(operation.operation) ?? undefined;
    const { depth, cost, rootFields } = this.walk(operation.selectionSet, root);
    return { depth, cost, rootFields };
  }

  private fragment(name: string): Summary {
    const known = this.memo.get(name);
    if (known) return known;
    const def = this.fragments.get(name);
    // An unknown fragment or a cycle is reported by graphql-js's own rules; count nothing for it.
    if (!def || this.inProgress.has(name)) return EMPTY;
    this.inProgress.add(name);
    this.fragmentWalks.set(name, (this.fragmentWalks.get(name) ?? 0) + 1);
    const summary = this.walk(def.selectionSet, this.schema?.getType(def.typeCondition.name.value) ?? undefined);
    this.inProgress.delete(name);
    this.memo.set(name, summary);
    return summary;
  }

  private walk(set: SelectionSetNode, parent: GraphQLNamedType | undefined): Summary {
    const out: Summary = { depth: 0, cost: 0, rootFields: 0, over: false };
    const { maxDepth, maxCost } = this.limits;
    for (const sel of set.selections) {
      let child: Summary;
      if (sel.kind === Kind.FIELD) {
        const { type, multiplier } = this.fieldInfo(sel, parent);
        child = sel.selectionSet ? this.walk(sel.selectionSet, type) : EMPTY;
        out.rootFields += 1;
        out.depth = Math.max(out.depth, child.depth + 1);
        out.cost += 1 + multiplier * child.cost;
      } else {
        if (sel.kind === Kind.INLINE_FRAGMENT) {
          const type = sel.typeCondition ? this.schema?.getType(sel.typeCondition.name.value) ?? undefined : parent;
          child = this.walk(sel.selectionSet, type);
        } else {
          child = this.fragment(sel.name.value);
        }
        out.rootFields += child.rootFields;
        out.depth = Math.max(out.depth, child.depth);
        out.cost += child.cost;
      }
      if (child.over || out.depth > maxDepth || out.cost > maxCost) {
        out.over = true;
        return out;
      }
    }
    return out;
  }

  private fieldInfo(field: FieldNode, parent: GraphQLNamedType | undefined): { type: GraphQLNamedType | undefined; multiplier: number } {
    const def = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[field.name.value] : undefined;
    if (!def) return { type: undefined, multiplier: 1 };
    const type = getNamedType(def.type);
    // One representation each: their number is known only at execution, where the subgraph bounds it (guardFederationFields).
    if (field.name.value === '_entities') return { type, multiplier: 1 };
    const first = def.args.find((a) => a.name === 'first');
    if (first) {
      const given = field.arguments?.find((a) => a.name.value === 'first')?.value;
      if (given?.kind === Kind.INT) return { type, multiplier: Math.max(0, Number(given.value)) };
      return { type, multiplier: typeof first.defaultValue === 'number' ? first.defaultValue : this.limits.listSize };
    }
    // A connection's edges were paid for by the field that took `first`.
    const paged = parent!.name.endsWith('Connection') && (field.name.value === 'edges' || field.name.value === 'nodes');
    return { type, multiplier: isListType(getNullableType(def.type)) && !paged ? this.limits.listSize : 1 };
  }
}

/** Counts aliases and directives in a document's text: linear, fragments are not expanded. */
export function countAliasesAndDirectives(document: DocumentNode): { aliases: number; directives: number } {
  let aliases = 0;
  let directives = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as { kind?: string; alias?: unknown };
    if (n.kind === Kind.FIELD && n.alias) aliases++;
    if (n.kind === Kind.DIRECTIVE) directives++;
    for (const [key, value] of Object.entries(node)) if (key !== 'loc' && value && typeof value === 'object') visit(value);
  };
  visit(document);
  return { aliases, directives };
}

const refuse = (message: string, nodes?: readonly OperationDefinitionNode[]) =>
  new GraphQLError(message, nodes ? { nodes } : {});

/**
 * One validation rule for every bound of `limits` but tokens (a `parse`
 * option): depth, root fields and cost per operation, aliases and directives
 * per document. Runs once per document, in time linear in its size.
 */
export function documentLimits(limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS) {
  return (context: ValidationContext): ASTVisitor => ({
    Document: {
      enter(document) {
        const { aliases, directives } = countAliasesAndDirectives(document);
        if (aliases > limits.maxAliases) context.reportError(refuse(`The document uses more than ${limits.maxAliases} aliases; ask for less at a time.`));
        if (directives > limits.maxDirectives) context.reportError(refuse(`The document uses more than ${limits.maxDirectives} directives.`));
        const meter = new DocumentMeter(document, context.getSchema(), limits);
        for (const def of document.definitions) {
          if (def.kind !== Kind.OPERATION_DEFINITION) continue;
          const m = meter.measure(def);
          if (m.depth > limits.maxDepth) {
            context.reportError(refuse(`The operation is nested more than ${limits.maxDepth} levels deep; ask for less at a time.`, [def]));
          } else if (m.cost > limits.maxCost) {
            context.reportError(refuse(`The operation would resolve more than ${limits.maxCost} fields; ask for less at a time.`, [def]));
          }
          if (m.rootFields > limits.maxRootFields) {
            context.reportError(refuse(`The operation asks for more than ${limits.maxRootFields} fields at its root; split it.`, [def]));
          }
        }
        // Nothing below the document needs visiting for these limits.
        return false;
      },
    },
  });
}
