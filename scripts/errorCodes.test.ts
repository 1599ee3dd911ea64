import fs from 'node:fs';
import { ERROR_CODE_MEANINGS, ErrorCode } from '@portal/kit';
import { BEGIN_MARKER, END_MARKER, README_FILE, errorCodeList, withErrorCodeList } from './errorCodes';

describe("README's error-code list", () => {
  it('is the registry’s (run `npm run docs:error-codes` when this fails)', () => {
    const readme = fs.readFileSync(README_FILE, 'utf8');
    expect(readme).toBe(withErrorCodeList(readme));
  });

  it('has a one-line meaning for every code', () => {
    for (const code of Object.values(ErrorCode)) {
      expect([code, ERROR_CODE_MEANINGS[code]?.trim().length > 0 && !ERROR_CODE_MEANINGS[code].includes('\n')]).toEqual([code, true]);
    }
    expect(errorCodeList().split('\n')).toHaveLength(Object.values(ErrorCode).length);
  });

  it('replaces only what is between the markers, and refuses a README without them', () => {
    const readme = `# T\n\n## Error codes\n\n${BEGIN_MARKER}\n- \`OLD\`: gone\n${END_MARKER}\n\nafter\n`;
    const updated = withErrorCodeList(readme);
    expect(updated).toBe(`# T\n\n## Error codes\n\n${BEGIN_MARKER}\n${errorCodeList()}\n${END_MARKER}\n\nafter\n`);
    expect(withErrorCodeList(updated)).toBe(updated);
    expect(() => withErrorCodeList('# T\n')).toThrow(/no error-code block/);
  });
});
