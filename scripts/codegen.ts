/**
 * Writes the generated types (see gateway/src/codegen.ts): each subgraph's
 * src/generated/graphql.ts, the contract's typed documents in
 * test/src/generated/operations.ts and the FHIR export's in
 * gateway/src/fhir/generated/operations.ts.
 * `--check` writes nothing and fails when a committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generatedFiles, staleFiles } from '@portal/gateway/tooling';

async function main() {
  if (process.argv.includes('--check')) {
    const stale = await staleFiles();
    if (stale.length) {
      console.error(`stale generated files (run npm run codegen and commit them):\n  ${stale.join('\n  ')}`);
      process.exit(1);
    }
    console.log('generated types are up to date');
    return;
  }
  for (const [file, text] of await generatedFiles()) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== text) fs.writeFileSync(file, text);
    console.log(`${current === text ? 'unchanged' : 'wrote'} ${path.relative(process.cwd(), file)}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
