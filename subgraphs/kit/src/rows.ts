import type { DataSource, EntityManager, EntitySchema } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { placeholders, sql } from './sql';

/**
 * Reads of whole entity rows as plain SQL, for hot loaders. TypeORM's
 * `find`/`findBy` build each statement anew through its query builder, which
 * on a PortalView cost a subgraph more CPU than running the statement. Here
 * the select list is built once per entity from TypeORM's own metadata and
 * each value is hydrated by the driver as `find` would (`prepareHydratedValue`:
 * SQLite's 0/1 booleans, dates, JSON), so rows are the same objects `find`
 * returns. Values are always bound, never spliced into the text.
 */
export interface RowFilter<T> {
  /** `column IN (...)`: the batch's keys. An empty list reads nothing. */
  in: [keyof T & string, readonly unknown[]];
  /** `column = value` for each entry. */
  equals?: Partial<Record<keyof T & string, unknown>>;
  /** `column < value` / `column >= value`. */
  compare?: [keyof T & string, '<' | '>=', unknown][];
}

interface Shape {
  table: string;
  select: string;
  columns: ColumnMetadata[];
  byProperty: Map<string, string>;
}

const shapes = new WeakMap<object, Shape>();
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function shapeOf(db: DataSource | EntityManager, entity: EntitySchema<unknown>): Shape {
  const connection = 'options' in db ? db : db.connection;
  const metadata = connection.getMetadata(entity);
  let shape = shapes.get(metadata);
  if (!shape) {
    const columns = metadata.columns.filter((c) => !c.relationMetadata && !c.embeddedMetadata);
    if (columns.length !== metadata.columns.length) throw new Error(`rows: ${metadata.name} has relation or embedded columns; use TypeORM's find`);
    shape = {
      // `schema.table` on PostgreSQL when the data source names a schema.
      table: metadata.tablePath.split('.').map(quote).join('.'),
      select: columns.map((c) => `${quote(c.databaseName)} AS ${quote(c.propertyName)}`).join(', '),
      columns,
      byProperty: new Map(columns.map((c) => [c.propertyName, quote(c.databaseName)])),
    };
    shapes.set(metadata, shape);
  }
  return shape;
}

/** Rows of `entity` matching `filter`, in `order`: one statement, as `find({ where, order })` would run it. */
export async function selectRows<T>(
  db: DataSource | EntityManager,
  entity: EntitySchema<T>,
  filter: RowFilter<T>,
  order: [keyof T & string, 'ASC' | 'DESC'][] = [],
): Promise<T[]> {
  const [key, values] = filter.in;
  if (values.length === 0) return [];
  const shape = shapeOf(db, entity as EntitySchema<unknown>);
  const column = (property: string) => {
    const name = shape.byProperty.get(property);
    if (!name) throw new Error(`rows: no column ${property}`);
    return name;
  };
  const params: unknown[] = [...values];
  const conditions = [`${column(key)} IN (${placeholders(values.length)})`];
  for (const [property, value] of Object.entries(filter.equals ?? {})) {
    params.push(value);
    conditions.push(`${column(property)} = $${params.length}`);
  }
  for (const [property, op, value] of filter.compare ?? []) {
    params.push(value);
    conditions.push(`${column(property)} ${op} $${params.length}`);
  }
  const orderBy = order.length ? ` ORDER BY ${order.map(([p, dir]) => `${column(p)} ${dir === 'DESC' ? 'DESC' : 'ASC'}`).join(', ')}` : '';
  const raw = await sql<Record<string, unknown>>(db, `SELECT ${shape.select} FROM ${shape.table} WHERE ${conditions.join(' AND ')}${orderBy}`, params);
  const driver = ('options' in db ? db : db.connection).driver;
  return raw.map((r) => {
    const row: Record<string, unknown> = {};
    for (const c of shape.columns) row[c.propertyName] = driver.prepareHydratedValue(r[c.propertyName], c);
    return row as T;
  });
}
