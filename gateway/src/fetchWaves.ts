/**
 * Entity fetches of one client request, sent to each subgraph in waves.
 *
 * Apollo's query planner plans each branch of an operation on its own: on
 * PortalView, identity is asked four times for names (the appointments'
 * practitioners, the prescribers, the note authors, the care teams), each
 * right after the branch before it answered; ten subgraph requests in all.
 * Hive Gateway's planner merges the fetches of one level and sends seven.
 *
 * Here an entity fetch (`_entities` with `$representations`) is held until no
 * other request of the same client request is in flight, so the fetches that
 * the answers of one level start go out together: those to the same subgraph
 * as one operation (each part's root field aliased `_<i>_...`, its variables
 * and fragments renamed alike), then the answer is split back into each
 * part's own. A fetch is never held behind anything but fetches of its own
 * client request, and a held fetch goes out in the same turn of the event loop
 * in which the last one in flight answered: the plan's order (a Sequence's
 * steps) is kept, since the executor asks for a step only once the one
 * before it has answered.
 *
 * Nothing is merged that the subgraph would answer differently on its own: a
 * merged operation must stay within the document limits the subgraphs apply
 * (root fields and aliases counted here; a merged operation a subgraph still
 * refuses, 400, goes part by part, and is not merged again if every part
 * alone was answered), and a part
 * whose answer came back empty because another part's error nulled the
 * whole operation is asked again alone.
 */
import { Kind, parse, print, visit, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode, type VariableDefinitionNode } from 'graphql';

/** The JSON body of one subgraph request, as Apollo's data source builds it. */
export interface SubgraphRequestBody {
  query?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/** A GraphQL answer's JSON body. */
export interface SubgraphAnswer {
  data?: Record<string, unknown> | null;
  errors?: { path?: readonly (string | number)[]; [key: string]: unknown }[];
  extensions?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Whether a subgraph request is an entity fetch the wave may hold: Apollo passes the entities as `$representations`. */
export function isEntityFetch(body: SubgraphRequestBody): boolean {
  return body.variables !== undefined && Array.isArray(body.variables.representations) && typeof body.query === 'string' && body.extensions === undefined;
}

export interface MergeLimits {
  maxRootFields: number;
  maxAliases: number;
}

const prefixOf = (i: number) => `_${i}_`;

/**
 * One operation asking for what each query asks, or undefined when they cannot
 * be merged (not a single query operation, a root selection that is not a
 * field, or past the limits).
 */
export function mergeQueries(queries: readonly string[], limits: MergeLimits): { query: string; operationName: string } | undefined {
  const variableDefinitions: VariableDefinitionNode[] = [];
  const selections: SelectionNode[] = [];
  const fragments: FragmentDefinitionNode[] = [];
  let aliases = 0;
  let firstName: string | undefined;
  for (const [i, query] of queries.entries()) {
    let document: DocumentNode;
    try {
      document = parse(query, { noLocation: true });
    } catch {
      return undefined;
    }
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const [operation] = operations;
    if (operations.length !== 1 || operation.operation !== 'query' || operation.directives?.length) return undefined;
    if (!operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD)) return undefined;
    const prefix = prefixOf(i);
    const renamed = visit(document, {
      Variable: (node) => ({ ...node, name: { ...node.name, value: prefix + node.name.value } }),
      FragmentDefinition: (node) => ({ ...node, name: { ...node.name, value: prefix + node.name.value } }),
      FragmentSpread: (node) => ({ ...node, name: { ...node.name, value: prefix + node.name.value } }),
      Field: (node) => {
        if (node.alias) aliases++;
        return undefined;
      },
    });
    for (const definition of renamed.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.push(definition);
      else if (definition.kind === Kind.OPERATION_DEFINITION) {
        variableDefinitions.push(...(definition.variableDefinitions ?? []));
        for (const field of definition.selectionSet.selections as FieldNode[]) {
          if (!field.alias) aliases++;
          selections.push({ ...field, alias: { kind: Kind.NAME, value: prefix + (field.alias?.value ?? field.name.value) } });
        }
        firstName ??= definition.name?.value ?? 'Entities';
      }
    }
  }
  if (selections.length > limits.maxRootFields || aliases > limits.maxAliases) return undefined;
  const operationName = `${firstName}__merged_${queries.length}`;
  const merged: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: 'query' as OperationDefinitionNode['operation'],
        name: { kind: Kind.NAME, value: operationName },
        variableDefinitions,
        directives: [],
        selectionSet: { kind: Kind.SELECTION_SET, selections },
      },
      ...fragments,
    ],
  };
  return { query: print(merged), operationName };
}

