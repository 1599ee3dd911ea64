/**
 * Fails when the supergraph the subgraphs compose to now breaks clients of the one
 * committed at a base ref, unless schema/breaking-changes.json lists each breaking
 * change as deliberate. `--base <ref>`; by default where this branch left main.
 */
import path from 'node:path';
import { composeSupergraph, DELIBERATE_CHANGES_FILE, compareSdl, readDeliberateChanges, defaultBase, supergraphAt } from '@portal/gateway/tooling';

const flag = process.argv.indexOf('--base');
const base = flag >= 0 ? process.argv[flag + 1] : defaultBase();
if (!base) {
  console.error('No base to compare with: not a git checkout? Pass --base <ref>.');
  process.exit(2);
}
const before = supergraphAt(base);
if (before === null) {
  console.error(`schema/supergraph.graphql does not exist at ${base}: nothing to compare with.`);
  process.exit(flag >= 0 ? 2 : 0);
}

const allowList = path.relative(process.cwd(), DELIBERATE_CHANGES_FILE);
const evolution = compareSdl(before, composeSupergraph(), readDeliberateChanges());
const list = (title: string, changes: { type: string; description: string }[]) => {
  if (changes.length) console.log(`${title}:\n${changes.map((c) => `  ${c.type}: ${c.description}`).join('\n')}`);
};
console.log(`Compared with schema/supergraph.graphql at ${base}.`);
list('Deliberate breaking changes (listed in ' + allowList + ')', evolution.approved);
list('Output fields made nullable (not breaking; clients must handle null)', evolution.nullable);
list('Dangerous changes (not failing; check clients)', evolution.dangerous);
if (evolution.unapproved.length) {
  list('BREAKING changes', evolution.unapproved);
  console.error(
    `\n${evolution.unapproved.length} breaking change(s). Keep the old shape (deprecate, add beside it), or, when ` +
      `breaking clients is deliberate, add each as {"type", "description", "reason"} to ${allowList}.`,
  );
  process.exit(1);
}
console.log('No unapproved breaking change.');
