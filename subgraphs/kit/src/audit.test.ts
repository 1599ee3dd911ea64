import { AuditEventEntity, AuditTrail } from './audit';
import { runChange } from './writes';
import { openAuditDatabase } from './auditTesting';
import type { Viewer } from './auth/tokens';

const viewer: Viewer = {
  accountId: 'ac-alex',
  personId: 'pr-alex',
  role: 'PRACTITIONER',
  method: 'CAC',
  sessionId: 's-1',
  careTeamIds: [],
  scopes: [],
  expiresAt: new Date(),
  token: 't',
};

describe('AuditTrail', () => {
  let audit: Awaited<ReturnType<typeof openAuditDatabase>>;
  beforeAll(async () => {
    audit = await openAuditDatabase();
  });
  afterAll(async () => {
    await audit?.close();
  });
  // The table refuses DELETE: each test reads only its own request's rows.

  const rowsOf = async (requestId: string) => (await audit.rows()).filter((r) => r.requestId === requestId);

  it('writes who did what to whose record, and when, at flush', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'clinical-records', 'req-1', viewer);
    const before = new Date().toISOString();
    trail.record('pt-1', 'lab_result', 'read', 'ALLOWED');
    trail.record('pt-2', 'visit_note', 'update', 'DENIED');
    expect(await rowsOf('req-1')).toEqual([]);
    await trail.flush();
    const rows = await rowsOf('req-1');
    expect(rows).toEqual([
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), occurredAt: expect.any(String), requestId: 'req-1', subgraph: 'clinical-records', actorAccountId: 'ac-alex', actorPersonId: 'pr-alex', actorRole: 'PRACTITIONER', patientId: 'pt-1', recordKind: 'lab_result', action: 'read', outcome: 'ALLOWED' },
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), occurredAt: expect.any(String), requestId: 'req-1', subgraph: 'clinical-records', actorAccountId: 'ac-alex', actorPersonId: 'pr-alex', actorRole: 'PRACTITIONER', patientId: 'pt-2', recordKind: 'visit_note', action: 'update', outcome: 'DENIED' },
    ]);
    expect(rows[0].id).not.toBe(rows[1].id);
    for (const r of rows) {
      expect(r.occurredAt >= before).toBe(true);
      expect(r.occurredAt <= new Date().toISOString()).toBe(true);
    }
  });

  it('names an anonymous caller ANONYMOUS, with no account or person', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'identity', 'req-anon', null);
    trail.record('pt-1', 'demographics', 'read', 'DENIED');
    await trail.flush();
    expect(await rowsOf('req-anon')).toEqual([expect.objectContaining({ actorAccountId: null, actorPersonId: null, actorRole: 'ANONYMOUS', outcome: 'DENIED' })]);
  });

  it('writes one event per patient, kind, action and outcome within a request, however often it is decided', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'pharmacy', 'req-dup', viewer);
    trail.record('pt-1', 'prescription', 'read', 'ALLOWED');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const afterFirst = new Date().toISOString();
    for (let i = 0; i < 2; i++) trail.record('pt-1', 'prescription', 'read', 'ALLOWED');
    trail.record('pt-2', 'prescription', 'read', 'ALLOWED');
    trail.record('pt-1', 'pharmacy_request', 'read', 'ALLOWED');
    trail.record('pt-1', 'prescription', 'create', 'ALLOWED');
    trail.record('pt-1', 'prescription', 'read', 'DENIED');
    await trail.flush();
    const rows = await rowsOf('req-dup');
    expect(rows.map((r) => `${r.patientId}|${r.recordKind}|${r.action}|${r.outcome}`)).toEqual([
      'pt-1|pharmacy_request|read|ALLOWED',
      'pt-1|prescription|create|ALLOWED',
      'pt-1|prescription|read|ALLOWED',
      'pt-1|prescription|read|DENIED',
      'pt-2|prescription|read|ALLOWED',
    ]);
    // The event is the first decision's, not a later repeat's.
    expect(rows.find((r) => r.recordKind === 'prescription' && r.action === 'read' && r.outcome === 'ALLOWED' && r.patientId === 'pt-1')!.occurredAt < afterFirst).toBe(true);
  });

  it('writes all events in one statement, each once, and nothing when there is nothing to write', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'messaging', 'req-once', viewer);
    audit.db.counter.count = 0;
    await trail.flush();
    expect(audit.db.counter.count).toBe(0);
    trail.record('pt-1', 'message', 'read', 'ALLOWED');
    trail.record('pt-2', 'message', 'read', 'ALLOWED');
    await trail.flush();
    expect(audit.db.counter.count).toBe(1);
    await trail.flush();
    expect(audit.db.counter.count).toBe(1);
    expect(await rowsOf('req-once')).toHaveLength(2);
    // After a flush the same decision is not written again in this request; another one is.
    trail.record('pt-1', 'message', 'read', 'ALLOWED');
    audit.db.counter.count = 0;
    await trail.flush();
    expect(audit.db.counter.count).toBe(0);
    expect(await rowsOf('req-once')).toHaveLength(2);
    trail.record('pt-1', 'message', 'read', 'DENIED');
    await trail.flush();
    expect(await rowsOf('req-once')).toHaveLength(3);
  });

  it('a flush with nothing to write does not wait behind a change in flight', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'messaging', 'req-nothing', viewer);
    let release!: () => void;
    let timer: NodeJS.Timeout | undefined;
    const held = runChange(audit.db.dataSource, () => new Promise<void>((resolve) => (release = resolve)));
    try {
      // On SQLite a write queues behind the change; a flush of nothing writes nothing, so it has nothing to wait for.
      const waiting = new Promise((resolve) => (timer = setTimeout(() => resolve('waiting'), 2_000)));
      expect(await Promise.race([trail.flush().then(() => 'flushed'), waiting])).toBe('flushed');
    } finally {
      clearTimeout(timer);
      release();
      await held;
    }
  });

  it('writes the events inside the change’s transaction, and not again at flush', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'pharmacy', 'req-tx', viewer);
    trail.record('pt-1', 'prescription', 'read', 'ALLOWED');
    const value = await trail.transaction(audit.db.dataSource, async () => {
      trail.record('pt-1', 'prescription', 'update', 'ALLOWED');
      return 42;
    });
    expect(value).toBe(42);
    expect((await rowsOf('req-tx')).map((r) => `${r.action} ${r.outcome}`)).toEqual(['read ALLOWED', 'update ALLOWED']);
    audit.db.counter.count = 0;
    await trail.flush();
    expect(audit.db.counter.count).toBe(0);
    expect(await rowsOf('req-tx')).toHaveLength(2);
  });

  it('a transaction with nothing recorded adds no statement to the change', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'pharmacy', 'req-tx-empty', viewer);
    audit.db.counter.count = 0;
    await audit.db.dataSource.transaction(async () => undefined);
    const plain = audit.db.counter.count;
    audit.db.counter.count = 0;
    await trail.transaction(audit.db.dataSource, async () => undefined);
    expect(audit.db.counter.count).toBe(plain);
  });

  it('keeps the events of a change that rolled back (its own work or their insert failed) pending, flushed with the response as the attempt', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'pharmacy', 'req-tx-work-fails', viewer);
    await expect(
      trail.transaction(audit.db.dataSource, async () => {
        trail.record('pt-1', 'prescription', 'update', 'ALLOWED');
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await rowsOf('req-tx-work-fails')).toEqual([]);
    await trail.flush();
    expect((await rowsOf('req-tx-work-fails')).map((r) => `${r.patientId} ${r.action}`)).toEqual(['pt-1 update']);

    // The audit insert itself fails (an event the table refuses): the change's own write rolls back with it,
    // and the events stay pending, so every later write of them fails too instead of losing them silently.
    const failing = new AuditTrail(audit.db.dataSource, 'pharmacy', 'req-tx-insert-fails', viewer);
    const changeRow = { id: 'e-change-of-failed-tx', occurredAt: new Date().toISOString(), requestId: 'req-tx-insert-fails-change', subgraph: 'pharmacy', actorAccountId: null, actorPersonId: null, actorRole: 'ANONYMOUS', patientId: 'pt-9', recordKind: 'prescription', action: 'update', outcome: 'ALLOWED' };
    await expect(
      failing.transaction(audit.db.dataSource, async (tx) => {
        await tx.getRepository(AuditEventEntity).insert(changeRow as never);
        failing.record(null as unknown as string, 'prescription', 'update', 'ALLOWED');
        return 'done';
      }),
    ).rejects.toThrow();
    expect(await rowsOf('req-tx-insert-fails-change')).toEqual([]);
    await expect(failing.flush()).rejects.toThrow();
    await expect(failing.flush()).rejects.toThrow();
    expect(await rowsOf('req-tx-insert-fails')).toEqual([]);
  });

  it('keeps the table append-only in the database itself', async () => {
    const trail = new AuditTrail(audit.db.dataSource, 'scheduling', 'req-ro', viewer);
    trail.record('pt-1', 'appointment', 'read', 'ALLOWED');
    await trail.flush();
    const q = (s: string) => audit.db.dataSource.query(s);
    await expect(q(`UPDATE audit_event SET outcome = 'DENIED' WHERE request_id = 'req-ro'`)).rejects.toThrow(/audit_event is append-only/);
    await expect(q(`DELETE FROM audit_event WHERE request_id = 'req-ro'`)).rejects.toThrow(/audit_event is append-only/);
    expect(await rowsOf('req-ro')).toEqual([expect.objectContaining({ outcome: 'ALLOWED' })]);
  });
});
