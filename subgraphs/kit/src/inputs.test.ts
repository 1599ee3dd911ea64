import { IDEMPOTENCY_KEY_MAX, ID_MAX, parseId, parseIdempotencyKey } from './inputs';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { extensions: { code: string; field?: string } }).extensions;
  }
  return null;
};

describe('parseId', () => {
  it.each([
    'pt-1000000001',
    'ct-behavioral-green',
    'sl-fh-2026-05-04-0900',
    'rx-john-albuterol-2',
    '0b7f5f7e-3c1e-4a39-9a59-6d1f0f6b1c2d',
    'A_b-9',
    'x',
    'a'.repeat(ID_MAX),
  ])('accepts %p as it is', (id) => expect(parseId(id, 'slotId')).toBe(id));

  it.each([
    '',
    ' ',
    ' pt-1',
    'pt-1 ',
    'a'.repeat(ID_MAX + 1),
    '-x',
    '_x',
    "x' OR 1=1",
    'a/b',
    'a.b',
    'service:ops',
    'pt\u00001',
    'pt\n1',
    'pt\t1',
    'pt\u007f1',
    'pt\u00851',
    'pté',
  ])('refuses %p as BAD_USER_INPUT on the field', (id) => {
    expect(refusal(() => parseId(id, 'slotId'))).toEqual({ code: 'BAD_USER_INPUT', field: 'slotId' });
  });

  it('refuses a value that is not a string', () => {
    expect(refusal(() => parseId(42 as unknown as string, 'requestId'))).toEqual({ code: 'BAD_USER_INPUT', field: 'requestId' });
  });
});

describe('parseIdempotencyKey', () => {
  it('is null when not given', () => {
    expect(parseIdempotencyKey(undefined)).toBeNull();
    expect(parseIdempotencyKey(null)).toBeNull();
  });

  it.each([
    'k',
    ' k ',
    'e2e-refill-1',
    'renewal-decision:0b7f5f7e-3c1e-4a39-9a59-6d1f0f6b1c2d',
    'identity-notice-42',
    'base64+/=~!"#$%&\'()*,.;<>?@[\\]^_`{|}',
    'k'.repeat(IDEMPOTENCY_KEY_MAX),
  ])('accepts %p exactly as given', (key) => expect(parseIdempotencyKey(key)).toBe(key));

  it.each([
    '',
    'k'.repeat(IDEMPOTENCY_KEY_MAX + 1),
    'a\u0000b',
    '\u0000',
    'a\nb',
    'a\rb',
    'a\tb',
    'a\u001bb',
    'a\u007fb',
    'a\u0085b',
    'clé',
    '🔑',
  ])('refuses %p as BAD_USER_INPUT on the field', (key) => {
    expect(refusal(() => parseIdempotencyKey(key))).toEqual({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    expect(refusal(() => parseIdempotencyKey(key, 'input.idempotencyKey'))).toEqual({ code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' });
  });
});
