/** All five subgraphs and the gateway in one process (what `npm start` runs, built). */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { runStack } from '../services';

void runStack();
