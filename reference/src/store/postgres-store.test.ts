import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "./open-store.js";
import { PostgresStore } from "./postgres-store.js";
import { describeStoreContract } from "./store-contract.js";
import { createPostgresTestDb } from "./testing/postgres-test-db.js";

const db = await createPostgresTestDb("store tests");
afterAll(() => db?.drop());

describe.skipIf(!db)("PostgreSQL store", () => {
  describeStoreContract("PostgreSQL", async () => ({
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

  it("two pools (two servers) on one database: one burn wins", async () => {
    const a = await openStore(db!.url);
    const b = await openStore(db!.url);
    try {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          (i % 2 ? a : b).transaction((tx) =>
            tx.burn({ usageKey: "two-servers", walletId: "w", paymentId: null, createdAt: 0 }),
          ),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
