import fs from 'node:fs';
import path from 'node:path';
import { Kind, type DocumentNode, type FieldDefinitionNode, type TypeNode } from 'graphql';
import type { Policy } from './policy';

interface ObjectType {
  fields: Map<string, string>;
  /** Has a resolvable @key: the router can fetch it by reference, straight past any parent field. */
  entity: boolean;
}

const namedType = (t: TypeNode): string => (t.kind === Kind.NAMED_TYPE ? t.name.value : namedType(t.type));

function objectTypes(doc: DocumentNode): Map<string, ObjectType> {
  const types = new Map<string, ObjectType>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = types.get(def.name.value) ?? { fields: new Map(), entity: false };
    for (const f of (def.fields ?? []) as readonly FieldDefinitionNode[]) type.fields.set(f.name.value, namedType(f.type));
    for (const d of def.directives ?? []) {
      if (d.name.value !== 'key') continue;
      const resolvable = d.arguments?.find((a) => a.name.value === 'resolvable');
      if (!(resolvable && resolvable.value.kind === Kind.BOOLEAN && resolvable.value.value === false)) type.entity = true;
    }
    types.set(def.name.value, type);
  }
  return types;
}

/**
 * What a subgraph's policy fails to cover in its SDL, as readable lines (none
 * when it is complete). The rule:
 *
 * - every object type is either a declared health type or reviewed as not one;
 * - every Query and Mutation field has an entry or is a reviewed open field;
 * - every route from an entry point (a root field, or any field of an entity
 *   the router can fetch by reference) to a health type passes a field with an
 *   entry; a health type that is itself an entity needs `Type.__resolveReference`;
 * - every entry and open field names a field (or entity) that exists.
 */
export function policyCoverageProblems(doc: DocumentNode, policy: Policy<string>): string[] {
  const { healthTypes, otherTypes, openFields, entries } = policy.declaration;
  const types = objectTypes(doc);
  const health = new Set(healthTypes);
  // `Mutation.x#part` is a second decision of the same field (e.g. the old and the new appointment of a move).
  const gated = new Set(Object.keys(entries).map((k) => k.split('#')[0]));
  const open = new Set(Object.keys(openFields));
  const problems: string[] = [];

  for (const name of types.keys()) {
    if (name === 'Query' || name === 'Mutation') continue;
    if (!health.has(name) && !(name in otherTypes)) problems.push(`type ${name} is neither a health type nor reviewed as other`);
  }
  for (const name of [...health, ...Object.keys(otherTypes)]) {
    if (!types.has(name)) problems.push(`type ${name} is declared but not in the schema`);
    if (health.has(name) && name in otherTypes) problems.push(`type ${name} is declared both health and other`);
  }
  // A review says why: an empty reason is no review.
  for (const [name, why] of [...Object.entries(otherTypes), ...Object.entries(openFields)]) if (!why.trim()) problems.push(`${name} is reviewed without a reason`);
  for (const key of [...gated, ...open]) {
    const [typeName, field] = key.split('.');
    const type = types.get(typeName);
    const exists = field === '__resolveReference' ? !!type?.entity : !!type?.fields.has(field);
    if (!exists) problems.push(`${key} is in the policy but not in the schema`);
    if (gated.has(key) && open.has(key)) problems.push(`${key} is both an entry and an open field`);
  }

  for (const root of ['Query', 'Mutation']) {
    for (const field of types.get(root)?.fields.keys() ?? []) {
      const key = `${root}.${field}`;
      if (!gated.has(key) && !open.has(key)) problems.push(`${key} has no policy entry and is not a reviewed open field`);
    }
  }

  // Walk from every entry point; a walk stops at a field with an entry (its rule guards what lies below).
  const seen = new Set<string>();
  const walk = (typeName: string, via: string) => {
    if (seen.has(typeName)) return;
    seen.add(typeName);
    const type = types.get(typeName);
    if (!type) return;
    for (const [field, returns] of type.fields) {
      const key = `${typeName}.${field}`;
      if (gated.has(key)) continue;
      if (health.has(returns)) {
        problems.push(`${key} reaches health type ${returns} (from ${via}) with no policy entry on the way`);
        continue;
      }
      walk(returns, via);
    }
  };
  for (const [name, type] of types) {
    if (name === 'Query' || name === 'Mutation') walk(name, name);
    else if (type.entity) {
      if (health.has(name)) {
        if (!gated.has(`${name}.__resolveReference`)) problems.push(`${name} is a health type the router can fetch by reference, with no ${name}.__resolveReference entry`);
      } else walk(name, `a reference to ${name}`);
    }
  }
  return problems;
}

/**
 * Entries no source file under `srcDir` asks for (their key never appears as a
 * quoted string outside the policy and tests): an entry nobody asks decides nothing.
 */
export function unaskedPolicyEntries(policy: Policy<string>, srcDir: string): string[] {
  const sources: string[] = [];
  const read = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) read(p);
      else if (/\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) && e.name !== 'policy.ts') sources.push(fs.readFileSync(p, 'utf8'));
    }
  };
  read(srcDir);
  const all = sources.join('\n');
  return Object.keys(policy.entries).filter((key) => !all.includes(`'${key}'`));
}

/** Everything a subgraph's policy test checks, as readable lines: what the SDL and the policy disagree on, and entries no service asks. */
export function policyProblems(doc: DocumentNode, policy: Policy<string>, srcDir: string): string[] {
  return [...policyCoverageProblems(doc, policy), ...unaskedPolicyEntries(policy, srcDir).map((key) => `${key} is asked by no service`)];
}
