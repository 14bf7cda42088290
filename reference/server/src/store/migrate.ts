import { MIGRATIONS, type Migration, SCHEMA_MIGRATIONS_TABLE } from "./migrations.js";
import type { SqlDialect } from "./sql-dialect.js";
import type { SqlExecutor } from "./sql-executor.js";

/**
 * Applies the migrations not yet recorded in `schema_migrations`. The caller
 * runs this inside a transaction that excludes other migrators (SQLite
 * BEGIN IMMEDIATE, PostgreSQL advisory lock), so it is safe when many
 * servers open one database at once. Returns the versions it applied.
 */
export async function applyMigrations(
  exec: SqlExecutor,
  dialect: SqlDialect,
  now: number,
  list: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await exec.exec(SCHEMA_MIGRATIONS_TABLE(dialect));
  const rows = await exec.query("SELECT version FROM schema_migrations");
  const applied = new Set(rows.map((r) => Number(r.version)));
  const known = new Set(list.map((m) => m.version));
  for (const v of applied) {
    if (!known.has(v)) {
      // A newer server migrated this database; running old code on it could corrupt data.
      throw new Error(`database has schema version ${v}, which this code does not know`);
    }
  }
  const done: number[] = [];
  for (const m of list) {
    if (applied.has(m.version)) continue;
    for (const statement of m.statements(dialect)) await exec.exec(statement);
    await exec.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [
      m.version,
      m.name,
      now,
    ]);
    done.push(m.version);
  }
  return done;
}

export async function currentSchemaVersion(exec: SqlExecutor): Promise<number> {
  const rows = await exec.query("SELECT MAX(version) AS v FROM schema_migrations");
  const v = rows[0]?.v;
  return v === null || v === undefined ? 0 : Number(v);
}
