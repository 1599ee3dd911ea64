/**
 * End-to-end harness: the five subgraphs and the gateway on free ports, each
 * subgraph on its own fresh database (SQLite files in a temp DATA_DIR, or
 * unique PostgreSQL schemas), seeded with the demo cast.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadSigningKey, signAccessToken, type PortalConfig, type SignInMethod } from '@portal/kit';
import { gql, removeTestDir, signClaims, testConfig, uniqueDatabasePrefix, type GraphQLResponse, type TestViewer } from '@portal/kit/src/testing';
import { devCardFiles, openSession, signChallenge } from '@portal/identity';
import { startStack, type Stack } from '@portal/server';

export interface TestStack extends Stack {
  dataDir: string;
  /** Runs an operation through the gateway. */
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

/** `overrides` change the stack's settings, e.g. `redisUrl` and a unique `redisKeyPrefix` for sessions in Redis. */
export async function startTestStack(overrides: Partial<PortalConfig> = {}): Promise<TestStack> {
  const config = testConfig(overrides);
  let stack: Stack;
  try {
    stack = await startStack({ config, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: uniqueDatabasePrefix(), subgraphTimeoutMs: 10_000 });
  } catch (e) {
    // No stack to stop: remove its directory (with the signing key in it) here; schemas made are the run's teardown's.
    removeTestDir(config.dataDir);
    throw e;
  }
  const key = await loadSigningKey({ dataDir: config.dataDir, production: false });
  const query = <T>(q: string, variables: Record<string, unknown> = {}, token?: string) => gql<T>(stack.graphqlUrl, q, variables, token);
  return {
    ...stack,
    dataDir: config.dataDir,
    query,
    async signIn(username, password) {
      const res = await query<any>(
        'mutation($u: String!, $p: String!) { signInWithDsLogon(input: { username: $u, password: $p }) { accessToken } }',
        { u: username, p: password },
      );
      if (!res.data?.signInWithDsLogon) throw new Error(`sign-in failed: ${JSON.stringify(res.errors)}`);
      return res.data.signInWithDsLogon.accessToken;
    },
    async signInWithCard(card) {
      const files = devCardFiles(config.dataDir, card);
      const challenge = (await query<any>('{ smartCardChallenge { challenge } }')).data.smartCardChallenge.challenge as string;
      const res = await query<any>(
        'mutation($c: String!, $ch: String!, $s: String!) { signInWithSmartCard(input: { certificate: $c, challenge: $ch, signature: $s }) { accessToken } }',
        { c: fs.readFileSync(files.certificate, 'utf8'), ch: challenge, s: signChallenge(fs.readFileSync(files.privateKey, 'utf8'), challenge) },
      );
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

/** Reads one named operation from schema/operations, exactly as clients send it. */
export function operation(name: string): string {
  const dir = path.dirname(require.resolve('../../schema/operations/portal.graphql'));
  const text = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
  const start = text.search(new RegExp(`^(query|mutation) ${name}\\b`, 'm'));
  if (start < 0) throw new Error(`no operation ${name}`);
  const rest = text.slice(start);
  const end = rest.slice(1).search(/^(query|mutation|#) /m);
  return end < 0 ? rest : rest.slice(0, end + 1);
}
