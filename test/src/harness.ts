/**
 * End-to-end harness: the five subgraphs and the gateway on free ports, each
 * subgraph on its own fresh database (SQLite files in a temp DATA_DIR, or
 * unique PostgreSQL schemas), seeded with the demo cast.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadSigningKey, DEMO } from '@portal/kit';
import { gql, mintToken, testConfig, type GraphQLResponse, type TestViewer } from '@portal/kit/src/testing';
import { startStack, type Stack } from '../../scripts/stack';

export interface TestStack extends Stack {
  dataDir: string;
  /** Runs an operation through the gateway. */
  query<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  signIn(username: string, password: string): Promise<string>;
  /** A token signed with identity's key, for people who sign in by smart card (issue 3). */
  tokenFor(viewer: TestViewer): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestStack(): Promise<TestStack> {
  const config = testConfig();
  const prefix = `t_${randomBytes(3).toString('hex')}`;
  const stack = await startStack({ config, port: 0, ephemeralPorts: true, seedDemo: true, databasePrefix: prefix, subgraphTimeoutMs: 10_000 });
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
    tokenFor: (viewer) => mintToken(key, viewer),
    async stop() {
      await stack.close();
      for (const s of Object.values(stack.subgraphs)) await s.database.destroyAndDrop().catch(() => undefined);
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

export const alexToken = (s: TestStack) =>
  s.tokenFor({ personId: DEMO.alex, accountId: 'ac-alex-kim', role: 'PRACTITIONER', method: 'CAC', careTeamIds: [DEMO.careTeamBlue] });
export const samToken = (s: TestStack) =>
  s.tokenFor({ personId: DEMO.sam, accountId: 'ac-sam-lee', role: 'PHARMACIST', method: 'CAC', careTeamIds: [] });

/** Reads one named operation from schema/operations, exactly as clients send it. */
export function operation(name: string): string {
  const text = fs.readFileSync(require.resolve('../../schema/operations/portal.graphql'), 'utf8');
  const start = text.search(new RegExp(`^(query|mutation) ${name}\\b`, 'm'));
  if (start < 0) throw new Error(`no operation ${name}`);
  const rest = text.slice(start);
  const end = rest.slice(1).search(/^(query|mutation|#) /m);
  return end < 0 ? rest : rest.slice(0, end + 1);
}
