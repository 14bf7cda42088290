import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import { LATEST_SCHEMA_VERSION } from "./migrations.js";
import { openStore } from "./open-store.js";
import { PostgresStore } from "./postgres-store.js";
import { describeScanOnceContract, expectScanRulesAcross } from "./scan-once-contract.js";
import { numberedPlaceholders, postgresDialect } from "./sql-dialect.js";
import type { SqlValue } from "./sql-executor.js";
import { describeStoreContract, expectOneBurnWins } from "./store-contract.js";
import { expectMigratedLedger, seedV1Ledger, type V1Ledger } from "./testing/v1-ledger.js";

const db = await createPostgresTestDb("store tests");
afterAll(() => db?.drop());

describe.skipIf(!db)("PostgreSQL store", () => {
  describeStoreContract("PostgreSQL", async () => ({
    open: () => openStore(db!.url),
    destroy: async () => {},
  }));
  describeScanOnceContract("PostgreSQL", async () => ({
    open: () => openStore(db!.url),
    destroy: async () => {},
  }));

  it("opens by postgres:// URL; concurrent opens migrate once", async () => {
    const stores = await Promise.all([openStore(db!.url), openStore(db!.url), openStore(db!.url)]);
    try {
      expect(stores[0]).toBeInstanceOf(PostgresStore);
      for (const s of stores) expect(await s.schemaVersion()).toBeGreaterThan(0);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("migration 2 keeps every balance of a v1 database", async () => {
    const fresh = await createPostgresTestDb("migration test");
    try {
      const client = new pg.Client({ connectionString: fresh!.url });
      await client.connect();
      let v1: V1Ledger;
      try {
        v1 = await seedV1Ledger(
          {
            query: async (sql, params) =>
              (await client.query(numberedPlaceholders(sql), params as SqlValue[])).rows,
            run: async (sql, params) =>
              (await client.query(numberedPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
            exec: async (sql) => {
              await client.query(sql);
            },
          },
          postgresDialect,
        );
      } finally {
        await client.end();
      }
      const store = await openStore(fresh!.url);
      try {
        expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        await expectMigratedLedger(store, v1);
      } finally {
        await store.close();
      }
    } finally {
      await fresh?.drop();
    }
  });

  it("two pools (two servers) on one database: one burn wins", async () => {
    const a = await openStore(db!.url);
    const b = await openStore(db!.url);
    try {
      await expectOneBurnWins(a, b, 16, "two-servers");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("two pools (two servers) on one database: one Scan per code, one payment per order", async () => {
    const a = await openStore(db!.url);
    const b = await openStore(db!.url);
    try {
      await expectScanRulesAcross(a, b);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
