import { parse } from 'graphql';
import { fetchPaths, isOutage, outageKind, sectionErrors, SECTION_UNAVAILABLE, SubgraphOutage, SubgraphRefusal } from './resilience';

describe('fetchPaths', () => {
  it('names each root field of a root fetch by its response key', () => {
    expect(fetchPaths({ query: 'query Q__identity__0 { me { account { id } } first: supportContacts { name } __typename }' })).toEqual([['me'], ['first']]);
  });

  it('names, for each representation, every field selected on its type', () => {
    const query = `query Q__pharmacy__1($representations: [_Any!]!) {
      _entities(representations: $representations) {
        __typename
        ... on Patient { __typename active: prescriptions(status: ACTIVE) { id } }
        ... on Practitioner { schedule(from: "a", to: "b") { id } }
      }
    }`;
    const representations = [
      { __typename: 'Patient', id: 'p1' },
      { __typename: 'Practitioner', id: 'pr1' },
      { __typename: 'Patient', id: 'p2' },
    ];
    expect(fetchPaths({ query, variables: { representations } })).toEqual([
      ['_entities', 0, 'active'],
      ['_entities', 1, 'schedule'],
      ['_entities', 2, 'active'],
    ]);
  });

  it('follows named fragments, once each, and reads a parsed document when given one', () => {
    const document = parse(`query Q($representations: [_Any!]!) {
      _entities(representations: $representations) { ...P }
    }
    fragment P on Patient { labResults { totalCount } ...Q }
    fragment Q on Patient { visitNotes { totalCount } ...P }`);
    expect(fetchPaths({ variables: { representations: [{ __typename: 'Patient', id: 'p1' }] } }, document)).toEqual([
      ['_entities', 0, 'labResults'],
      ['_entities', 0, 'visitNotes'],
    ]);
  });
});

describe('sectionErrors', () => {
  it('is a GraphQL response without data and one error per field, each with its path, code and retryAfter', () => {
    const failure = { code: 'SERVICE_UNAVAILABLE', message: SECTION_UNAVAILABLE, retryAfterSeconds: 5 };
    expect(sectionErrors({ query: '{ clinics { id } slots: availableSlots { id } }' }, undefined, failure)).toEqual({
      data: null,
      errors: [
        { message: SECTION_UNAVAILABLE, path: ['clinics'], extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 5 } },
        { message: SECTION_UNAVAILABLE, path: ['slots'], extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter: 5 } },
      ],
    });
  });
});

describe('isOutage', () => {
  const named = (name: string, message = '') => Object.assign(new Error(message), { name });

  it('counts what says the subgraph is not working: no connection, no answer in time, a body that is not JSON', () => {
    expect(isOutage(new SubgraphOutage('answered 502'))).toBe(true);
    expect(isOutage(new TypeError('fetch failed'))).toBe(true);
    expect(isOutage(new TypeError('terminated'))).toBe(true);
    expect(isOutage(named('TimeoutError', 'The operation was aborted due to timeout'))).toBe(true);
    expect(isOutage(named('AbortError'))).toBe(true);
    expect(isOutage(new SyntaxError('Unexpected token < in JSON'))).toBe(true);
  });

  it('does not count a subgraph’s own refusal, or a bug of ours', () => {
    expect(isOutage(new SubgraphRefusal('SERVICE_UNAVAILABLE', 'Busy.', 1))).toBe(false);
    expect(isOutage(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isOutage(new Error('Expected "data._entities" in response to be an array'))).toBe(false);
    expect(isOutage('fetch failed')).toBe(false);
  });
});

describe('outageKind', () => {
  it('says the class and the socket error code, nothing of the request or its address', () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4004'), { code: 'ECONNREFUSED' }) });
    expect(outageKind(refused)).toBe('TypeError ECONNREFUSED');
    expect(outageKind(new SubgraphOutage('answered 502'))).toBe('answered 502');
    expect(outageKind(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('TimeoutError');
  });
});
