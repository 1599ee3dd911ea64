/**
 * Writes README's error-code list (between the error-codes markers in "## Error codes")
 * from the registry, ErrorCode and ERROR_CODE_MEANINGS in subgraphs/kit/src/errors.ts.
 * `--check` writes nothing and fails when the README differs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { README_FILE, withErrorCodeList } from './errorCodes';

const readme = fs.readFileSync(README_FILE, 'utf8');
const updated = withErrorCodeList(readme);
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error(`${path.relative(process.cwd(), README_FILE)}: the error-code list is stale: run npm run docs:error-codes and commit it.`);
    process.exit(1);
  }
  console.log('README error codes are up to date');
} else if (updated !== readme) {
  fs.writeFileSync(README_FILE, updated);
  console.log(`wrote the error-code list of ${path.relative(process.cwd(), README_FILE)}`);
} else {
  console.log('README error codes are up to date');
}
