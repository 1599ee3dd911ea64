/**
 * Writes README's error-code list (between the error-codes markers in "## Error codes")
 * from the kit's generic codes (subgraphs/kit/src/errors.ts) and each subgraph's
 * registry (subgraphs/<name>/src/errors.ts), and the gateway's list of the codes it
 * passes on (gateway/src/generated/errorCodes.ts). `--check` writes nothing and fails
 * when either differs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GATEWAY_CODES_FILE, README_FILE, gatewayCodesModule, withErrorCodeList } from './errorCodes';

const check = process.argv.includes('--check');
const outputs: { file: string; wanted: (current: string) => string }[] = [
  { file: README_FILE, wanted: withErrorCodeList },
  { file: GATEWAY_CODES_FILE, wanted: () => gatewayCodesModule() },
];
let stale = false;
for (const { file, wanted } of outputs) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const updated = wanted(current);
  const name = path.relative(process.cwd(), file);
  if (updated === current) continue;
  if (check) {
    console.error(`${name}: the error-code list is stale: run npm run docs:error-codes and commit it.`);
    stale = true;
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, updated);
    console.log(`wrote the error-code list of ${name}`);
  }
}
if (stale) process.exit(1);
console.log('error codes are up to date (README and the gateway\'s list)');
