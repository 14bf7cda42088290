/** A value bound to a SQL placeholder. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A result row, column name → driver value (bigint/number/string/Buffer/null). */
export type Row = Record<string, unknown>;

/** What the shared SQL code needs from a driver connection inside a transaction. */
export interface SqlExecutor {
  /** A statement that returns rows; `?` placeholders. */
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** A statement that returns no rows; resolves to the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Raw SQL without parameters (DDL, transaction control), not prepared. */
  exec(sql: string): Promise<void>;
}
