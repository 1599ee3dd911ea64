/**
 * Writes schema/supergraph.graphql from the subgraphs' SDL.
 * `--check` writes nothing and fails when the committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { composeSupergraph, SUPERGRAPH_FILE } from '@portal/gateway/tooling';

const sdl = composeSupergraph();
const current = fs.existsSync(SUPERGRAPH_FILE) ? fs.readFileSync(SUPERGRAPH_FILE, 'utf8') : '';
if (process.argv.includes('--check')) {
  if (current !== sdl) {
    console.error(`${path.relative(process.cwd(), SUPERGRAPH_FILE)} is stale: run npm run compose and commit it.`);
    process.exit(1);
  }
  console.log('supergraph is up to date');
} else {
  fs.writeFileSync(SUPERGRAPH_FILE, sdl);
  console.log(`wrote ${path.relative(process.cwd(), SUPERGRAPH_FILE)}`);
}
