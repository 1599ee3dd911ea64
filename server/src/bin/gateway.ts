/** The gateway alone: `node server/dist/bin/gateway.js` (README, "Deploy"). */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { runGateway } from '../services';

void runGateway();
