import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openStore } from "./open-store.js";
import { SqliteStore } from "./sqlite-store.js";
import { describeStoreContract } from "./store-contract.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "paycode-store-"));
}

describeStoreContract("SQLite file", async () => {
  const dir = tempDir();
  const file = join(dir, "paycode.db");
  return {
    open: () => openStore(`sqlite:${file}`),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe("SQLite store specifics", () => {
  it("opens WAL with synchronous=FULL, by sqlite: URL or bare path", async () => {
    const dir = tempDir();
    try {
      const store = await openStore(join(dir, "a.db"));
      expect(store).toBeInstanceOf(SqliteStore);
      await store.close();
      const db = (await import("better-sqlite3")).default(join(dir, "a.db"));
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      db.close();
      const s2 = await openStore(`sqlite:${join(dir, "a.db")}`);
      await s2.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two store instances on one file (two processes' view): one burn wins", async () => {
    const dir = tempDir();
    const file = join(dir, "shared.db");
    const a = await openStore(file);
    const b = await openStore(file);
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).transaction((tx) =>
            tx.burn({ usageKey: "k", walletId: "w", paymentId: null, createdAt: 0 }),
          ),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses transactions after close", async () => {
    const store = await openStore("sqlite::memory:");
    await store.close();
    await expect(store.transaction(async () => 1)).rejects.toThrow(/closed/);
  });
});
