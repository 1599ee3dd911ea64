import { AuditTrail } from './audit';
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