/** The variables of the merged operation: each part's, renamed as `mergeQueries` renamed them. */
export function mergeVariables(parts: readonly SubgraphRequestBody[]): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const [i, part] of parts.entries()) for (const [name, value] of Object.entries(part.variables ?? {})) variables[prefixOf(i) + name] = value;
  return variables;
}

/**
 * The merged operation's answer as each part would have had it alone: its
 * own root fields unaliased, the errors at its paths (with the path's first
 * step unaliased) and those at no part's path. `alone` marks a part whose
 * data the answer does not hold though nothing of its own failed (another
 * part's error nulled the whole answer): it must be asked again alone.
 */
export function splitAnswer(answer: SubgraphAnswer, parts: number): { answer: SubgraphAnswer; alone: boolean }[] {
  const prefixes = Array.from({ length: parts }, (_, i) => prefixOf(i));
  const partOf = (key: unknown) => (typeof key === 'string' ? prefixes.findIndex((p) => key.startsWith(p)) : -1);
  const data = answer.data;
  const own = prefixes.map(() => ({ data: {} as Record<string, unknown>, errors: [] as NonNullable<SubgraphAnswer['errors']> }));
  const shared: NonNullable<SubgraphAnswer['errors']> = [];
  if (data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) {
      const i = partOf(key);
      if (i >= 0) own[i].data[key.slice(prefixes[i].length)] = value;
    }
  }
  for (const error of answer.errors ?? []) {
    const i = partOf(error.path?.[0]);
    if (i < 0) shared.push(error);
    else own[i].errors.push({ ...error, path: [String(error.path![0]).slice(prefixes[i].length), ...error.path!.slice(1)] });
  }
  return own.map(({ data: partData, errors }) => {
    const allErrors = [...errors, ...shared];
    const whole = data && typeof data === 'object';
    const part: SubgraphAnswer = { data: whole ? partData : (data as null | undefined) };
    if (answer.extensions !== undefined) part.extensions = answer.extensions;
    if (allErrors.length > 0) part.errors = allErrors;
    return { answer: part, alone: !whole && allErrors.length === 0 };
  });
}

/** What the wave needs of a subgraph's data source: one HTTP request, its answer, and whether it was refused as a document (400). */
export interface WaveSender<R> {
  /** Sends the body; resolves with the parsed answer, or `'refused'` when `refusable` and the subgraph answered 400. */
  post(headers: Record<string, string>, body: SubgraphRequestBody, refusable: boolean): Promise<R | 'refused'>;
  /** The answer's JSON body. */
  bodyOf(response: R): SubgraphAnswer;
  /** The same response with another body. */
  withBody(response: R, body: SubgraphAnswer): R;
  limits: MergeLimits;
}

interface HeldFetch<R> {
  headers: Record<string, string>;
  body: SubgraphRequestBody;
  resolve(response: R): void;
  reject(error: unknown): void;
}

interface Wave {
  inFlight: number;
  scheduled: boolean;
  held: Map<WaveSender<unknown>, HeldFetch<unknown>[]>;
}

/** Parts per merged request, whatever the limits. */
const MAX_PARTS = 8;
/** Merged operations remembered (by their parts' queries); the plans of a deployment's operations are few. */
const CACHE_SIZE = 1_000;

export class FetchWaves<C extends object> {
  private readonly waves = new WeakMap<C, Wave>();
  /** Merged query text by the parts' queries; null when they cannot be merged (or a subgraph refused the merge). */
  private readonly merged = new Map<string, { query: string; operationName: string } | null>();

  private waveOf(context: C): Wave {
    let wave = this.waves.get(context);
    if (!wave) this.waves.set(context, (wave = { inFlight: 0, scheduled: false, held: new Map() }));
    return wave;
  }

