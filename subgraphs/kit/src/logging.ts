/**
 * The process's log: pino, one JSON object a line in production, one readable
 * line in development. Every line written while a request runs carries that
 * request's id (`requestId`, the gateway's, forwarded to the subgraphs), its
 * trace id (`traceId`) and the service handling it (`service`).
 *
 * Nothing of a patient belongs in a log: messages name classes, codes, ids
 * and counts. As a second line of defence, keys that hold credentials or
 * health data are redacted wherever a caller passes them as fields, and a
 * bearer token or JWT in a message is replaced.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { activeTraceId } from './tracing';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = Level | 'silent';

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
}

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** LOG_LEVEL (default info) and LOG_FORMAT (json in production, pretty otherwise). */
export function readLogSettings(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const level = (env.LOG_LEVEL || 'info').toLowerCase() as LogLevel;
  if (!LEVELS.includes(level)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}.`);
  const format = (env.LOG_FORMAT || (env.NODE_ENV === 'production' ? 'json' : 'pretty')).toLowerCase();
  if (format !== 'json' && format !== 'pretty') throw new Error('LOG_FORMAT must be json or pretty.');
  return { level, format };
}

/** What a request's log lines carry; `operation` is filled in once Apollo knows it. */
export interface RequestScope {
  requestId: string;
  service: string;
  operation?: string;
  /** The operation the request named (its operationName, or its document's first operation), for a request refused before Apollo parsed it. */
  requestedOperation?: string;
  /** `extensions.code` of the errors answered (metrics count them per code). */
  codes: string[];
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs `work` (and all it starts) as part of a request: its log lines carry the request's id. */
export function withRequestScope<T>(scope: RequestScope, work: () => T): T {
  return scopes.run(scope, work);
}

export const currentRequestScope = (): RequestScope | undefined => scopes.getStore();

/** Field names whose values are never written, at the top level or one level down. */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'secret',
  'signature',
  'privateKey',
  'variables',
  'query',
  'body',
  'subject',
  'dodId',
  'name',
  'givenName',
  'familyName',
  'email',
  'phone',
  'birthDate',
  'dateOfBirth',
];
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), 'headers.authorization', 'headers.cookie', 'req.headers.authorization', 'req.headers.cookie'].map((p) =>
  p.includes('-') ? p.replace(/(^|\.)([^.]*-[^.]*)$/, '$1["$2"]') : p,
);

const BEARER = /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** A message with any bearer token or JWT in it replaced. */
export function scrubSecrets(message: string): string {
  return message.replace(BEARER, 'Bearer [redacted]').replace(JWT, '[redacted-jwt]');
}

function build(settings: LogSettings, destination: DestinationStream): Logger {
  return pino(
    {
      level: settings.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      mixin() {
        const scope = scopes.getStore();
        const traceId = activeTraceId();
        const fields: Record<string, string> = {};
        if (scope) {
          fields.service = scope.service;
          fields.requestId = scope.requestId;
        }
        if (traceId) fields.traceId = traceId;
        return fields;
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/** Development: `12:00:00.000 WARN  [db] message  requestId=… traceId=…`, warnings and errors to stderr. */
function prettyDestination(): DestinationStream {
  return {
    write(line: string) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line);
      } catch {
        process.stdout.write(line);
        return;
      }
      const { time, level, msg, ...rest } = o;
      const clock = typeof time === 'string' ? time.slice(11, 23) : '';
      const fields = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const text = `${clock} ${String(level).toUpperCase().padEnd(5)} ${msg ?? ''}${fields ? `  ${fields}` : ''}\n`;
      (level === 'warn' || level === 'error' || level === 'fatal' ? process.stderr : process.stdout).write(text);
    },
  };
}

function destinationFor(settings: LogSettings): DestinationStream {
  return settings.format === 'pretty' ? prettyDestination() : pino.destination({ fd: 1, sync: true });
}

/**
 * Read at the first line logged, not at load: a script may set PORTAL_QUIET or LOG_LEVEL after its
 * imports ran. A bad LOG_LEVEL or LOG_FORMAT falls back here and stops the start in readConfig, which names it.
 */
let settings: LogSettings | undefined;
let root: Logger | undefined;

function current(): Logger {
  if (root) return root;
  settings ??= (() => {
    try {
      return readLogSettings();
    } catch {
      return { level: 'info', format: process.env.NODE_ENV === 'production' ? 'json' : 'pretty' } as LogSettings;
    }
  })();
  return (root = build(settings, destinationFor(settings)));
}

/** Reconfigures the process's log (level, format, or a destination of a test's own). */
export function configureLogging(next: Partial<LogSettings> & { destination?: DestinationStream } = {}): void {
  current();
  settings = { ...settings!, ...next };
  root = build(settings, next.destination ?? destinationFor(settings));
}

/**
 * The process's logger. Its methods take pino's arguments: `logger.warn('text')`
 * or `logger.warn({ code }, 'text')`.
 */
export const logger = {
  fatal: (...args: Parameters<Logger['fatal']>) => current().fatal(...args),
  error: (...args: Parameters<Logger['error']>) => current().error(...args),
  warn: (...args: Parameters<Logger['warn']>) => current().warn(...args),
  info: (...args: Parameters<Logger['info']>) => current().info(...args),
  debug: (...args: Parameters<Logger['debug']>) => current().debug(...args),
  isLevelEnabled: (level: Level) => current().isLevelEnabled(level),
};

/**
 * Test seam: sends every line to memory until `restore()`, at `level`
 * (debug unless told). `lines` are the parsed objects, `text` the raw output.
 */
export function captureLogs(level: LogLevel = 'debug'): { lines: Record<string, unknown>[]; text: () => string; restore(): void } {
  const raw: string[] = [];
  current();
  const before = settings;
  const beforeRoot = root;
  configureLogging({ level, format: 'json', destination: { write: (s: string) => void raw.push(s) } });
  return {
    get lines() {
      return raw.map((s) => JSON.parse(s) as Record<string, unknown>);
    },
    text: () => raw.join(''),
    restore() {
      settings = before;
      root = beforeRoot;
    },
  };
}
