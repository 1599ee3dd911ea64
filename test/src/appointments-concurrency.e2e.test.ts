/**
 * Races for slots. On PostgreSQL: the e2e stack plus a second scheduling
 * instance on the stack's own scheduling schema; half the requests go through
 * the gateway, half straight to the second instance. On SQLite (one process per
 * database file): the same races through the gateway and straight at the one
 * scheduling instance.
 */
import { startSubgraph, type PortalConfig, type RunningSubgraph } from '@portal/kit';
import { DEMO } from '@portal/demo';
import { gql, removeTestDir, testConfig, type GraphQLResponse } from '@portal/kit/testing';
import { seedScalePatient as seedIdentityPatient } from '@portal/identity';
import { createSchedulingModule } from '@portal/scheduling';
import { fromNow, schedulingFactory, uniqueId, type SchedulingFactory } from '@portal/scheduling/testing';
import { operation, startTestStack, type TestStack } from './harness';

const onPostgres = process.env.PORTAL_TEST_DB === 'postgres';

let stack: TestStack;
let second: RunningSubgraph | undefined;
let make: SchedulingFactory;
let secondConfig: PortalConfig | undefined;
/** Where requests go, alternately: the gateway, and a scheduling instance. */
let targets: string[];

beforeAll(async () => {
  stack = await startTestStack();
  const db = stack.subgraphs.scheduling.database.dataSource;
  make = schedulingFactory(db);
  if (onPostgres) {
    const schema = (db.options as { schema?: string }).schema;
    secondConfig = testConfig({ identityUrl: stack.subgraphs.identity.url });
    second = await startSubgraph(createSchedulingModule(), { config: secondConfig, databaseName: schema });
    targets = [stack.graphqlUrl, second.graphqlUrl];
  } else {
    targets = [stack.graphqlUrl, stack.subgraphs.scheduling.graphqlUrl];
  }
});
afterAll(async () => {
  try {
    await second?.close();
  } finally {
    removeTestDir(secondConfig?.dataDir);
    await stack?.stop();
  }
});

interface Attempt {
  res: GraphQLResponse;
  via: number;
}

/** Fires every request at once, alternating between the targets. */
async function race(requests: { query: string; variables: Record<string, unknown>; token: string }[]) {
  const started = Date.now();
  const results: Attempt[] = await Promise.all(
    requests.map(async (r, i) => ({ via: i % targets.length, res: await gql(targets[i % targets.length], r.query, r.variables, r.token) })),
  );
  const ms = Date.now() - started;
  const byCode: Record<string, number> = {};
  for (const { res } of results) for (const e of res.errors ?? []) byCode[String(e.extensions?.code)] = (byCode[String(e.extensions?.code)] ?? 0) + 1;
  const winners = results.filter((a) => !a.res.errors);
  return { results, winners, byCode, ms, statuses: new Set(results.map((a) => a.res.status)) };
}

function report(name: string, r: Awaited<ReturnType<typeof race>>) {
  const losers = Object.entries(r.byCode).map(([c, n]) => `${c}=${n}`).join(', ') || 'none';
  // Figures for the record: ids and codes only, no health data.
  console.log(`[race ${onPostgres ? 'postgres, 2 instances' : 'sqlite, 1 instance'}] ${name}: ${r.results.length} attempts, ${r.winners.length} winners, losers ${losers}, ${r.ms} ms`);
}

/** Patients of their own, each with an identity account and a live session. */
async function patients(n: number) {
  const made: { id: string; token: string }[] = [];
  // One after another: identity's SQLite connection is shared, so its seed transactions must not overlap.
  for (let i = 0; i < n; i++) {
    const id = uniqueId('pt');
    await seedIdentityPatient(stack.subgraphs.identity.database.dataSource, { patientId: id, count: 0, username: id, password: 'Synthetic-Password-1' });
    made.push({ id, token: await stack.tokenFor({ personId: id, role: 'PATIENT', accountId: `ac-${id}` }) });
  }
  return made;
}

async function sqlRows<T = any>(text: string): Promise<T[]> {
  return stack.subgraphs.scheduling.database.dataSource.query(text);
}