  /** A fetch sent at once (a root field, a mutation): counted while in flight, so entity fetches wait for it. */
  async direct<T>(context: C, send: () => Promise<T>): Promise<T> {
    const wave = this.waveOf(context);
    wave.inFlight++;
    try {
      return await send();
    } finally {
      wave.inFlight--;
      this.schedule(wave);
    }
  }

  /** An entity fetch: held until nothing of its client request is in flight, then sent with the others held for the same subgraph. */
  hold<R>(context: C, sender: WaveSender<R>, headers: Record<string, string>, body: SubgraphRequestBody): Promise<R> {
    const wave = this.waveOf(context);
    return new Promise<R>((resolve, reject) => {
      let group = wave.held.get(sender as WaveSender<unknown>);
      if (!group) wave.held.set(sender as WaveSender<unknown>, (group = []));
      group.push({ headers, body, resolve, reject } as HeldFetch<unknown>);
      this.schedule(wave);
    });
  }

  /** After the microtasks of this turn (the executor asking for the next steps), if nothing is in flight, sends what is held. */
  private schedule(wave: Wave): void {
    if (wave.scheduled || wave.inFlight > 0 || wave.held.size === 0) return;
    wave.scheduled = true;
    setImmediate(() => {
      wave.scheduled = false;
      if (wave.inFlight > 0) return;
      const groups = [...wave.held];
      wave.held.clear();
      for (const [sender, fetches] of groups) {
        for (let at = 0; at < fetches.length; at += MAX_PARTS) void this.send(wave, sender, fetches.slice(at, at + MAX_PARTS));
      }
    });
  }

  private async send<R>(wave: Wave, sender: WaveSender<R>, fetches: HeldFetch<R>[]): Promise<void> {
    wave.inFlight++;
    try {
      if (fetches.length === 1) {
        await this.alone(sender, fetches[0]);
        return;
      }
      // Sorted, so that the same parts make the same text (one entry in each subgraph's document cache).
      const parts = [...fetches].sort((a, b) => (a.body.query! < b.body.query! ? -1 : a.body.query! > b.body.query! ? 1 : 0));
      const key = parts.map((p) => p.body.query).join('\u0000');
      let merged = this.merged.get(key);
      if (merged === undefined) {
        merged = mergeQueries(
          parts.map((p) => p.body.query!),
          sender.limits,
        ) ?? null;
        if (this.merged.size >= CACHE_SIZE) this.merged.clear();
        this.merged.set(key, merged);
      }
      if (merged === null) {
        await Promise.all(parts.map((p) => this.alone(sender, p)));
        return;
      }
      let response: R | 'refused';
      try {
        response = await sender.post(parts[0].headers, { ...merged, variables: mergeVariables(parts.map((p) => p.body)) }, true);
      } catch (e) {
        for (const p of parts) p.reject(e);
        return;
      }
      if (response === 'refused') {
        const answered = await Promise.all(parts.map((p) => this.alone(sender, p)));
        // Not merged again only if the merge itself was what the subgraph refused: every part alone was answered.
        // A part refused alone too (a client's request over a limit) says nothing against merging the others.
        if (answered.every(Boolean)) this.merged.set(key, null);
        return;
      }
      const split = splitAnswer(sender.bodyOf(response), parts.length);
      await Promise.all(parts.map((p, i) => (split[i].alone ? this.alone(sender, p) : p.resolve(sender.withBody(response as R, split[i].answer)))));
    } catch (e) {
      // A bug of ours (merging, splitting) fails its parts, never leaves them waiting; a part already settled stays so.
      for (const fetch of fetches) fetch.reject(e);
    } finally {
      wave.inFlight--;
      this.schedule(wave);
    }
  }

  /** Sends one part as Apollo planned it; whether it was answered. */
  private async alone<R>(sender: WaveSender<R>, fetch: HeldFetch<R>): Promise<boolean> {
    try {
      fetch.resolve((await sender.post(fetch.headers, fetch.body, false)) as R);
      return true;
    } catch (e) {
      fetch.reject(e);
      return false;
    }
  }
}
