import {
  Kind,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

/** How many schema elements of each kind there are, and how many of them have a description. */
export interface DocCount {
  types: { total: number; described: number };
  fields: { total: number; described: number };
  arguments: { total: number; described: number };
  inputFields: { total: number; described: number };
  enumValues: { total: number; described: number };
}

interface Element {
  kind: keyof DocCount;
  coordinate: string;
  described: boolean;
}

const hasText = (d: string | null | undefined) => typeof d === 'string' && d.trim().length > 0;

/** Every type, field, argument, input field and enum value a client sees, with whether it is described. */
function elementsOfSchema(schema: GraphQLSchema): Element[] {
  const out: Element[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
    out.push({ kind: 'types', coordinate: type.name, described: hasText(type.description) });
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        out.push({ kind: 'fields', coordinate: `${type.name}.${field.name}`, described: hasText(field.description) });
        for (const arg of field.args) {
          out.push({ kind: 'arguments', coordinate: `${type.name}.${field.name}(${arg.name}:)`, described: hasText(arg.description) });
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        out.push({ kind: 'inputFields', coordinate: `${type.name}.${field.name}`, described: hasText(field.description) });
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) {
        out.push({ kind: 'enumValues', coordinate: `${type.name}.${value.name}`, described: hasText(value.description) });
      }
    }
  }
  return out;
}

/**
 * The elements of one subgraph's SDL. Query and Mutation are described once, in
 * identity (their descriptions would otherwise have to agree word for word in all five).
 */
function elementsOfSdl(document: DocumentNode, describesRoots: boolean): Element[] {
  const out: Element[] = [];
  for (const def of document.definitions) {
    switch (def.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.UNION_TYPE_DEFINITION: {
        const name = def.name.value;
        const isRoot = name === 'Query' || name === 'Mutation';
        if (!isRoot || describesRoots) out.push({ kind: 'types', coordinate: name, described: hasText(def.description?.value) });
        if (def.kind === Kind.OBJECT_TYPE_DEFINITION || def.kind === Kind.INTERFACE_TYPE_DEFINITION) {
          for (const field of def.fields ?? []) {
            out.push({ kind: 'fields', coordinate: `${name}.${field.name.value}`, described: hasText(field.description?.value) });
            for (const arg of field.arguments ?? []) {
              out.push({
                kind: 'arguments',
                coordinate: `${name}.${field.name.value}(${arg.name.value}:)`,
                described: hasText(arg.description?.value),
              });
            }
          }
        } else if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
          for (const field of def.fields ?? []) {
            out.push({ kind: 'inputFields', coordinate: `${name}.${field.name.value}`, described: hasText(field.description?.value) });
          }
        } else if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
          for (const value of def.values ?? []) {
            out.push({ kind: 'enumValues', coordinate: `${name}.${value.name.value}`, described: hasText(value.description?.value) });
          }
        }
        break;
      }
      default:
        // `extend schema @link(...)` and type extensions carry no description of their own.
        break;
    }
  }
  return out;
}

function count(elements: Element[]): DocCount {
  const c: DocCount = {
    types: { total: 0, described: 0 },
    fields: { total: 0, described: 0 },
    arguments: { total: 0, described: 0 },
    inputFields: { total: 0, described: 0 },
    enumValues: { total: 0, described: 0 },
  };
  for (const e of elements) {
    c[e.kind].total++;
    if (e.described) c[e.kind].described++;
  }
  return c;
}

/** Schema coordinates (Type, Type.field, Type.field(arg:), Enum.VALUE) a client sees without a description. */
export const undocumentedInSchema = (schema: GraphQLSchema): string[] =>
  [...(hasText(schema.description) ? [] : ['schema']), ...elementsOfSchema(schema).filter((e) => !e.described).map((e) => e.coordinate)];

export const docCountOfSchema = (schema: GraphQLSchema): DocCount => count(elementsOfSchema(schema));

/** Schema coordinates of one subgraph's SDL without a description; `describesRoots` for the subgraph that documents Query and Mutation. */
export const undocumentedInSdl = (document: DocumentNode, describesRoots: boolean): string[] =>
  elementsOfSdl(document, describesRoots)
    .filter((e) => !e.described)
    .map((e) => e.coordinate);

/** Every description in a schema, joined: what a client can read in Sandbox's documentation panel. */
export function allDescriptions(schema: GraphQLSchema): string {
  const texts: string[] = [schema.description ?? ''];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    texts.push(type.description ?? '');
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) texts.push(field.description ?? '', ...field.args.map((a) => a.description ?? ''));
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) texts.push(field.description ?? '');
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) texts.push(value.description ?? '');
    }
  }
  return texts.join('\n');
}
