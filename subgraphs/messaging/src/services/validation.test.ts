import { checkBody, checkDraftBody, checkDraftSubject, checkSenderName, checkSubject } from './validation';

const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { extensions: { code: string; field?: string } }).extensions;
  }
  return null;
};

describe('checkSubject', () => {
  it('trims, and takes 1 to 120 characters counted as a person counts them', () => {
    expect(checkSubject('  Refill question \n')).toBe('Refill question');
    expect(checkSubject('🩺'.repeat(120))).toHaveLength(240);
    expect(fieldOf(() => checkSubject('🩺'.repeat(121)))).toEqual({ code: 'BAD_USER_INPUT', field: 'subject' });
    expect(fieldOf(() => checkSubject(' \t '))).toEqual({ code: 'BAD_USER_INPUT', field: 'subject' });
  });
});

describe('checkBody', () => {
  it('keeps the body exactly as given, markup and surrounding blanks included', () => {
    const body = '  <b>bold?</b> & "quotes"\n\n';
    expect(checkBody(body)).toBe(body);
    expect(checkBody('x'.repeat(10_000))).toHaveLength(10_000);
  });

  it('refuses an empty or blank body, one over 10,000 characters, and NUL', () => {
    for (const bad of ['', '  \n ', 'x'.repeat(10_001), 'a\u0000b']) expect(fieldOf(() => checkBody(bad))).toEqual({ code: 'BAD_USER_INPUT', field: 'body' });
  });
});

describe('drafts', () => {
  it('may be empty while drafted, never over the limits', () => {
    expect(checkDraftSubject('  ')).toBe('');
    expect(checkDraftBody('')).toBe('');
    expect(fieldOf(() => checkDraftSubject('x'.repeat(121)))).toEqual({ code: 'BAD_USER_INPUT', field: 'subject' });
    expect(fieldOf(() => checkDraftBody('x'.repeat(10_001)))).toEqual({ code: 'BAD_USER_INPUT', field: 'body' });
  });
});

describe('checkSenderName', () => {
  it('falls back to the default sender name and refuses a blank one', () => {
    expect(checkSenderName(null, 'Your care team')).toBe('Your care team');
    expect(checkSenderName(' Pharmacy ', 'Your care team')).toBe('Pharmacy');
    expect(fieldOf(() => checkSenderName(' ', 'Your care team'))).toEqual({ code: 'BAD_USER_INPUT', field: 'senderName' });
  });
});
