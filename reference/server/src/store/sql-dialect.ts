/** The differences between the two SQL dialects the stores speak. */
export interface SqlDialect {
  readonly name: "sqlite" | "postgres";
  /** 64-bit integer column type. */
  readonly int: string;
  /** Byte string column type. */
  readonly bytes: string;
  /** Row-lock suffix of a SELECT; SQLite has none (BEGIN IMMEDIATE already holds the write lock). */
  readonly forUpdate: string;
}

export const sqliteDialect: SqlDialect = {
  name: "sqlite",
  int: "INTEGER",
  bytes: "BLOB",
  forUpdate: "",
};

export const postgresDialect: SqlDialect = {
  name: "postgres",
  int: "BIGINT",
  bytes: "BYTEA",
  forUpdate: " FOR UPDATE",
};

/** Rewrites `?` placeholders as `$1, $2, ...` (our SQL never has `?` inside literals). */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
