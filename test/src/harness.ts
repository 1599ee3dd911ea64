/**
 * End-to-end harness: the five subgraphs and the gateway on free ports, each
 * subgraph on its own fresh database (SQLite files in a temp DATA_DIR, or
 * unique PostgreSQL schemas), seeded with the demo cast.
 */
import fs from 'node:fs';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { loadSigningKey, signAccessToken, type PortalConfig, type SignInMethod } from '@portal/kit';
import { gql, removeTestDir, signClaims, testConfig, uniqueDatabasePrefix, type GraphQLResponse, type TestViewer } from '@portal/kit/testing';
import { devCardFiles, openSession, signChallenge } from '@portal/identity';
import { startStack, type Stack } from '@portal/server';
import * as contract from './generated/operations';

export interface TestStack extends Stack {
  dataDir: string;
  /**
   * Runs an operation through the gateway: a typed document of the contract
   * (`./generated/operations`, e.g. `PortalViewDocument`), whose variables and
   * answer are typed, or any query text, whose answer is what the caller says.
   */
  query<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables?: V, token?: string): Promise<GraphQLResponse<R>>;
  query<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  signIn(username: string, password: string): Promise<string>;
  /** Signs in through the gateway with a demo card of DATA_DIR/pki: jane, john, alex, sam (CAC) or john-piv. */
  signInWithCard(card: string): Promise<string>;
  /**
   * A token signed with identity's key for an existing account (`viewer.accountId`),
   * with a real session opened for it, so that every subgraph accepts it.
   */
  tokenFor(viewer: TestViewer): Promise<string>;
  /** Opens a real session for an existing account, as a sign-in would. */
  openSession(accountId: string, method?: SignInMethod): Promise<{ id: string }>;
  /** Any claims signed with identity's own key (see kit `signClaims`): for tokens that are well signed but wrong otherwise. */
  signClaims(claims: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `overrides` change the stack's settings, e.g. `redisUrl` and a unique `redisKeyPrefix` for sessions in Redis;
 * `options.webAppDir` is a build of the web app for the gateway to serve at /app/ (the browser tests make their own);
 * `options.mergeEntityFetches: false` sends every entity fetch as Apollo plans it (SUBGRAPH_FETCH_MERGING=0).
 */
export async function startTestStack(overrides: Partial<PortalConfig> = {}, options: { webAppDir?: string; mergeEntityFetches?: boolean } = {}): Promise<TestStack> {
  const config = testConfig(overrides);
  let stack: Stack;
  try {
    stack = await startStack({ config, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: uniqueDatabasePrefix(), subgraphTimeoutMs: 10_000, webAppDir: options.webAppDir, mergeEntityFetches: options.mergeEntityFetches });
  } catch (e) {
    // No stack to stop: remove its directory (with the signing key in it) here; schemas made are the run's teardown's.
    removeTestDir(config.dataDir);
    throw e;
  }
  const key = await loadSigningKey({ dataDir: config.dataDir, production: false });
  const query = (q: string | TypedDocumentNode<unknown, Record<string, unknown>>, variables: Record<string, unknown> = {}, token?: string) =>
    gql(stack.graphqlUrl, typeof q === 'string' ? q : textOf(q), variables, token);
  const run = query as TestStack['query'];
  return {
    ...stack,
    dataDir: config.dataDir,
    query: run,
    async signIn(username, password) {
      const res = await run(contract.SignInWithDsLogonDocument, { username, password });
      if (!res.data?.signInWithDsLogon) throw new Error(`sign-in failed: ${JSON.stringify(res.errors)}`);
      return res.data.signInWithDsLogon.accessToken;
    },
    async signInWithCard(card) {
      const files = devCardFiles(config.dataDir, card);
      const issued = (await run(contract.SmartCardChallengeDocument, {})).data?.smartCardChallenge;
      if (!issued) throw new Error('no smart-card challenge');
      const { challenge } = issued;
      const res = await run(contract.SignInWithSmartCardDocument, {
        certificate: fs.readFileSync(files.certificate, 'utf8'),
        challenge,
        signature: signChallenge(fs.readFileSync(files.privateKey, 'utf8'), challenge),
      });
      if (!res.data?.signInWithSmartCard) throw new Error(`smart-card sign-in failed: ${JSON.stringify(res.errors)}`);
      return res.data.signInWithSmartCard.accessToken;
    },
    async tokenFor(viewer) {
      const accountId = viewer.accountId ?? `acct-${viewer.personId}`;
      const method = viewer.method ?? 'DS_LOGON';
      const session = await openSession(config, stack.subgraphs.identity.database.dataSource, accountId, method);
      const { token } = await signAccessToken(key, { ...viewer, accountId, role: viewer.role ?? 'PATIENT', method, sessionId: session.id });
      return token;
    },
    openSession: (accountId, method = 'DS_LOGON') => openSession(config, stack.subgraphs.identity.database.dataSource, accountId, method),
    signClaims: (claims) => signClaims(key, claims),
    async stop() {
      try {
        await stack.close();
      } finally {
        for (const s of Object.values(stack.subgraphs)) await s.database.destroyAndDrop().catch(() => undefined);
        // The directory holds the stack's signing key and the development PKI's private keys.
        removeTestDir(config.dataDir);
      }
    },
  };
}

/** Alex Kim (practitioner, Primary Care Team Blue) signed in with his demo CAC. */
export const alexToken = (s: TestStack) => s.signInWithCard('alex');
/** Sam Lee (pharmacist) signed in with his demo CAC. */
export const samToken = (s: TestStack) => s.signInWithCard('sam');

/** The answer's data: the test fails here, showing the errors, when there are errors or no data. */
export function dataOf<T>(res: GraphQLResponse<T>): T {
  expect(res.errors).toBeUndefined();
  if (res.data == null) throw new Error(`no data in the answer (status ${res.status})`);
  return res.data;
}

/** The contract's operations (schema/operations/*.graphql) by name, as GraphQL Code Generator typed them. */
type Contract = typeof contract;
export type OperationName = { [K in keyof Contract]: K extends `${infer N}Document` ? N : never }[keyof Contract];
const DOCUMENTS = new Map(
  Object.entries(contract)
    .filter(([key]) => key.endsWith('Document'))
    .map(([key, document]) => [key.slice(0, -'Document'.length), document as TypedDocumentNode<unknown, Record<string, unknown>>]),
);

/** The text a client sends for a typed document: graphql-js's `print`, the form the operation manifest hashes. */
const texts = new WeakMap<object, string>();
export function textOf(document: TypedDocumentNode<any, any>): string {
  let text = texts.get(document);
  if (text === undefined) texts.set(document, (text = print(document)));
  return text;
}

/** One named operation of the contract as text, as clients send it (the typed documents are better: `stack.query(PortalViewDocument, …)`). */
export function operation(name: OperationName): string {
  const document = DOCUMENTS.get(name);
  if (!document) throw new Error(`no operation ${name}`);
  return textOf(document);
}
