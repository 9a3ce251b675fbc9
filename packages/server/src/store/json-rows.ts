import { type RawBuilder, sql } from 'kysely';
import type { StoreDialect } from './database.js';

/** SQL types a JSON row column is read as. */
export type JsonColumnType = 'bigint' | 'integer' | 'text';

/** A relation's columns by name, in order. Names must be plain SQL identifiers (they are spliced into the text). */
export type JsonColumns = Readonly<Record<string, JsonColumnType>>;

/**
 * A batch of rows passed as ONE JSON parameter and read back as a relation (`json_to_recordset` on PostgreSQL,
 * `json_each` on SQLite), for the ingest path's per-batch statements: the statement text is the same whatever the
 * batch size, so SQLite reuses its prepared statement, and no query-builder tree of thousands of parameter nodes is
 * built per batch (Kysely building and compiling those was ~14 % of the server's CPU, bench/ingest.ts). Use as
 * `FROM ${jsonRows(…)}` or `JOIN ${jsonRows(…)} ON …`. A missing or null property reads as NULL.
 */
export function jsonRows<Row extends Record<string, unknown>>(
  dialect: StoreDialect,
  rows: readonly Row[],
  columns: JsonColumns,
  alias: string,
): RawBuilder<Row> {
  const names = Object.keys(columns);
  for (const name of [...names, alias]) {
    if (!IDENTIFIER.test(name)) throw new Error(`jsonRows: "${name}" is not a plain SQL identifier`);
  }
  if (dialect === 'postgres') {
    const definition = names.map((name) => `${name} ${columns[name]}`).join(', ');
    // json, not jsonb: read once, the text is not worth converting (0.9 ms against 1.8 ms of PostgreSQL's CPU for
    // 300 rows of 18 columns, PostgreSQL 15).
    return sql<Row>`json_to_recordset(CAST(${JSON.stringify(rows)} AS json)) AS ${sql.raw(`${alias}(${definition})`)}`;
  }
  // Each row as an array in column order, read by position: SQLite finds a value by key at twice the cost (3.0 ms
  // against 1.5 ms for 300 rows of 18 columns, SQLite 3.53), and building the arrays costs no more than writing the
  // keys. A missing property is `undefined`, which JSON writes as null in an array.
  const json = JSON.stringify(rows.map((row) => names.map((name) => row[name])));
  // `->>` yields SQL values (JSON numbers as integer or real, strings as text, null as NULL); SQLite ≥ 3.38.
  const select = names.map((name, i) => `value ->> ${i} AS ${name}`).join(', ');
  return sql<Row>`(SELECT ${sql.raw(select)} FROM json_each(${json})) AS ${sql.raw(alias)}`;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
