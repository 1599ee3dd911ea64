/**
 * Every subgraph's part of the patient's access log: `POST /internal/audit-events`
 * answers the signed-in patient's own audit rows only, newest first, keyset-paged,
 * with the patient's own reads folded away unless asked for; and only to a patient
 * whose session is live.
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { accessLogStatement, askAuditEvents, AUDIT_MIGRATIONS, MAX_ACCESS_LOG_ROWS, type AccessLogQuestion, type AccessLogRow } from './accessLog';
import { AuditEventEntity, CreateAuditEvent1764000000000 } from './audit';
import { openDatabase } from './db';
import type { SessionGuard } from './auth/sessions';
import { TokenVerifier, type SigningKey } from './auth/tokens';
import { ErrorCode, PortalError, unauthenticated } from './errors';
import { execute, isPostgres, sql } from './sql';
import { startSubgraph, type RunningSubgraph, type SubgraphContext, type SubgraphModule } from './subgraph';
import { mintToken, removeTestDir, testConfig, testDatabaseUrl, testSigningKey, testTempDir, uniqueDatabaseName, type TestViewer } from './testing';

const auditedModule: SubgraphModule<SubgraphContext> = {
  name: 'audited',
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Query { ok: Boolean }
  `),
  resolvers: { Query: { ok: () => true } },
  entities: [],
  migrations: [],
  createContext: (base) => base,
};

const JANE = `p-jane-${randomUUID()}`;
const JOHN = `p-john-${randomUUID()}`;
const ALEX = `pr-alex-${randomUUID()}`;
const ENDED = 'acct-session-ended';
const FLAKY = 'acct-session-store-down';

/** Sessions as identity would answer them: one account's session has ended, another's store is down. */
const sessions: SessionGuard = {
  async check(viewer) {
    if (viewer.accountId === ENDED) throw unauthenticated();
    if (viewer.accountId === FLAKY) throw new PortalError(ErrorCode.SERVICE_UNAVAILABLE, 'down');
    return new Date(Date.now() + 900_000);
  },
  close: async () => undefined,
};

let server: RunningSubgraph;
let key: SigningKey;
let dataDir: string;

/** Jane's trail, oldest first: minute i of one day. */
interface Seed {
  actor: string | null;
  role: string;
  patient: string;
  kind: string;
  action: string;
  outcome?: string;
  at: string;
  id?: string;
}

const at = (minute: number, second = 0) => `2026-01-01T10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`;
const SAME_TIME = at(30);
const seeds: Seed[] = [
  { actor: JANE, role: 'PATIENT', patient: JANE, kind: 'lab_result', action: 'read', at: at(1) },
  { actor: ALEX, role: 'PRACTITIONER', patient: JANE, kind: 'lab_result', action: 'read', at: at(2) },
  { actor: JANE, role: 'PATIENT', patient: JANE, kind: 'appointment', action: 'create', at: at(3) },
  { actor: null, role: 'ANONYMOUS', patient: JANE, kind: 'prescription', action: 'read', outcome: 'DENIED', at: at(4) },
  { actor: JANE, role: 'PATIENT', patient: JANE, kind: 'prescription', action: 'read', at: at(5) },
  { actor: 'service:reports', role: 'SERVICE', patient: JANE, kind: 'appointment', action: 'read', at: at(6) },
  { actor: JOHN, role: 'PATIENT', patient: JANE, kind: 'note', action: 'read', outcome: 'DENIED', at: at(7) },
  // Two at the same instant: the id breaks the tie, on every page.
  { actor: ALEX, role: 'PRACTITIONER', patient: JANE, kind: 'note', action: 'read', at: SAME_TIME, id: '00000000-0000-4000-8000-00000000000a' },
  { actor: ALEX, role: 'PRACTITIONER', patient: JANE, kind: 'condition', action: 'read', at: SAME_TIME, id: '00000000-0000-4000-8000-00000000000b' },
  // John's own trail: never Jane's business.
  { actor: ALEX, role: 'PRACTITIONER', patient: JOHN, kind: 'lab_result', action: 'read', at: at(8) },
  { actor: JOHN, role: 'PATIENT', patient: JOHN, kind: 'lab_result', action: 'read', at: at(9) },
];

beforeAll(async () => {
  key = await testSigningKey();
  const config = testConfig();
  dataDir = config.dataDir;
  server = await startSubgraph(auditedModule, {
    config,
    databaseName: uniqueDatabaseName('audited'),
    verifier: new TokenVerifier({ jwks: { keys: [key.publicJwk] } }),
    sessions,
    careAccess: async () => new Set(),
  });
  for (const s of seeds) {
    await execute(
      server.database.dataSource,
      `INSERT INTO audit_event (id, occurred_at, request_id, subgraph, actor_account_id, actor_person_id, actor_role, patient_id, record_kind, action, outcome)
       VALUES ($1, $2, $3, 'audited', $4, $5, $6, $7, $8, $9, $10)`,
      [s.id ?? randomUUID(), s.at, randomUUID(), s.actor && `acct-${s.actor}`, s.actor, s.role, s.patient, s.kind, s.action, s.outcome ?? 'ALLOWED'],
    );
  }
});

