/** What is wrong with a new DS Logon password, in words a person can act on; null when it is acceptable. */
export function passwordProblem(password: string, username: string): string | null {
  if (password.length < 12 || password.length > 128) return 'The password must be 12 to 128 characters long.';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) return 'The password must use at least three of: lower-case letters, upper-case letters, digits, symbols.';
  if (username && password.toLowerCase().includes(username.toLowerCase())) return 'The password must not contain the username.';
  return null;
}

/** 3 to 64 characters: letters, digits, dots, dashes, underscores, starting with a letter or digit. */
export const USERNAME = /^[a-z0-9][a-z0-9._-]{2,63}$/;
