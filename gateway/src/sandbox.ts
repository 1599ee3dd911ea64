/**
 * The development landing page: Apollo Sandbox, embedded, opening on the
 * contract's sign-in operations with the demo patient's credentials as
 * variables and an `Authorization: Bearer ` header ready for the token, and
 * Sandbox's own telemetry off. Production has no landing page at all
 * (server.ts installs ApolloServerPluginLandingPageDisabled there).
 */
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { readManifest, type OperationManifest } from './operations';

/** The contract's operations Sandbox opens with, in the order a developer runs them. */
export const SANDBOX_OPERATIONS = ['SignInWithDsLogon', 'SmartCardChallenge', 'SignInWithSmartCard', 'PortalView'] as const;

const GUIDE = `# Development only. Run SignInWithDsLogon (the variables hold the demo patient Jane Doe;
# see the README, "The demo cast", for the others), then paste its accessToken after
# "Bearer " in the Authorization header below and run PortalView.
# Card holders: npx tsx scripts/sign-challenge.ts alex --sign-in prints one (cards: jane, john, alex, sam).`;

/**
 * The initial document: the guide, then the contract's own text of each operation (schema/operations/manifest.json).
 * Apollo puts it into the page's inline script escaping only the first of each of < > & ', so it holds none of them.
 */
export function sandboxDocument(manifest: OperationManifest = readManifest()): string {
  const bodies = SANDBOX_OPERATIONS.map((name) => {
    const op = manifest.operations.find((o) => o.name === name);
    if (!op) throw new Error(`The contract has no operation ${name} for Sandbox's initial document.`);
    return op.body;
  });
  const document = [GUIDE, ...bodies].join('\n\n');
  if (/[<>&']/.test(document)) throw new Error("Sandbox's initial document must hold no < > & or ' (the landing page's script would not be safe).");
  return document;
}

/** The demo patient's DS Logon (seeded in development only; production refuses a database that holds the demo cast). */
export const SANDBOX_SIGN_IN = { username: 'jane.doe', password: 'Demo-Password-1' } as const;

export function sandboxLandingPage() {
  return ApolloServerPluginLandingPageLocalDefault({
    document: sandboxDocument(),
    variables: { ...SANDBOX_SIGN_IN },
    headers: { Authorization: 'Bearer ' },
    // Sandbox's cookie toggle stays off: the graph authenticates with bearer tokens only.
    includeCookies: false,
    footer: false,
    embed: { runTelemetry: false, endpointIsEditable: false },
  });
}