afterAll(async () => {
  try {
    await server?.close();
    await server?.database.destroyAndDrop();
  } finally {
    removeTestDir(dataDir);
  }
});

const token = (viewer: TestViewer) => mintToken(key, viewer);

async function post(body: unknown, bearer?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/internal/audit-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const janeAsks = async (q: Partial<AccessLogQuestion>) => {
  const res = await post({ limit: 20, ...q }, await token({ personId: JANE }));
  expect(res.status).toBe(200);
  return res.body.events as AccessLogRow[];
};

const summary = (rows: AccessLogRow[]) => rows.map((r) => `${r.occurredAt.slice(11, 16)} ${r.actorRole} ${r.recordKind} ${r.action} ${r.outcome}`);

describe('POST /internal/audit-events', () => {
  it('answers the patient her own rows, newest first, without her own reads', async () => {
    expect(summary(await janeAsks({}))).toEqual([
      '10:30 PRACTITIONER condition read ALLOWED',
      '10:30 PRACTITIONER note read ALLOWED',
      '10:07 PATIENT note read DENIED',
      '10:06 SERVICE appointment read ALLOWED',
      '10:04 ANONYMOUS prescription read DENIED',
      '10:03 PATIENT appointment create ALLOWED',
      '10:02 PRACTITIONER lab_result read ALLOWED',
    ]);
  });

  it('lists her own reads when asked, and never another patient’s rows', async () => {
    const rows = await janeAsks({ includeOwnReads: true });
    expect(rows).toHaveLength(9);
    expect(summary(rows)).toContain('10:05 PATIENT prescription read ALLOWED');
    expect(summary(rows)).toContain('10:01 PATIENT lab_result read ALLOWED');
    const john = await post({ limit: 20, includeOwnReads: true }, await token({ personId: JOHN }));
    expect(summary(john.body.events)).toEqual(['10:09 PATIENT lab_result read ALLOWED', '10:08 PRACTITIONER lab_result read ALLOWED']);
  });

  it('names the actor and the source, and nothing of the record', async () => {
    const [newest] = await janeAsks({ limit: 1 });
    expect(newest).toEqual({
      id: '00000000-0000-4000-8000-00000000000b',
      occurredAt: SAME_TIME,
      subgraph: 'audited',
      actorPersonId: ALEX,
      actorRole: 'PRACTITIONER',
      recordKind: 'condition',
      action: 'read',
      outcome: 'ALLOWED',
    });
  });

  it('pages strictly before a keyset, ties at one instant broken by id, with no row twice', async () => {
    const all = await janeAsks({});
    const first = await janeAsks({ limit: 1 });
    const second = await janeAsks({ limit: 3, before: { occurredAt: first[0].occurredAt, id: first[0].id } });
    const third = await janeAsks({ limit: 3, before: { occurredAt: second[2].occurredAt, id: second[2].id } });
    const rest = await janeAsks({ limit: 3, before: { occurredAt: third[2].occurredAt, id: third[2].id } });
    expect([...first, ...second, ...third, ...rest].map((r) => r.id)).toEqual(all.map((r) => r.id));
    expect(second[0].id).toBe('00000000-0000-4000-8000-00000000000a');
    expect(rest).toHaveLength(0);
  });

  it('refuses a request without a token, with a bad token, or after the session ended', async () => {
    expect((await post({ limit: 5 })).status).toBe(401);
    expect((await post({ limit: 5 }, 'not-a-token')).status).toBe(401);
    const otherKey = await testSigningKey();
    expect((await post({ limit: 5 }, await mintToken(otherKey, { personId: JANE }))).status).toBe(401);
    expect((await post({ limit: 5 }, await token({ personId: JANE, accountId: ENDED }))).status).toBe(401);
    expect((await post({ limit: 5 }, await token({ personId: JANE, accountId: FLAKY }))).status).toBe(503);
  });

  it('refuses staff, services and administrators, even naming the patient', async () => {
    for (const viewer of [
      { personId: ALEX, role: 'PRACTITIONER' },
      { personId: 'ph-sam', role: 'PHARMACIST' },
      { personId: 'service:reports', role: 'SERVICE', method: 'SERVICE', scopes: ['identity:read'] },
      { personId: 'admin', role: 'ADMIN' },
      // A staff token whose person id is a patient's is still a staff token.
      { personId: JANE, role: 'PRACTITIONER' },
    ] as TestViewer[]) {
      const res = await post({ limit: 5, patientId: JANE }, await token(viewer));
      expect([viewer.role, res.status, res.body.events]).toEqual([viewer.role, 403, undefined]);
    }
  });

  it('answers the token’s patient whatever the body names', async () => {
    const res = await post({ limit: 20, includeOwnReads: true, patientId: JANE }, await token({ personId: JOHN }));
    expect(res.body.events.map((r: AccessLogRow) => r.actorPersonId === JANE)).not.toContain(true);
    expect(res.body.events).toHaveLength(2);
  });

  it('refuses a malformed question', async () => {
    const jane = await token({ personId: JANE });
    for (const body of ['{', '[]', { limit: 0 }, { limit: MAX_ACCESS_LOG_ROWS + 1 }, { limit: 1.5 }, { limit: 5, before: { occurredAt: 1, id: 'x' } }, { limit: 5, includeOwnReads: 'yes' }]) {
      expect([body, (await post(body, jane)).status]).toEqual([body, 400]);
    }
  });
});

describe('askAuditEvents (identity asking another subgraph)', () => {
  const jane = async () => ({ token: await token({ personId: JANE }) }) as never;
  const q: AccessLogQuestion = { limit: 2, before: null, includeOwnReads: false };

  it('returns the rows', async () => {
    const rows = await askAuditEvents(server.url, await jane(), q, 15_000);
    expect(rows?.map((r) => r.recordKind)).toEqual(['condition', 'note']);
  });

  it('is null when nothing answers, or the answer is a refusal', async () => {
    expect(await askAuditEvents('http://127.0.0.1:1', await jane(), q, 2_000)).toBeNull();
    expect(await askAuditEvents(server.url, { token: 'bad' } as never, q, 15_000)).toBeNull();
  });
});

describe('the statement', () => {
  it('reads one of the access-log indexes', async () => {
    const db = server.database.dataSource;
    for (const [includeOwnReads, index] of [
      [false, 'audit_event_patient_log_others'],
      [true, 'audit_event_patient_log'],
    ] as const) {
      const statement = accessLogStatement({ before: { occurredAt: at(30), id: 'x' }, includeOwnReads });
      const params = [JANE, 5, at(30), 'x'];
      if (isPostgres(db)) {
        // A handful of rows: make the planner show what it would do with many.
        await db.transaction(async (tx) => {
          await tx.query('SET LOCAL enable_seqscan = off');
          const plan = await sql<{ 'QUERY PLAN': string }>(tx, `EXPLAIN ${statement}`, params);
          expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(new RegExp(`Index Scan Backward using ${index} `));
        });
      } else {
        const plan = await sql<{ detail: string }>(db, `EXPLAIN QUERY PLAN ${statement}`, params);
        const text = plan.map((r) => r.detail).join('\n');
        expect(text).toContain(`USING INDEX ${index} `);
        expect(text).not.toContain('TEMP B-TREE');
      }
    }
  });
});

describe('the migration', () => {
  it('upgrades a database made before it: the old (patient_id, occurred_at) index replaced by the two of the access log', async () => {
    const dataDir = testTempDir('portal-audit-upgrade-');
    const schema = uniqueDatabaseName('auditup');
    const open = (migrations: Function[]) =>
      openDatabase({ name: 'auditup', schema, entities: [AuditEventEntity], migrations, dataDir, databaseUrl: testDatabaseUrl() });
    const indexes = async (db: Awaited<ReturnType<typeof open>>) => {
      const rows = isPostgres(db.dataSource)
        ? await sql<{ name: string; def: string }>(db.dataSource, `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'audit_event'`)
        : await sql<{ name: string; def: string }>(db.dataSource, `SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event' AND sql IS NOT NULL`);
      // Not the primary key's.
      return rows.filter((r) => !r.name.startsWith('PK_')).map((r) => `${r.name}: ${r.def.replace(/"/g, '').replace(/\s+/g, ' ')}`).sort();
    };
    let db = await open([CreateAuditEvent1764000000000]);
    try {
      const before = await indexes(db);
      expect(before).toHaveLength(1);
      expect(before[0]).toMatch(/\(patient_id, occurred_at\)/);
      await db.dataSource.destroy();
      db = await open(AUDIT_MIGRATIONS);
      const after = await indexes(db);
      expect(after.map((l) => l.split(':')[0])).toEqual(['audit_event_patient_log', 'audit_event_patient_log_others']);
      expect(after[1]).toMatch(/WHERE/i);
    } finally {
      await db.destroyAndDrop();
      removeTestDir(dataDir);
    }
  });
});
