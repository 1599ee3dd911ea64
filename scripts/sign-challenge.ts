/**
 * Development only: signs a smart-card challenge with a demo card of
 * DATA_DIR/pki, as a card reader would, so smart-card sign-in can be tried.
 *
 *   npx tsx scripts/sign-challenge.ts <card> [challenge]   variables for SignInWithSmartCard, and a curl command
 *   npx tsx scripts/sign-challenge.ts <card> --sign-in     signs in through the gateway and prints the access token
 *   npx tsx scripts/sign-challenge.ts john-piv --register  registers John's PIV card to john.roe (RegisterPivCard)
 *
 * Cards: jane, john, sam (RSA CACs), alex (P-256 CAC), john-piv (PIV). Without a
 * challenge it asks the gateway for one (GATEWAY_URL, default http://localhost:$PORT/graphql).
 * --register takes --username and --password to register to another DS Logon account of John's.
 */
import fs from 'node:fs';
import { parseSettings, readConfig } from '@portal/kit';
import { devCardFiles, readDevCards, signChallenge } from '@portal/identity';

const JOHN = { firstName: 'John', lastName: 'Roe', dateOfBirth: '1982-09-03', personIdentifier: '1000000002' };

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('\n'));
  return body.data;
}

async function main() {
  const config = readConfig();
  if (config.production) throw new Error('sign-challenge is for development only.');
  const url = process.env.GATEWAY_URL || `http://localhost:${parseSettings().PORT ?? 4000}/graphql`;
  const [name, given] = args.filter((a, i) => !a.startsWith('--') && !['--username', '--password'].includes(args[i - 1]));
  const cards = readDevCards(config.dataDir);
  const card = cards.find((c) => c.name === name);
  if (!card) throw new Error(`usage: sign-challenge.ts <card> [challenge] [--sign-in | --register]\ncards: ${cards.map((c) => c.name).join(', ')}`);
  const files = devCardFiles(config.dataDir, card.name);
  const challenge = given ?? (await graphql(url, '{ smartCardChallenge { challenge } }')).smartCardChallenge.challenge;
  const proof = {
    certificate: fs.readFileSync(files.certificate, 'utf8'),
    challenge,
    signature: signChallenge(fs.readFileSync(files.privateKey, 'utf8'), challenge),
  };

  if (flag('register')) {
    if (card.kind !== 'PIV') throw new Error('Only a PIV card is registered; a CAC signs in by itself.');
    const input = { ...JOHN, dsLogonUsername: option('username') ?? 'john.roe', dsLogonPassword: option('password') ?? 'Demo-Password-2', ...proof };
    const data = await graphql(url, 'mutation($input: RegisterPivCardInput!) { registerPivCard(input: $input) { id uuid registeredAt } }', { input });
    console.log(JSON.stringify(data.registerPivCard, null, 2));
    return;
  }
  const signIn = `mutation SignInWithSmartCard($certificate: String!, $challenge: String!, $signature: String!) {
  signInWithSmartCard(input: { certificate: $certificate, challenge: $challenge, signature: $signature }) { accessToken expiresAt account { id status } }
}`;
  if (flag('sign-in')) {
    console.log((await graphql(url, signIn, proof)).signInWithSmartCard.accessToken);
    return;
  }
  console.log(JSON.stringify(proof, null, 2));
  const body = JSON.stringify({ query: signIn.replace(/\s+/g, ' '), variables: proof });
  console.error(`\n# within 5 minutes, once:\ncurl -s ${url} -H 'content-type: application/json' -d '${body.replace(/'/g, "'\\''")}'`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
