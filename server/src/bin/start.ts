/** All five subgraphs and the gateway in one process (what `npm start` runs, built). */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
// One process runs every service: its traces' resource is the stack's (each span still names its service's tracer).
process.env.OTEL_SERVICE_NAME ||= 'portal-stack';
import { runStack } from '../services';

void runStack();
