import { randomBytes } from "node:crypto";
import pg from "pg";

/** Where tests find PostgreSQL unless `PAYCODE_TEST_PG_URL` says otherwise. */
export const DEFAULT_TEST_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** A throwaway database created for one test file. */
export interface PostgresTestDb {
  /** Connection URL of the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database (terminating leftover connections). Safe to call twice. */
  drop(): Promise<void>;
}

function adminUrl(): string {
  return process.env.PAYCODE_TEST_PG_URL || DEFAULT_TEST_PG_URL;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Creates `paycode_test_<random>` on the test server. When the server cannot
 * be reached: under CI (`process.env.CI` set) this throws, so the suite fails
 * loudly; on a developer machine it prints why and resolves to `undefined`,
 * and the caller skips its PostgreSQL tests:
 *
 * ```ts
 * const db = await createPostgresTestDb("issuer");
 * afterAll(() => db?.drop());
 * describe.skipIf(!db)("issuer on PostgreSQL", () => { ... db!.url ... });
 * ```
 */
export async function createPostgresTestDb(label = "tests"): Promise<PostgresTestDb | undefined> {
  const base = adminUrl();
  const admin = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (e) {
    const why = `PostgreSQL not reachable at ${redact(base)} (${(e as Error).message})`;
    await admin.end().catch(() => {});
    if (process.env.CI) {
      throw new Error(
        `${why}; CI is set, so the PostgreSQL ${label} must run. Start PostgreSQL or set PAYCODE_TEST_PG_URL.`,
      );
    }
    console.warn(
      `\n[skip] PostgreSQL ${label} skipped: ${why}. Set PAYCODE_TEST_PG_URL or start PostgreSQL on 127.0.0.1:5432 (user postgres) to run them.\n`,
    );
    return undefined;
  }
  const name = `paycode_test_${randomBytes(6).toString("hex")}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  let dropped = false;
  return {
    name,
    url: withDatabase(base, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}
