/**
 * Column builders for the subgraphs' migrations (`new Table({ columns: [...] })`).
 *
 * A migration that has run must build the same columns forever, so these never
 * change what they return: a different column is a new helper, used by a new
 * migration.
 */
import type { TableColumnOptions } from 'typeorm';

/** `varchar(length)`, NOT NULL unless `extra` says `isNullable: true`. */
export const varcharColumn = (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  ...extra,
});

/** `integer`, NOT NULL unless `extra` says `isNullable: true`. */
export const integerColumn = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'integer', ...extra });