/** Held slots with more than one active appointment, and patients with overlapping active appointments. */
async function invariants(patientIds: string[]) {
  const ids = patientIds.map((p) => `'${p}'`).join(',');
  const doubleSlots = await sqlRows(
    `SELECT slot_id FROM appointment WHERE slot_id IS NOT NULL AND status <> 'CANCELLED' GROUP BY slot_id HAVING COUNT(*) > 1`,
  );
  const overlaps = await sqlRows(
    `SELECT a.patient_id FROM appointment a JOIN appointment b ON a.patient_id = b.patient_id AND a.id < b.id
      WHERE a.patient_id IN (${ids}) AND a.status <> 'CANCELLED' AND b.status <> 'CANCELLED' AND a.start_at < b.end_at AND b.start_at < a.end_at`,
  );
  return { doubleSlots, overlaps };
}

async function holders(slotId: string): Promise<string[]> {
  return (await sqlRows<{ patient_id: string }>(`SELECT patient_id FROM appointment WHERE slot_id = '${slotId}' AND status <> 'CANCELLED'`)).map((r) => r.patient_id);
}

describe(`racing for slots (${onPostgres ? 'two scheduling instances on one PostgreSQL schema' : 'SQLite, one instance'})`, () => {
  it('books each of 5 slots exactly once out of 60 concurrent attempts by 12 patients; every loser gets SLOT_UNAVAILABLE', async () => {
    // A day apart, so a patient may win several and only the slot decides.
    const slots = await Promise.all([0, 1, 2, 3, 4].map((d) => make.slot({ start: fromNow(100 + d), practitionerId: uniqueId('pr') })));
    const people = await patients(12);
    const requests = people.flatMap((p) => slots.map((s) => ({ query: operation('BookAppointment'), variables: { slotId: s.id }, token: p.token })));
    const r = await race(requests);
    report('book 5 slots', r);

    expect(r.results).toHaveLength(60);
    expect([...r.statuses]).toEqual([200]);
    expect(r.winners).toHaveLength(5);
    expect(r.byCode).toEqual({ SLOT_UNAVAILABLE: 55 });
    for (const s of slots) expect(await holders(s.id)).toHaveLength(1);
    expect(new Set(r.winners.map((w) => w.res.data.bookAppointment.start))).toEqual(new Set(slots.map((s) => s.startAt)));
    expect(await invariants(people.map((p) => p.id))).toEqual({ doubleSlots: [], overlaps: [] });
  });

  it('never gives one patient overlapping appointments when they race for slots at the same time', async () => {
    // Six practitioners' slots in one half hour, eight patients trying all of them.
    const slots = await Promise.all([0, 5, 10, 15, 20, 25].map((m) => make.slot({ start: fromNow(110, m), practitionerId: uniqueId('pr') })));
    const people = await patients(8);
    const requests = people.flatMap((p) => slots.map((s) => ({ query: operation('BookAppointment'), variables: { slotId: s.id }, token: p.token })));
    const r = await race(requests);
    report('book overlapping slots', r);

    expect(r.results).toHaveLength(48);
    expect([...r.statuses]).toEqual([200]);
    expect(Object.keys(r.byCode).length).toBeGreaterThan(0);
    expect(Object.keys(r.byCode).every((c) => c === 'SLOT_UNAVAILABLE' || c === 'CONFLICT')).toBe(true);
    expect(r.winners.length).toBeGreaterThanOrEqual(1);
    expect(r.winners.length).toBeLessThanOrEqual(6);
    for (const s of slots) expect((await holders(s.id)).length).toBeLessThanOrEqual(1);
    expect(await invariants(people.map((p) => p.id))).toEqual({ doubleSlots: [], overlaps: [] });
  });

  it('moves exactly one of 12 concurrent reschedules onto each of 2 slots; the losers keep their appointments', async () => {
    const targetsSlots = await Promise.all([0, 1].map((d) => make.slot({ start: fromNow(120 + d), practitionerId: uniqueId('pr') })));
    const people = await patients(12);
    const own = await Promise.all(
      people.map(async (p, i) => {
        const slot = await make.slot({ start: fromNow(130 + i), practitionerId: uniqueId('pr') });
        const res = await gql(stack.graphqlUrl, operation('BookAppointment'), { slotId: slot.id }, p.token);
        return { id: res.data.bookAppointment.id as string, slotId: slot.id };
      }),
    );
    const requests = people.map((p, i) => ({
      query: operation('RescheduleAppointment'),
      variables: { appointmentId: own[i].id, slotId: targetsSlots[i % 2].id },
      token: p.token,
    }));
    const r = await race(requests);
    report('reschedule onto 2 slots', r);

    expect([...r.statuses]).toEqual([200]);
    expect(r.winners).toHaveLength(2);
    expect(r.byCode).toEqual({ SLOT_UNAVAILABLE: 10 });
    for (const s of targetsSlots) expect(await holders(s.id)).toHaveLength(1);
    // Winners released their old slot; losers still hold theirs, booked.
    const held = await Promise.all(own.map(async (a) => (await holders(a.slotId)).length));
    expect(held.filter((n) => n === 0)).toHaveLength(2);
    expect(held.filter((n) => n === 1)).toHaveLength(10);
    const statuses = await sqlRows<{ status: string; cancel_reason: string | null }>(
      `SELECT status, cancel_reason FROM appointment WHERE id IN (${own.map((a) => `'${a.id}'`).join(',')})`,
    );
    expect(statuses.filter((s) => s.status === 'CANCELLED').map((s) => s.cancel_reason)).toEqual(['Rescheduled', 'Rescheduled']);
    expect(statuses.filter((s) => s.status === 'BOOKED')).toHaveLength(10);
    expect(await invariants(people.map((p) => p.id))).toEqual({ doubleSlots: [], overlaps: [] });
  });

  it('races a cancellation against bookings of the same slot: at most one booker wins, and the slot is never held twice', async () => {
    const slots = await Promise.all([0, 1, 2, 3, 4].map((d) => make.slot({ start: fromNow(140 + d), practitionerId: uniqueId('pr') })));
    const holdersNow = await patients(5);
    const bookers = await patients(6);
    const held = await Promise.all(
      holdersNow.map(async (p, i) => (await gql(stack.graphqlUrl, operation('BookAppointment'), { slotId: slots[i].id }, p.token)).data.bookAppointment.id as string),
    );
    const requests = slots.flatMap((s, i) => [
      { query: operation('CancelAppointment'), variables: { appointmentId: held[i], reason: 'Race' }, token: holdersNow[i].token },
      ...bookers.map((b) => ({ query: operation('BookAppointment'), variables: { slotId: s.id }, token: b.token })),
    ]);
    const r = await race(requests);
    report('cancel then book', r);

    expect(r.results).toHaveLength(35);
    expect([...r.statuses]).toEqual([200]);
    const cancels = r.results.filter((a) => a.res.data?.cancelAppointment || a.res.errors?.[0]?.path?.[0] === 'cancelAppointment');
    expect(cancels.map((c) => c.res.data?.cancelAppointment?.status)).toEqual(Array(5).fill('CANCELLED'));
    expect(Object.keys(r.byCode)).toEqual(['SLOT_UNAVAILABLE']);
    for (const [i, s] of slots.entries()) {
      const now = await holders(s.id);
      expect(now.length).toBeLessThanOrEqual(1);
      expect(now).not.toContain(holdersNow[i].id);
      // A slot no booker won is free at once.
      if (now.length === 0) expect((await gql(stack.graphqlUrl, operation('BookAppointment'), { slotId: s.id }, bookers[0].token)).errors).toBeUndefined();
    }
    expect(await invariants([...holdersNow, ...bookers].map((p) => p.id))).toEqual({ doubleSlots: [], overlaps: [] });
  });

  it('keeps one appointment for concurrent retries with one idempotency key, whichever instance each reaches', async () => {
    const [p] = await patients(1);
    const slot = await make.slot({ start: fromNow(150), practitionerId: uniqueId('pr') });
    const requests = Array.from({ length: 10 }, () => ({ query: operation('BookAppointment'), variables: { slotId: slot.id, idempotencyKey: 'tap-tap-tap' }, token: p.token }));
    const r = await race(requests);
    report('idempotent retries', r);
    expect(r.winners).toHaveLength(10);
    expect(new Set(r.winners.map((w) => w.res.data.bookAppointment.id)).size).toBe(1);
    expect(await sqlRows(`SELECT id FROM appointment WHERE patient_id = '${p.id}'`)).toHaveLength(1);
    expect(DEMO.familyHealthClinic).toBe(r.winners[0].res.data.bookAppointment.clinic.id);
  });
});
