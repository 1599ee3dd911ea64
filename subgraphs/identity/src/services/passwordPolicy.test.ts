import { passwordProblem, USERNAME } from './passwordPolicy';

describe('passwordProblem', () => {
  it.each([
    ['Short-Pass1', 'The password must be 12 to 128 characters long.'],
    [`Aa1-${'x'.repeat(125)}`, 'The password must be 12 to 128 characters long.'],
    ['alllowercaseletters', 'The password must use at least three of: lower-case letters, upper-case letters, digits, symbols.'],
    ['lowercase-and-symbols', 'The password must use at least three of: lower-case letters, upper-case letters, digits, symbols.'],
    ['My-Jane.Doe-Password1', 'The password must not contain the username.'],
    ['my-JANE.DOE-password1', 'The password must not contain the username.'],
  ])('refuses %j', (password, problem) => {
    expect(passwordProblem(password, 'jane.doe')).toBe(problem);
  });

  it.each(['Correct-Horse-9', 'lower UPPER 12345', 'UPPER-digits-1234', `Aa1-${'x'.repeat(124)}`])('accepts %j', (password) => {
    expect(passwordProblem(password, 'jane.doe')).toBeNull();
  });
});

describe('USERNAME', () => {
  it('takes letters, digits, dots, dashes and underscores only, never a colon', () => {
    expect(['jane.doe', 'j_d-2', 'abc'].every((u) => USERNAME.test(u))).toBe(true);
    expect(['ab', '.jane', 'card:abc', 'jane doe', 'JANE', 'x'.repeat(65)].some((u) => USERNAME.test(u))).toBe(false);
  });
});
