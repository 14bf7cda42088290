import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { applyMigrations } from "./migrate.js";
import { assertMigrationOrder, MIGRATIONS, type Migration } from "./migrations.js";
import { sqliteDialect } from "./sql-dialect.js";
import type { Row, SqlExecutor } from "./sql-executor.js";

/**
 * Issue 9 is built by several branches that each own a migration version
 * (4, 5, 6, 7, 8): whichever merges first leaves a gap, and a database may
 * be migrated to 6 before 4 exists. The runner applies what is missing,
 * whatever its place in the list.
 */
function memoryExecutor(): SqlExecutor {
  const raw = new Database(":memory:");
  raw.defaultSafeIntegers(true);
  return {
    query: async (sql, params) => raw.prepare(sql).all(...(params ?? [])) as Row[],
    run: async (sql, params) => raw.prepare(sql).run(...(params ?? [])).changes,
    exec: async (sql) => {
      raw.exec(sql);
    },
  };
}

const table = (version: number, name: string): Migration => ({
  version,
  name,
  statements: () => [`CREATE TABLE ${name} (id INTEGER)`],
});

describe("migrations with gaps in their versions", () => {
  it("the list is increasing, with migration 6 (api_keys) in it", () => {
    assertMigrationOrder();
    expect(MIGRATIONS.map((m) => m.version)).toContain(6);
  });

  it("applies a lower version added after a higher one was applied", async () => {
    const exec = memoryExecutor();
    const base = MIGRATIONS.filter((m) => m.version <= 3);
    const six = MIGRATIONS.find((m) => m.version === 6)!;
    expect(await applyMigrations(exec, sqliteDialect, 0, [...base, six])).toEqual([
      ...base.map((m) => m.version),
      6,
    ]);
    // Later code knows 4 too: only 4 runs.
    const later = [...base, table(4, "from_four"), six];
    assertMigrationOrder(later);
    expect(await applyMigrations(exec, sqliteDialect, 0, later)).toEqual([4]);
    expect(await applyMigrations(exec, sqliteDialect, 0, later)).toEqual([]);
    // Older code that does not know 6 refuses the database.
    await expect(applyMigrations(exec, sqliteDialect, 0, base)).rejects.toThrow(
      /schema version 4|schema version 6/,
    );
  });
});
