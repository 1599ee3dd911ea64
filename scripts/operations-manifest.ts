/**
 * Writes schema/operations/manifest.json (the contract's operations by sha256,
 * for TRUSTED_DOCUMENTS=1) from schema/operations/*.graphql.
 * `--check` writes nothing and fails when the committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildManifest, MANIFEST_FILE, manifestText } from '@portal/gateway/tooling';

const text = manifestText(buildManifest());
const current = fs.existsSync(MANIFEST_FILE) ? fs.readFileSync(MANIFEST_FILE, 'utf8') : '';
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error(`${path.relative(process.cwd(), MANIFEST_FILE)} is stale: run npm run operations:manifest and commit it.`);
    process.exit(1);
  }
  console.log('operation manifest is up to date');
} else {
  fs.writeFileSync(MANIFEST_FILE, text);
  console.log(`wrote ${path.relative(process.cwd(), MANIFEST_FILE)}`);
}
