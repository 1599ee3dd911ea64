/** `node server/dist/bin/create-service-client.js <client-id> <scope...>`: registers a service client, prints its secret once. */
process.env.PORTAL_QUIET = '1';
import { runCreateServiceClient } from '../services';

void runCreateServiceClient(process.argv.slice(2));
