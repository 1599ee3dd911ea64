import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs one parameterised statement on either database. Write `$1`, `$2`...
 * as PostgreSQL does; for SQLite they become `?` with the values in order.
 * Values are always bound, never spliced into the text.
 */
export async function sql<T = Record<string, unknown>>(db: DataSource | EntityManager, text: string, params: unknown[] = []): Promise<T[]> {
  const [statement, bound] = dialect(db, text, params);
  const rows = await db.query(statement, bound);
  return Array.isArray(rows) ? (rows as T[]) : [];
}

/** Runs an INSERT, UPDATE or DELETE and returns how many rows it touched. */
export async function execute(db: DataSource | EntityManager, text: string, params: unknown[] = []): Promise<number> {
  const [statement, bound] = dialect(db, text, params);
  const inTransaction = !('options' in db) ? db.queryRunner : undefined;
  const runner = inTransaction ?? ('options' in db ? db : db.connection).createQueryRunner();
  try {
    const result = await runner.query(statement, bound, true);
    return result.affected ?? 0;
  } finally {
    if (!inTransaction) await runner.release();
  }
}

/** Each statement's SQLite form: the text with `?` and, for each `?` in order, the index of its value. Statements are few (written in the code). */
const SQLITE_FORMS = new Map<string, { statement: string; order: number[] }>();

function dialect(db: DataSource | EntityManager, text: string, params: unknown[]): [string, unknown[]] {
  const type = ('options' in db ? db.options : db.connection.options).type;
  if (type === 'postgres') return [text, params];
  // better-sqlite3 binds anonymous `?` in order, so repeat and reorder the values to match.
  let form = SQLITE_FORMS.get(text);
  if (!form) {
    const order: number[] = [];
    const statement = text.replace(/\$(\d+)/g, (_, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    form = { statement, order };
    if (SQLITE_FORMS.size >= 2_000) SQLITE_FORMS.clear();
    SQLITE_FORMS.set(text, form);
  }
  const bound = form.order.map((i) => {
    const value = params[i];
    return typeof value === 'boolean' ? (value ? 1 : 0) : value;
  });
  return [form.statement, bound];
}

/** `$k, $k+1, ...` placeholders for an IN list starting at parameter k. */
export function placeholders(count: number, start = 1): string {
  return Array.from({ length: count }, (_, i) => `$${start + i}`).join(', ');
}

export const isPostgres = (db: DataSource | EntityManager) =>
  ('options' in db ? db.options : db.connection.options).type === 'postgres';
