import { withoutSuggestions } from './schemaPrivacy';

describe('withoutSuggestions', () => {
  it('drops every "Did you mean" hint, call after call, and leaves other messages alone', () => {
    const field = { message: 'Cannot query field "supportContact" on type "Query". Did you mean "supportContacts"?', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
    for (let i = 0; i < 3; i++) expect(withoutSuggestions(field)).toEqual({ ...field, message: 'Cannot query field "supportContact" on type "Query".' });
    expect(withoutSuggestions({ message: 'Value "ACTIV" does not exist in "PrescriptionStatus" enum. Did you mean the enum value "ACTIVE"?' }).message).toBe(
      'Value "ACTIV" does not exist in "PrescriptionStatus" enum.',
    );
    expect(withoutSuggestions({ message: 'Sign in to see this.' }).message).toBe('Sign in to see this.');
  });
});
