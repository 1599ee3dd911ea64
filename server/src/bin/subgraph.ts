/** One subgraph alone: `node server/dist/bin/subgraph.js <identity|scheduling|messaging|pharmacy|clinical-records>`. */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import { runSubgraph } from '../services';

void runSubgraph(process.argv[2]);
