import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SUPERGRAPH_FILE } from './subgraphs';

const SUPERGRAPH_PATH = path.relative(REPO_ROOT, SUPERGRAPH_FILE).split(path.sep).join('/');

/** git's answer, or null when git fails (no git, not a checkout, unknown ref). */
function git(...args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return null;
  }
}

/** The committed schema/supergraph.graphql at a ref, or null when the ref or the file there does not exist. */
export const supergraphAt = (ref: string): string | null => git('show', `${ref}:${SUPERGRAPH_PATH}`);

/**
 * The ref to compare with when none is given: where this branch left main
 * (`git merge-base HEAD origin/main`, else the local `main`), else HEAD.
 */
export function defaultBase(): string | null {
  for (const main of ['origin/main', 'main']) {
    const base = git('merge-base', 'HEAD', main)?.trim();
    if (base) return base;
  }
  return git('rev-parse', '--verify', 'HEAD')?.trim() ?? null;
}

/**
 * The supergraph before its latest change: the committed file at HEAD's parent
 * of the last commit that changed it when the file on disk is HEAD's, or HEAD's
 * when the file on disk is not committed yet. A reason instead when git history
 * cannot say (not a git checkout, a shallow clone, the file's first commit).
 */
export function previousSupergraph(): { ref: string; sdl: string } | { missing: string } {
  if (git('rev-parse', '--is-inside-work-tree')?.trim() !== 'true') return { missing: 'not a git checkout' };
  const head = supergraphAt('HEAD');
  if (head === null) return { missing: `${SUPERGRAPH_PATH} is not committed at HEAD` };
  if (head !== fs.readFileSync(SUPERGRAPH_FILE, 'utf8')) return { ref: 'HEAD', sdl: head };
  const last = git('log', '-n', '1', '--format=%H', '--', SUPERGRAPH_PATH)?.trim();
  if (!last) return { missing: `no commit changed ${SUPERGRAPH_PATH} in the history available` };
  const before = supergraphAt(`${last}^`);
  if (before === null) {
    const shallow = git('rev-parse', '--is-shallow-repository')?.trim() === 'true';
    return { missing: shallow ? 'a shallow clone: fetch with history (fetch-depth: 0)' : `${SUPERGRAPH_PATH} was first added by ${last.slice(0, 7)}` };
  }
  return { ref: `${last.slice(0, 7)}^`, sdl: before };
}
