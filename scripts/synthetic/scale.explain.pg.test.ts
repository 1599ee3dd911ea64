/**
 * Every hot query on an index, on PostgreSQL only: a synthetic population of
 * 10,000 patients (scripts/synthetic) in schemas of this test's own, the whole
 * stack on it, and the operations of the scale benchmark run through the
 * gateway while a hook on pg's client records every SELECT the subgraphs send
 * (the real statements, not copies of them). Each is then planned with
 * EXPLAIN (FORMAT JSON) under `enable_seqscan = off` (and no merge or hash
 * joins, which read whole indexes where nested loops probe them): a sequential scan that
 * remains means no index can serve the statement at all (and an index scan
 * with no index condition reads the whole table too), and the test fails on
 * either of a table that grows with patients, naming the operation and the table.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';
import pg from 'pg';
import { loadSigningKey } from '@portal/kit';
import { removeTestDir, testConfig, testDatabaseUrl, uniqueDatabasePrefix } from '@portal/kit/testing';
import { startStack, type Stack } from '@portal/server';
import { dropPopulation, loadPopulation } from './load';
import { PATIENT_TABLES, type Plan } from './population';
import { scaleScenarios } from './scenarios';

const databaseUrl = testDatabaseUrl();
const describePg = databaseUrl ? describe : describe.skip;

/**
 * Tables whose rows grow with the number of patients (or with their use of the portal).
 * Not the outbox: delivered and dead rows are purged after OUTBOX_RETENTION_HOURS, and its
 * worker's own statements (its backlog counts, read as a whole) run beside the requests.
 */
const GROWING = new Set([...PATIENT_TABLES.map((t) => t.split('.')[1]), 'session', 'message_draft', 'piv_card', 'pharmacist_lookup', 'audit_event']);

interface Captured {
  scenario: string;
  schema: string;
  text: string;
  values: unknown[];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Scan Direction'?: string;
  Plans?: PlanNode[];
}

/**
 * The scans of a plan that read a whole table: a sequential scan, or an index
 * scan with no condition on the index (it reads every entry, in index order).
 */
function wholeTableScans(node: PlanNode, found: { table: string; how: string; index?: string }[] = []): { table: string; how: string; index?: string }[] {
  const type = node['Node Type'];
  const table = node['Relation Name'];
  if (table && type === 'Seq Scan') found.push({ table, how: 'Seq Scan' });
  if (table && (type === 'Index Scan' || type === 'Index Only Scan') && !node['Index Cond']) {
    found.push({ table, how: `${type} of all of ${node['Index Name']}`, index: node['Index Name'] });
  }
  for (const child of node.Plans ?? []) wholeTableScans(child, found);
  return found;
}

