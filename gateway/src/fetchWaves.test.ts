import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type GraphQLSchema } from 'graphql';
import { FetchWaves, isEntityFetch, mergeQueries, mergeVariables, splitAnswer, type SubgraphAnswer, type SubgraphRequestBody, type WaveSender } from './fetchWaves';

/** A small subgraph with two entities; the practitioner "broken" fails, the care team "nulls" nulls the whole `_entities` list. */
function subgraph(): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Name { given: String family: String! }
      type Practitioner @key(fields: "id") { id: ID! name(style: String): Name! }
      type CareTeam @key(fields: "id") { id: ID! name: String! }
    `),
    resolvers: {
      Practitioner: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        name: (p: { id: string }, args: { style?: string }) => {
          if (p.id === 'broken') throw new Error('no name for broken');
          return { given: args.style === 'formal' ? 'Dr.' : 'Alex', family: `Family of ${p.id}` };
        },
      },
      CareTeam: {
        __resolveReference: (ref: { id: string }) => {
          if (ref.id === 'nulls') throw new Error('care team lookup failed');
          return { id: ref.id, name: `Team ${ref.id}` };
        },
      },
    },
  });
}

const PRACTITIONERS = `query PortalView__identity__2($representations:[_Any!]!,$style:String){_entities(representations:$representations){...on Practitioner{...N}}} fragment N on Practitioner{name(style:$style){given family}}`;
const CARE_TEAMS = `query PortalView__identity__3($representations:[_Any!]!){_entities(representations:$representations){...on CareTeam{name}}}`;
const AUTHORS = `query PortalView__identity__4($representations:[_Any!]!){_entities(representations:$representations){...on Practitioner{...N}}} fragment N on Practitioner{name{family}}`;

const limits = { maxRootFields: 20, maxAliases: 30 };

async function run(schema: GraphQLSchema, body: SubgraphRequestBody): Promise<SubgraphAnswer> {
  const document = parse(body.query!);
  const errors = validate(schema, document);
  if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
  return JSON.parse(JSON.stringify(await execute({ schema, document, variableValues: body.variables, operationName: body.operationName }))) as SubgraphAnswer;
}

const practitioners = (...ids: string[]) => ids.map((id) => ({ __typename: 'Practitioner', id }));
const careTeams = (...ids: string[]) => ids.map((id) => ({ __typename: 'CareTeam', id }));

describe('merging entity fetches', () => {
  const schema = subgraph();

  it('answers each part exactly as it is answered alone, fragments of the same name and variables included', async () => {
    const parts: SubgraphRequestBody[] = [
      { query: PRACTITIONERS, variables: { representations: practitioners('pr-1', 'pr-2'), style: 'formal' } },
      { query: CARE_TEAMS, variables: { representations: careTeams('ct-1') } },
      { query: AUTHORS, variables: { representations: practitioners('pr-2', 'broken') } },
    ];
    const merged = mergeQueries(
      parts.map((p) => p.query!),
      limits,
    )!;
    expect(merged.operationName).toBe('PortalView__identity__2__merged_3');
    const answer = await run(schema, { query: merged.query, operationName: merged.operationName, variables: mergeVariables(parts) });
    const split = splitAnswer(answer, parts.length);
    for (const [i, part] of parts.entries()) {
      const alone = await run(schema, part);
      expect(split[i].alone).toBe(false);
      expect(split[i].answer.data).toEqual(alone.data);
      expect((split[i].answer.errors ?? []).map((e) => [e.message, e.path])).toEqual((alone.errors ?? []).map((e) => [e.message, e.path]));
    }
    // The failing author is the third part's, at its own index: the other parts carry no error.
    expect(split[2].answer.errors?.[0].path).toEqual(['_entities', 1, 'name']);
    expect(split[0].answer.errors).toBeUndefined();
  });

  it('marks the parts a failure of another part emptied, to be asked again alone', async () => {
    const parts: SubgraphRequestBody[] = [
      { query: CARE_TEAMS, variables: { representations: careTeams('nulls') } },
      { query: AUTHORS, variables: { representations: practitioners('pr-1') } },
    ];
    const merged = mergeQueries(
      parts.map((p) => p.query!),
      limits,
    )!;
    const split = splitAnswer(await run(schema, { ...merged, variables: mergeVariables(parts) }), 2);
    expect(split[0].alone).toBe(false);
    expect(split[0].answer.data).toBeNull();
    expect(split[0].answer.errors?.[0].path).toEqual(['_entities']);
    expect(split[1]).toEqual({ answer: { data: null }, alone: true });
  });

  it('gives every part an error at no part path (the whole request refused)', () => {
    const split = splitAnswer({ data: null, errors: [{ message: 'Your session has ended; sign in again.', extensions: { code: 'UNAUTHENTICATED' } }] }, 2);
    for (const part of split) {
      expect(part.alone).toBe(false);
      expect(part.answer.errors?.[0].message).toBe('Your session has ended; sign in again.');
    }
  });

  it('does not merge past the document limits, nor anything but queries of root fields', () => {
    expect(mergeQueries([CARE_TEAMS, AUTHORS], { maxRootFields: 1, maxAliases: 30 })).toBeUndefined();
    expect(mergeQueries([CARE_TEAMS, AUTHORS], { maxRootFields: 20, maxAliases: 1 })).toBeUndefined();
    expect(mergeQueries([CARE_TEAMS, 'mutation M { signOut }'], limits)).toBeUndefined();
    expect(mergeQueries([CARE_TEAMS, 'query Q { ... on Query { healthTopics { id } } }'], limits)).toBeUndefined();
    expect(mergeQueries([CARE_TEAMS, 'query Q {'], limits)).toBeUndefined();
  });

  it('holds only entity fetches', () => {
    expect(isEntityFetch({ query: CARE_TEAMS, variables: { representations: [] } })).toBe(true);
    expect(isEntityFetch({ query: 'query Q__identity__0 { me { account { id } } }', variables: {} })).toBe(false);
    expect(isEntityFetch({ query: 'query Q__identity__0 { me { account { id } } }' })).toBe(false);
  });
});

/** A subgraph data source stand-in: answers by running the query on the schema, and records every request it sends. */
class FakeSender implements WaveSender<SubgraphAnswer> {
  readonly sent: SubgraphRequestBody[] = [];
  refuseMerged = false;
  limits = limits;
  constructor(private readonly schema: GraphQLSchema) {}
  async post(_headers: Record<string, string>, body: SubgraphRequestBody, refusable: boolean): Promise<SubgraphAnswer | 'refused'> {
    this.sent.push(body);
    await new Promise((r) => setTimeout(r, 5));
    if (refusable && this.refuseMerged) return 'refused';
    return run(this.schema, body);
  }
  bodyOf = (r: SubgraphAnswer) => r;
  withBody = (_r: SubgraphAnswer, body: SubgraphAnswer) => body;
}

describe('FetchWaves', () => {
  const schema = subgraph();
  const settle = () => new Promise((r) => setTimeout(r, 30));

  it('holds entity fetches while a fetch of the same request is in flight, then sends those for one subgraph as one request', async () => {
    const waves = new FetchWaves<object>();
    const identity = new FakeSender(schema);
    const context = {};
    let rootDone = false;
    const root = waves.direct(context, async () => {
      await new Promise((r) => setTimeout(r, 20));
      rootDone = true;
      return 'root';
    });
    const a = waves.hold(context, identity, {}, { query: CARE_TEAMS, variables: { representations: careTeams('ct-1') } });
    const b = waves.hold(context, identity, {}, { query: AUTHORS, variables: { representations: practitioners('pr-1') } });
    await new Promise((r) => setTimeout(r, 10));
    expect(identity.sent).toHaveLength(0);
    expect(await root).toBe('root');
    const [answerA, answerB] = await Promise.all([a, b]);
    expect(rootDone).toBe(true);
    expect(identity.sent).toHaveLength(1);
    expect(identity.sent[0].operationName).toMatch(/__merged_2$/);
    expect(answerA).toEqual({ data: { _entities: [{ name: 'Team ct-1' }] } });
    expect(answerB).toEqual({ data: { _entities: [{ name: { family: 'Family of pr-1' } }] } });
  });

  it('never holds a fetch behind another request', async () => {
    const waves = new FetchWaves<object>();
    const identity = new FakeSender(schema);
    let release!: () => void;
    const other = waves.direct({}, () => new Promise<void>((r) => (release = r)));
    const answer = await waves.hold({}, identity, {}, { query: CARE_TEAMS, variables: { representations: careTeams('ct-2') } });
    expect(answer.data).toEqual({ _entities: [{ name: 'Team ct-2' }] });
    release();
    await other;
  });

  it('sends a refused merge part by part, and does not merge those parts again', async () => {
    const waves = new FetchWaves<object>();
    const identity = new FakeSender(schema);
    identity.refuseMerged = true;
    for (let round = 0; round < 2; round++) {
      const context = {};
      const answers = await Promise.all([
        waves.hold(context, identity, {}, { query: CARE_TEAMS, variables: { representations: careTeams('ct-1') } }),
        waves.hold(context, identity, {}, { query: AUTHORS, variables: { representations: practitioners('pr-1') } }),
      ]);
      expect(answers.map((a) => a.errors)).toEqual([undefined, undefined]);
    }
    // First round: the merge (refused), then each part; second round: each part only.
    expect(identity.sent.map((b) => b.operationName ?? 'alone')).toEqual(['PortalView__identity__3__merged_2', 'alone', 'alone', 'alone', 'alone']);
  });

  it('merges again next time when the refusal was one part’s own (refused alone too)', async () => {
    const waves = new FetchWaves<object>();
    const identity = new FakeSender(schema);
    // The subgraph refuses (400) any request holding the care team "over": merged, or alone.
    identity.post = async function (this: FakeSender, _headers, body, refusable) {
      this.sent.push(body);
      if (JSON.stringify(body.variables).includes('"over"')) {
        if (refusable) return 'refused';
        throw new Error('refused alone');
      }
      return run(schema, body);
    };
    const wave = (careTeam: string) => {
      const context = {};
      return Promise.allSettled([
        waves.hold(context, identity, {}, { query: CARE_TEAMS, variables: { representations: careTeams(careTeam) } }),
        waves.hold(context, identity, {}, { query: AUTHORS, variables: { representations: practitioners('pr-1') } }),
      ]);
    };
    expect((await wave('over')).map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect((await wave('ct-1')).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(identity.sent.map((b) => b.operationName ?? 'alone')).toEqual([
      'PortalView__identity__3__merged_2',
      'alone',
      'alone',
      'PortalView__identity__3__merged_2',
    ]);
  });

  it('asks a part again alone when another part nulled the merged answer', async () => {
    const waves = new FetchWaves<object>();
    const identity = new FakeSender(schema);
    const context = {};
    const [broken, fine] = await Promise.all([
      waves.hold(context, identity, {}, { query: CARE_TEAMS, variables: { representations: careTeams('nulls') } }),
      waves.hold(context, identity, {}, { query: AUTHORS, variables: { representations: practitioners('pr-1') } }),
    ]);
    expect(broken.data).toBeNull();
    expect(broken.errors?.[0].message).toBe('care team lookup failed');
    expect(fine).toEqual({ data: { _entities: [{ name: { family: 'Family of pr-1' } }] } });
    expect(identity.sent).toHaveLength(2);
  });

  it('fails its parts, never leaves them waiting, when splitting the answer fails', async () => {
    const waves = new FetchWaves<object>();
    const broken: WaveSender<SubgraphAnswer> = {
      limits,
      post: async () => ({ data: {} }),
      bodyOf: () => {
        throw new Error('cannot read the answer');
      },
      withBody: (_r, b) => b,
    };
    const context = {};
    const results = await Promise.allSettled([
      waves.hold(context, broken, {}, { query: CARE_TEAMS, variables: { representations: careTeams('ct-1') } }),
      waves.hold(context, broken, {}, { query: AUTHORS, variables: { representations: practitioners('pr-1') } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('rejects every part with the error of the merged request', async () => {
    const waves = new FetchWaves<object>();
    const failing: WaveSender<SubgraphAnswer> = { limits, post: () => Promise.reject(new Error('outage')), bodyOf: (r) => r, withBody: (_r, b) => b };
    const context = {};
    const results = await Promise.allSettled([
      waves.hold(context, failing, {}, { query: CARE_TEAMS, variables: { representations: careTeams('ct-1') } }),
      waves.hold(context, failing, {}, { query: AUTHORS, variables: { representations: practitioners('pr-1') } }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await settle();
  });
});
