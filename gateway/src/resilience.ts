/**
 * What the gateway does when a subgraph cannot answer: the fields that fetch
 * was to supply become null with a SERVICE_UNAVAILABLE error at their paths,
 * and every other section of the answer stands. A circuit breaker per
 * subgraph makes requests fail at once while one is down, instead of each
 * waiting out the timeout.
 */
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, CircuitState, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { Kind, parse, type DocumentNode, type FragmentDefinitionNode, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ErrorCode } from '@portal/kit';
import type { BreakerSettings } from './config';

/** The message a client sees for a section that could not be fetched: nothing about which service, where, or why. */
export const SECTION_UNAVAILABLE = 'This part of the answer could not be fetched right now. Try again shortly.';

/**
 * A subgraph did not answer as a service that works: no connection, no
 * answer within the timeout, a 5xx, or a body that is not a GraphQL
 * response. Only these count towards opening its circuit.
 */
export class SubgraphOutage extends Error {
  override name = 'SubgraphOutage';
}

/**
 * A subgraph's own deliberate refusal, with a code of ours and Retry-After:
 * 429 RATE_LIMITED (this client is over a limit) or 503 SERVICE_UNAVAILABLE
 * (it is shedding load, or a service it needs is out). The subgraph is alive
 * and answered at once, so its circuit stays closed: a burst of sign-ins
 * refused for capacity must not take identity out of every request.
 */
export class SubgraphRefusal extends Error {
  override name = 'SubgraphRefusal';
  constructor(
    readonly code: typeof ErrorCode.RATE_LIMITED | typeof ErrorCode.SERVICE_UNAVAILABLE,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Whether a failed fetch is an outage of the subgraph (as opposed to a refusal, a 4xx, or a bug of ours). */
export function isOutage(e: unknown): boolean {
  if (e instanceof SubgraphOutage) return true;
  // By name, not instanceof: Node's fetch throws its internals' TypeError, which under Jest is not the test realm's TypeError.
  const { name, message } = (typeof e === 'object' && e !== null ? e : {}) as { name?: unknown; message?: unknown };
  // Node's fetch: TypeError "fetch failed" (refused, reset, DNS) or "terminated" (cut mid-answer),
  // TimeoutError/AbortError from the signal; a body that does not parse as JSON is a SyntaxError.
  return (
    name === 'TimeoutError' || name === 'AbortError' || name === 'SyntaxError' || (name === 'TypeError' && typeof message === 'string' && /fetch failed|terminated/i.test(message))
  );
}

export type Breaker = CircuitBreakerPolicy;

/**
 * One breaker for one subgraph: `failures` outages in a row open it; after
 * `resetMs` one request probes (requests arriving meanwhile wait for the
 * probe, at most one timeout), and an answer closes it. Errors that are not
 * outages neither count nor reset the count.
 */
export function subgraphBreaker(settings: BreakerSettings): Breaker {
  return circuitBreaker(handleWhen(isOutage), {
    halfOpenAfter: settings.resetMs,
    breaker: new ConsecutiveBreaker(settings.failures),
  });
}

/** Whether the circuit is open or probing: its subgraph counts as degraded until a probe succeeds. */
export const breakerOpen = (breaker: Breaker) => breaker.state === CircuitState.Open || breaker.state === CircuitState.HalfOpen;

export { BrokenCircuitError };

/** What a log line may say about a failed fetch: the error's class and, for Node's fetch, the socket error code; never the request. */
export function outageKind(e: unknown): string {
  const { name, message, cause } = (typeof e === 'object' && e !== null ? e : {}) as { name?: unknown; message?: unknown; cause?: { code?: unknown } };
  if (e instanceof SubgraphOutage) return String(message);
  const code = typeof cause?.code === 'string' ? ` ${cause.code}` : '';
  return `${typeof name === 'string' ? name : 'Error'}${code}`;
}

/** The subset of a gateway fetch request this module reads. */
export interface FetchRequest {
  query?: string;
  variables?: Record<string, unknown>;
}

/**
 * The response paths, relative to the fetch, of every field a subgraph fetch
 * was to supply: `['_entities', i, key]` for each representation `i` and each
 * field selected on its type, or `[key]` for each root field. Apollo
 * Gateway's error path mapping turns them into the client's paths (e.g.
 * `['me', 'patient', 'prescriptions']`).
 */
export function fetchPaths(request: FetchRequest, document?: DocumentNode): (string | number)[][] {
  const doc = document ?? (request.query ? parse(request.query) : undefined);
  const operation = doc?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!doc || !operation || operation.kind !== Kind.OPERATION_DEFINITION) return [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const entities = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
  const representations = request.variables?.representations;
  if (entities?.kind === Kind.FIELD && entities.selectionSet && Array.isArray(representations)) {
    return representations.flatMap((rep, i) => {
      const typename = (rep as { __typename?: unknown } | null)?.__typename;
      return responseKeys(entities.selectionSet!, typeof typename === 'string' ? typename : undefined, fragments).map((key) => ['_entities', i, key]);
    });
  }
  return responseKeys(operation.selectionSet, undefined, fragments).map((key) => [key]);
}

/** The response keys a selection set gives an object of `typename` (every type condition when it is unknown). */
function responseKeys(set: SelectionSetNode, typename: string | undefined, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): string[] {
  const keys = new Set<string>();
  const applies = (condition?: string) => !condition || !typename || condition === typename;
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      if (s.name.value !== '__typename') keys.add(s.alias?.value ?? s.name.value);
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      if (applies(s.typeCondition?.name.value)) for (const k of responseKeys(s.selectionSet, typename, fragments, seen)) keys.add(k);
    } else {
      const fragment = fragments.get(s.name.value);
      if (fragment && !seen.has(s.name.value) && applies(fragment.typeCondition.name.value)) {
        seen.add(s.name.value);
        for (const k of responseKeys(fragment.selectionSet, typename, fragments, seen)) keys.add(k);
      }
    }
  }
  return [...keys];
}

