import fs from 'node:fs';
import { ERROR_CODE_MEANINGS, ErrorCode, isGenericCode } from '@portal/kit';
import { SUBGRAPH_ERROR_REGISTRIES } from '@portal/server';
import { SUBGRAPH_ERROR_CODES } from '@portal/gateway/testing';
import { BEGIN_MARKER, END_MARKER, GATEWAY_CODES_FILE, README_FILE, allErrorCodes, errorCodeList, gatewayCodesModule, withErrorCodeList } from './errorCodes';

describe("README's error-code list", () => {
  it('is the registries’ (run `npm run docs:error-codes` when this fails)', () => {
    const readme = fs.readFileSync(README_FILE, 'utf8');
    expect(readme).toBe(withErrorCodeList(readme));
  });

  it('has a one-line meaning for every code, generic and each subgraph’s', () => {
    for (const code of Object.values(ErrorCode)) {
      expect([code, ERROR_CODE_MEANINGS[code]?.trim().length > 0 && !ERROR_CODE_MEANINGS[code].includes('\n')]).toEqual([code, true]);
    }
    for (const registry of Object.values(SUBGRAPH_ERROR_REGISTRIES)) {
      for (const [code, meaning] of Object.entries(registry?.meanings ?? {})) expect([code, meaning.trim().length > 0 && !meaning.includes('\n')]).toEqual([code, true]);
    }
    expect(errorCodeList().split('\n').filter((line) => line.startsWith('- '))).toHaveLength(allErrorCodes().length);
  });

  it('names each code once, and no subgraph’s code is generic', () => {
    const codes = allErrorCodes();
    expect(new Set(codes).size).toBe(codes.length);
    const own = Object.values(SUBGRAPH_ERROR_REGISTRIES).flatMap((r) => Object.keys(r?.meanings ?? {}));
    expect(own.filter((code) => isGenericCode(code))).toEqual([]);
    // The kit's generic registry knows no subgraph's domain.
    expect(own.length).toBe(17);
  });

  it('replaces only what is between the markers, and refuses a README without them', () => {
    const readme = `# T\n\n## Error codes\n\n${BEGIN_MARKER}\n- \`OLD\`: gone\n${END_MARKER}\n\nafter\n`;
    const updated = withErrorCodeList(readme);
    expect(updated).toBe(`# T\n\n## Error codes\n\n${BEGIN_MARKER}\n${errorCodeList()}\n${END_MARKER}\n\nafter\n`);
    expect(withErrorCodeList(updated)).toBe(updated);
    expect(() => withErrorCodeList('# T\n')).toThrow(/no error-code block/);
  });
});

describe("the gateway's list of subgraph codes", () => {
  it('is generated from the registries (run `npm run docs:error-codes` when this fails)', () => {
    expect(fs.readFileSync(GATEWAY_CODES_FILE, 'utf8')).toBe(gatewayCodesModule());
    for (const [name, registry] of Object.entries(SUBGRAPH_ERROR_REGISTRIES)) {
      expect([name, SUBGRAPH_ERROR_CODES[name]]).toEqual([name, Object.keys(registry?.meanings ?? {})]);
    }
  });
});
