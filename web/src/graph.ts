/**
 * A tiny GraphQL client over fetch: typed documents in, `{ data, errors }` out.
 * The access token lives only in this module's memory (never in localStorage,
 * sessionStorage, a cookie or the URL): a reload signs the person out, which is
 * the safe default on a shared computer. An UNAUTHENTICATED answer (the
 * session's idle end, or a sign-out elsewhere) is reported to the app, which
 * asks for a sign-in again without taking down the page underneath.
 */
import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

export interface GraphError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; retryAfter?: number };
}

export interface Answer<R> {
  data: R | null | undefined;
  errors: GraphError[];
}

/** `anonymous`: sent without the token (a sign-in: an ended session's token would have it refused). */
export type Request = <R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V, options?: { anonymous?: boolean }) => Promise<Answer<R>>;

/** The errors a client makes itself (no answer, or one that is not GraphQL), in the graph's own shape. */
export const NETWORK = 'NETWORK_ERROR';

const texts = new WeakMap<DocumentNode, string>();
/** The text sent: graphql-js's print, the form the operation manifest hashes. */
function textOf(document: DocumentNode): string {
  let text = texts.get(document);
  if (text === undefined) texts.set(document, (text = print(document)));
  return text;
}

let token: string | null = null;
let onSessionEnded: () => void = () => undefined;

export function setToken(value: string | null): void {
  token = value;
}

export function currentToken(): string | null {
  return token;
}

export function whenSessionEnds(listener: () => void): void {
  onSessionEnded = listener;
}

/** Tells the app that the session ended when an answer says so. */
export function noteSessionEnd(errors: readonly GraphError[]): void {
  if (token && errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) onSessionEnded();
}

export const request: Request = async (document, variables, options = {}) => {
  const bearer = options.anonymous ? null : token;
  const operationName = document.definitions.find((d) => d.kind === 'OperationDefinition')?.name?.value;
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query: textOf(document), variables: variables ?? {}, operationName }),
    });
  } catch {
    return { data: null, errors: [{ message: 'The portal could not be reached. Check your connection.', extensions: { code: NETWORK } }] };
  }
  let body: { data?: any; errors?: GraphError[] };
  try {
    body = await res.json();
  } catch {
    return { data: null, errors: [{ message: `The portal answered ${res.status}.`, extensions: { code: NETWORK } }] };
  }
  const errors = body.errors ?? [];
  // Only a refusal of the current token ends the session: an answer to a request sent before signing in again does not.
  if (bearer && bearer === token) noteSessionEnd(errors);
  return { data: body.data, errors };
};

/** A key that makes a retried mutation (a double click, a lost answer) happen once. */
export const idempotencyKey = (): string => crypto.randomUUID();