describePg('scale: the hot queries of 10,000 patients on PostgreSQL use indexes', () => {
  const prefix = uniqueDatabasePrefix();
  const config = testConfig({ rateLimits: { recordDownload: { perAddress: null, global: null } } });
  let stack: Stack | undefined;
  let plan: Plan;
  const captured: Captured[] = [];
  let scenario: string | null = null;
  const original = pg.Client.prototype.query;

  beforeAll(async () => {
    plan = (await loadPopulation({ databaseUrl: databaseUrl!, patients: 10_000, seed: 7, schemaPrefix: prefix, batchSize: 2500 })).plan;
    stack = await startStack({ config, port: 0, ephemeralPorts: true, seedDemo: false, databasePrefix: prefix, subgraphTimeoutMs: 30_000 });
    // Records what the stack's own connections send (search_path names the subgraph's schema).
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string; values?: unknown[] };
      const text = typeof first === 'string' ? first : first?.text;
      const values = (typeof first === 'string' ? args[1] : first?.values) as unknown[] | undefined;
      const options = String((this as unknown as { connectionParameters?: { options?: string } }).connectionParameters?.options ?? '');
      const schema = /search_path=(\S+)/.exec(options)?.[1];
      if (scenario && text && schema && /^\s*(SELECT|WITH)\b/i.test(text) && !/^\s*SELECT 1\b/i.test(text)) {
        captured.push({ scenario, schema, text, values: Array.isArray(values) ? values : [] });
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof pg.Client.prototype.query;
  }, 600_000);

  afterAll(async () => {
    pg.Client.prototype.query = original;
    try {
      await stack?.close();
    } finally {
      await dropPopulation(databaseUrl!, prefix);
      removeTestDir(config.dataDir);
    }
  }, 120_000);

  it('plans every statement of PortalView, deep pages, CareTeamInbox, the pharmacy queue, AvailableSlots, the access log and the FHIR download without a sequential scan of a growing table', async () => {
    const key = await loadSigningKey({ dataDir: config.dataDir, production: false });
    scenario = 'setup (tokens, walking to deep pages)';
    const scenarios = await scaleScenarios(
      { graphqlUrl: stack!.graphqlUrl, gatewayUrl: stack!.gatewayUrl, config, identity: stack!.subgraphs.identity.database.dataSource, key, plan },
      { patients: 3, seed: 1 },
    );
    for (const s of scenarios) {
      scenario = s.name;
      await runRetryingUnavailable(s.run);
    }
    scenario = null;
    const names = new Set(captured.map((c) => c.scenario));
    // Every operation reached the databases: an empty capture would make this test pass for nothing.
    for (const s of scenarios) expect(names.has(s.name)).toBe(true);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const problems: string[] = [];
    const seen = new Set<string>();
    try {
      // Whatever an index can serve is planned on one: no sequential scans, and no merge or hash
      // joins that read a whole index when a small table makes them cheap (a 10,000-patient
      // population is small). A whole-table read that remains has no index to use.
      await client.query('SET enable_seqscan = off');
      await client.query('SET enable_mergejoin = off');
      await client.query('SET enable_hashjoin = off');
      const partial = async (schema: string, index: string) =>
        (await client.query('SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace WHERE n.nspname = $1 AND i.relname = $2 AND x.indpred IS NOT NULL', [schema, index])).rows.length > 0;
      for (const c of captured) {
        const keyOf = `${c.schema}\n${c.text}`;
        if (seen.has(keyOf)) continue;
        seen.add(keyOf);
        await client.query(`SET search_path = "${c.schema}"`);
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${c.text}`, c.values);
        const planJson = rows[0]['QUERY PLAN'] as { Plan: PlanNode }[];
        for (const scan of wholeTableScans(planJson[0].Plan)) {
          // A partial index read from its start (the pending queue's first page) reads only what it indexes.
          if (scan.index && (await partial(c.schema, scan.index))) continue;
          if (GROWING.has(scan.table)) problems.push(`${c.scenario}: ${scan.how} on ${c.schema}.${scan.table} in ${c.text.replace(/\s+/g, ' ').slice(0, 300)}`);
        }
      }
    } finally {
      await client.end();
    }
    expect(seen.size).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  }, 600_000);

  it('plans the access log in each subgraph on its own index, with the planner’s default settings', async () => {
    // The statements the AccessLog scenarios sent (the first test ran them): one per subgraph, for each form.
    const statements = new Map<string, Captured>();
    for (const c of captured) {
      if (!c.scenario.startsWith('AccessLog') || !/FROM audit_event\b/.test(c.text)) continue;
      statements.set(`${c.schema}\n${c.text}`, c);
    }
    const schemas = new Set([...statements.values()].map((c) => c.schema));
    expect(schemas.size).toBe(5);
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const plans: string[] = [];
    try {
      for (const c of statements.values()) {
        await client.query(`SET search_path = "${c.schema}"`);
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${c.text}`, c.values);
        const root = (rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan;
        const scans = indexScans(root).filter((n) => n['Relation Name'] === 'audit_event');
        const ownReads = !c.text.includes("actor_role <> 'PATIENT'");
        const keyset = c.values.length === 4 ? 'after a cursor' : 'first page';
        const [scan] = scans;
        plans.push(
          `${c.schema.replace(/^t_[a-z0-9]+_/, '')} ${ownReads ? 'with own reads' : 'default'} ${keyset}: ${scan ? `${scan['Node Type']}${scan['Scan Direction'] === 'Backward' ? ' Backward' : ''} using ${scan['Index Name']}${scan['Index Cond']?.includes('occurred_at') ? ' (keyset in the index condition)' : ''}` : 'no index'}`,
        );
        // The index's order answers ORDER BY ... LIMIT: no sort of the patient's rows.
        expect(JSON.stringify(root)).not.toContain('"Sort"');
      }
    } finally {
      await client.end();
    }
    for (const line of plans) {
      const ownReads = line.includes('with own reads');
      expect(line).toMatch(new RegExp(`Index Scan Backward using ${ownReads ? 'audit_event_patient_log\\b(?!_)' : 'audit_event_patient_log_others'}`));
      if (line.includes('after a cursor')) expect(line).toContain('(keyset in the index condition)');
    }
    expect(plans.length).toBeGreaterThanOrEqual(10);
  }, 120_000);
});

/** Every index scan of a plan, depth first. */
function indexScans(node: PlanNode, found: PlanNode[] = []): PlanNode[] {
  if (node['Node Type'] === 'Index Scan' || node['Node Type'] === 'Index Only Scan') found.push(node);
  for (const child of node.Plans ?? []) indexScans(child, found);
  return found;
}

/**
 * This test is about the plans of the statements the operations send, not about answering
 * in time: on a CI machine running other suites beside it, a subgraph may answer a section
 * SERVICE_UNAVAILABLE (its documented "retry" signal). Then the operation is sent again, as a
 * client would, up to three times; any other error fails at once.
 */
async function runRetryingUnavailable(run: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= 3 || !/SERVICE_UNAVAILABLE/.test((e as Error).message)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 2_000 * attempt));
    }
  }
}
