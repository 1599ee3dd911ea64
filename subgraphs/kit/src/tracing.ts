/**
 * OpenTelemetry traces. Every server (gateway and subgraphs) opens a SERVER
 * span per HTTP request, the gateway's fetches carry W3C `traceparent` to the
 * subgraphs, and SQL statements get CLIENT spans, so one request is one trace.
 *
 * Without OTEL_EXPORTER_OTLP_ENDPOINT no SDK is registered: the API's calls
 * are no-ops then, and nothing is exported or kept.
 *
 * Span attributes name operations, routes, statuses, SQL verbs and tables:
 * never query text, variables, results, SQL statements or their parameters,
 * which can hold health data.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapSetter } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';
import type { DataSource } from 'typeorm';

export { SpanKind, SpanStatusCode, type Span };

export interface Tracing {
  /** Ends and exports what is buffered, then unregisters the provider. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Whether an SDK is registered in this process. Without one, the servers open
 * no span at all (the API's no-op spans and contexts still cost an object or
 * three per request) and add no trace headers.
 */
export const tracingOn = (): boolean => active !== undefined;

export interface TracingOptions {
  /** `service.name` of the resource; OTEL_SERVICE_NAME wins when set. */
  serviceName: string;
  /** Tests: where spans go instead of OTLP (e.g. a SimpleSpanProcessor over an InMemorySpanExporter). */
  spanProcessors?: SpanProcessor[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Registers the SDK once per process: a tracer provider exporting over OTLP
 * (http/protobuf, to OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; headers from OTEL_EXPORTER_OTLP_HEADERS;
 * sampling from OTEL_TRACES_SAMPLER), the W3C trace-context propagator and an
 * AsyncLocalStorage context manager. Returns undefined, registering nothing,
 * when no endpoint is set and no processor is given; a second call returns the
 * first registration.
 */
export function startTracing(options: TracingOptions): Tracing | undefined {
  if (active) return active;
  const env = options.env ?? process.env;
  let processors = options.spanProcessors;
  if (!processors) {
    if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
    if (env.OTEL_SDK_DISABLED === 'true') return undefined;
    // Loaded only when exporting: the exporter pulls in protobuf encoding that a process without traces never needs.
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
    processors = [new BatchSpanProcessor(new OTLPTraceExporter())];
  }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || options.serviceName }),
    spanProcessors: processors,
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const registration: Tracing = {
    async shutdown() {
      if (active !== registration) return;
      active = undefined;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
  active = registration;
  return registration;
}

let joined: { tracing: Tracing; users: number } | undefined;

/**
 * Each server of the process joins the process's tracing when it starts and
 * leaves when it closes; the first to join registers the SDK (when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set) and the last to leave flushes and
 * unregisters it. A registration made by `startTracing` directly (a test's)
 * is used as it is and left alone.
 */
export function joinTracing(serviceName: string): { leave(): Promise<void> } {
  if (active && !joined) return { leave: async () => undefined };
  if (!joined) {
    const tracing = startTracing({ serviceName });
    if (!tracing) return { leave: async () => undefined };
    joined = { tracing, users: 0 };
  }
  const mine = joined;
  mine.users++;
  let left = false;
  return {
    async leave() {
      if (left) return;
      left = true;
      if (--mine.users > 0) return;
      if (joined === mine) joined = undefined;
      await mine.tracing.shutdown().catch(() => undefined);
    },
  };
}

/** The tracer of one service of this codebase (`@portal/gateway`, `@portal/identity`, ...). */
export const tracerOf = (service: string) => trace.getTracer(`@portal/${service}`);

const headerSetter: TextMapSetter<unknown> = {
  set(carrier, key, value) {
    if (carrier && typeof (carrier as Headers).set === 'function') (carrier as Headers).set(key, value);
    else (carrier as Record<string, string>)[key] = value;
  },
};

/**
 * Adds `traceparent` (and `tracestate`) of the active span to outgoing
 * headers: a plain object or anything with `set(name, value)` (Headers,
 * Apollo's HeaderMap). Without an active span, or without the SDK, it adds
 * nothing. Returns the same headers.
 */
export function injectTraceHeaders<H extends object>(headers: H, ctx: Context = context.active()): H {
  propagation.inject(ctx, headers, headerSetter);
  return headers;
}

/** The context a caller's `traceparent` names, or a fresh root when it names none (or is not trusted). */
export function incomingTraceContext(headers: IncomingHttpHeaders, trusted: boolean): Context {
  if (!trusted) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier[key] as string | string[] | undefined,
    keys: (carrier) => Object.keys(carrier),
  });
}

/** The active span's trace id, when a sampled or unsampled span is active. */
export function activeTraceId(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

const VERB = /^\s*(?:\/\*.*?\*\/\s*)?(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/;
const TABLE = /\b(?:FROM|INTO|UPDATE|JOIN)\s+(?:"?[A-Za-z_][A-Za-z0-9_]*"?\.)?"?([A-Za-z_][A-Za-z0-9_]*)"?/i;

/** The SQL verb and first table of a statement; never its text or parameters. */
export function describeStatement(sql: string): { operation: string; table?: string } {
  const operation = (VERB.exec(sql)?.[1] ?? 'SQL').toUpperCase();
  const table = TABLE.exec(sql)?.[1];
  return table ? { operation, table } : { operation };
}

/**
 * Gives each SQL statement of a data source a CLIENT span (`SELECT audit_event`),
 * child of the request's span. A statement outside any request (a background
 * worker's poll) gets none, so idle polling does not fill the trace store.
 */
export function traceStatements(dataSource: DataSource, system: 'postgresql' | 'sqlite', namespace: string, service: string): void {
  const driver = dataSource.driver as unknown as { createQueryRunner(mode: unknown): { query: (...args: unknown[]) => Promise<unknown> } };
  const create = driver.createQueryRunner.bind(driver);
  const tracer = tracerOf(service);
  // better-sqlite3's driver hands out one runner again and again: each is wrapped once.
  const wrapped = new WeakSet<object>();
  driver.createQueryRunner = (mode: unknown) => {
    const runner = create(mode);
    if (wrapped.has(runner)) return runner;
    wrapped.add(runner);
    const query = runner.query.bind(runner);
    runner.query = (...args: unknown[]) => {
      if (!trace.getActiveSpan()) return query(...args);
      const { operation, table } = describeStatement(String(args[0] ?? ''));
      // Not made active: nothing runs inside a statement, and an active span here would leak into
      // whatever the driver chains onto the statement's promise (its queue, a later statement).
      const span = tracer.startSpan(table ? `${operation} ${table}` : operation, {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': system, 'db.namespace': namespace, 'db.operation.name': operation, ...(table ? { 'db.collection.name': table } : {}) },
      });
      return query(...args).then(
        (result) => {
          span.end();
          return result;
        },
        (e: unknown) => {
          // The error's class only: a driver's message can quote the statement's values.
          span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.name ?? 'Error' });
          span.end();
          throw e;
        },
      );
    };
    return runner;
  };
}