/**
 * The GraphQL response a failed fetch becomes: no data, one error per field
 * it was to supply, each with its path, the code and a message fit for a
 * client, and `retryAfter` in seconds.
 */
export function sectionErrors(
  request: FetchRequest,
  document: DocumentNode | undefined,
  failure: { code: string; message: string; retryAfterSeconds: number },
): { data: null; errors: GraphQLFormattedError[] } {
  const paths = fetchPaths(request, document);
  const extensions = { code: failure.code, retryAfter: failure.retryAfterSeconds };
  const errors = paths.length ? paths.map((path) => ({ message: failure.message, path, extensions })) : [{ message: failure.message, extensions }];
  return { data: null, errors };
}

/**
 * When nothing at all could be answered and every error is a section that is
 * unavailable or rate limited (a mutation whose subgraph refused it, a root
 * query whose subgraph is down), the HTTP status says so too: 429 or 503 with
 * Retry-After, so clients and proxies back off. A partial answer stays 200.
 */
export const wholeAnswerStatus: ApolloServerPlugin<BaseContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single' || (response.http.status ?? 200) !== 200) return;
        const { data, errors } = response.body.singleResult;
        if (!errors?.length || (data && Object.values(data).some((v) => v !== null))) return;
        const codes = errors.map((e) => e.extensions?.code);
        if (!codes.every((c) => c === ErrorCode.SERVICE_UNAVAILABLE || c === ErrorCode.RATE_LIMITED)) return;
        const seconds = Math.max(1, ...errors.map((e) => (Number.isInteger(e.extensions?.retryAfter) ? (e.extensions!.retryAfter as number) : 1)));
        response.http.status = codes.includes(ErrorCode.RATE_LIMITED) ? 429 : 503;
        response.http.headers.set('retry-after', String(seconds));
      },
    };
  },
};
