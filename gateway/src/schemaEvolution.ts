import fs from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  findBreakingChanges,
  findDangerousChanges,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { apiSchemaOf } from './compose';
import { REPO_ROOT } from './subgraphs';

/** A change between two schemas, as graphql-js's findBreakingChanges / findDangerousChanges name it. */
export interface SchemaChange {
  type: string;
  description: string;
}

/** A breaking change the team made on purpose: committed in schema/breaking-changes.json with why. */
export interface DeliberateChange extends SchemaChange {
  reason: string;
}

export interface Evolution {
  /** Breaking changes not listed as deliberate: the check fails on these. */
  unapproved: SchemaChange[];
  /** Breaking changes listed as deliberate. */
  approved: DeliberateChange[];
  /** Output fields that became nullable: every operation still validates, but clients must handle null. */
  nullable: SchemaChange[];
  /** graphql-js's dangerous changes (an enum value or optional argument added, a default changed): reported, never failing. */
  dangerous: SchemaChange[];
}

export const DELIBERATE_CHANGES_FILE = path.join(REPO_ROOT, 'schema', 'breaking-changes.json');

/** The client-facing schema of a supergraph's SDL, or of a plain SDL (for tests). */
export function schemaOf(sdl: string): GraphQLSchema {
  return /specs\.apollo\.dev\/join\//.test(sdl) ? apiSchemaOf(sdl) : buildSchema(sdl);
}

/**
 * Compares the schema clients used with the new one. graphql-js calls an output field
 * made nullable (`T!` to `T`) breaking; here it is reported apart and does not fail:
 * every operation still validates and runs, and the portal makes a field of another
 * subgraph nullable on purpose so an outage costs only that field (README, "Partial answers").
 */
export function compareSchemas(oldSchema: GraphQLSchema, newSchema: GraphQLSchema, deliberate: readonly DeliberateChange[]): Evolution {
  const relaxed = new Set(outputFieldsMadeNullable(oldSchema, newSchema));
  const evolution: Evolution = { unapproved: [], approved: [], nullable: [], dangerous: findDangerousChanges(oldSchema, newSchema).map(plain) };
  for (const change of findBreakingChanges(oldSchema, newSchema).map(plain)) {
    if (change.type === 'FIELD_CHANGED_KIND' && relaxed.has(change.description)) {
      evolution.nullable.push(change);
      continue;
    }
    const entry = deliberate.find((d) => d.type === change.type && d.description === change.description);
    if (entry) evolution.approved.push(entry);
    else evolution.unapproved.push(change);
  }
  return evolution;
}

/** compareSchemas on two SDLs (supergraphs or plain schemas). */
export const compareSdl = (oldSdl: string, newSdl: string, deliberate: readonly DeliberateChange[]): Evolution =>
  compareSchemas(schemaOf(oldSdl), schemaOf(newSdl), deliberate);

/** Reads and checks schema/breaking-changes.json: a list of {type, description, reason}, each with a reason. */
export function parseDeliberateChanges(json: string, file = DELIBERATE_CHANGES_FILE): DeliberateChange[] {
  const list: unknown = JSON.parse(json);
  if (!Array.isArray(list)) throw new Error(`${file}: expected a JSON array of {type, description, reason}.`);
  return list.map((entry, i) => {
    const e = entry as Partial<DeliberateChange>;
    for (const key of ['type', 'description', 'reason'] as const) {
      if (typeof e?.[key] !== 'string' || !e[key]!.trim()) throw new Error(`${file}: entry ${i} needs a non-empty "${key}".`);
    }
    return { type: e.type!, description: e.description!, reason: e.reason! };
  });
}

export function readDeliberateChanges(file = DELIBERATE_CHANGES_FILE): DeliberateChange[] {
  return fs.existsSync(file) ? parseDeliberateChanges(fs.readFileSync(file, 'utf8'), file) : [];
}

const plain = (c: SchemaChange): SchemaChange => ({ type: c.type, description: c.description });

/** findBreakingChanges' descriptions of the output fields whose new type only drops non-null wrappers of the old one. */
function outputFieldsMadeNullable(oldSchema: GraphQLSchema, newSchema: GraphQLSchema): string[] {
  const out: string[] = [];
  for (const oldType of Object.values(oldSchema.getTypeMap())) {
    if (!isObjectType(oldType) && !isInterfaceType(oldType)) continue;
    const newType = newSchema.getType(oldType.name);
    if (!newType || (!isObjectType(newType) && !isInterfaceType(newType))) continue;
    const newFields = newType.getFields();
    for (const field of Object.values(oldType.getFields())) {
      const after = newFields[field.name];
      if (after && String(after.type) !== String(field.type) && onlyNullabilityRelaxed(field.type, after.type)) {
        // The wording of graphql-js 16's FIELD_CHANGED_KIND.
        out.push(`${oldType.name}.${field.name} changed type from ${String(field.type)} to ${String(after.type)}.`);
      }
    }
  }
  return out;
}

function onlyNullabilityRelaxed(before: GraphQLOutputType, after: GraphQLOutputType): boolean {
  if (isNonNullType(before)) return onlyNullabilityRelaxed(before.ofType, isNonNullType(after) ? after.ofType : after);
  if (isNonNullType(after)) return false;
  if (isListType(before)) return isListType(after) && onlyNullabilityRelaxed(before.ofType, after.ofType);
  return !isListType(after) && before.name === after.name;
}
