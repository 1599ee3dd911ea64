/**
 * Registers another service that calls subgraphs directly, and prints its
 * secret once (only its SHA-256 hash is stored):
 *   npx tsx scripts/create-service-client.ts <client-id> <scope...>
 * e.g. `reminder-service scheduling:read`. Uses the settings of the running
 * graph (DATABASE_URL or DATA_DIR) to reach identity's database.
 */
process.env.PORTAL_QUIET = '1';
import { AuditEventEntity, CreateAuditEvent1764000000000, openDatabase, readConfig } from '@portal/kit';
import { createIdentityModule, createServiceClient, SERVICE_SCOPES } from '@portal/identity';

async function main() {
  const [clientId, ...scopes] = process.argv.slice(2);
  if (!clientId || scopes.length === 0) throw new Error(`usage: create-service-client.ts <client-id> <scope...>\nscopes: ${SERVICE_SCOPES.join(' ')}`);
  const config = readConfig();
  const identity = createIdentityModule();
  const database = await openDatabase({
    name: identity.name,
    entities: [AuditEventEntity, ...(identity.entities as never[])],
    migrations: [CreateAuditEvent1764000000000, ...identity.migrations],
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
  });
  try {
    const secret = await createServiceClient(database.dataSource, clientId, scopes);
    const tokenUrl = `${config.identityUrl}/oauth/token`;
    console.log(`Service client ${clientId}, scopes: ${[...new Set(scopes)].sort().join(' ')}`);
    console.log(`client_secret: ${secret}`);
    console.log(`\nShown this once only. Exchange it for a 5-minute token:`);
    console.log(`  curl -s ${tokenUrl} -d grant_type=client_credentials -d client_id=${clientId} -d client_secret=${secret}`);
  } finally {
    await database.dataSource.destroy();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
