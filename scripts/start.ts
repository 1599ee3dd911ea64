/**
 * `npm start`: the five subgraphs and the gateway on one machine. In
 * development the demo cast is seeded on first start; Ctrl-C stops everything.
 * The wiring is `@portal/server` (server/src/stack.ts and services.ts).
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
// One process runs every service: its traces' resource is the stack's (each span still names its service's tracer).
process.env.OTEL_SERVICE_NAME ||= 'portal-stack';
import { runStack } from '@portal/server';

void runStack();
