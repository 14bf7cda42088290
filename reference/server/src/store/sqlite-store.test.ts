import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { applyMigrations } from "./migrate.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations.js";
import { openStore } from "./open-store.js";
import { describeScanOnceContract } from "./scan-once-contract.js";
import { sqliteDialect } from "./sql-dialect.js";
import type { Row } from "./sql-executor.js";
import { SqliteStore } from "./sqlite-store.js";
import { TransactionRetry } from "./store.js";
import { describeStoreContract, expectOneBurnWins } from "./store-contract.js";
import { expectMigratedLedger, seedV1Ledger } from "./testing/v1-ledger.js";

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

describeScanOnceContract("SQLite file", async () => {
  const dir = tempDir();
  const file = join(dir, "paycode.db");
  return {
    open: () => openStore(`sqlite:${file}`),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe("SQLite store specifics", () => {
  it("opens a WAL-mode file, by sqlite: URL or bare path", async () => {
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
      await expectOneBurnWins(a, b, 10, "k");
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("group commit: concurrent transactions share one commit, and nothing shows before it", async () => {
    const dir = tempDir();
    const file = join(dir, "group.db");
    const store = await openStore(file);
    // Another connection sees only what has been committed.
    const reader = new Database(file, { readonly: true });
    const committed = () =>
      Number(
        reader
          .prepare<[], { n: number }>(
            "SELECT COUNT(*) AS n FROM used_codes WHERE wallet_id = 'group'",
          )
          .get()!.n,
      );
    try {
      const seenInside: number[] = [];
      const all = Array.from({ length: 10 }, (_, i) =>
        store.transaction(async (tx) => {
          await tx.burn({ usageKey: `g${i}`, walletId: "group", paymentId: null, createdAt: 0 });
          seenInside.push(committed());
          return i;
        }),
      );
      expect(await Promise.all(all)).toEqual([...Array(10).keys()]);
      // All ten ran in one SQLite transaction: none was committed while the group ran.
      expect(seenInside).toEqual(Array(10).fill(0));
      expect(committed()).toBe(10);

      // At concurrency 1 each transaction commits on its own before it resolves.
      for (let i = 10; i < 13; i++) {
        await store.transaction((tx) =>
          tx.burn({ usageKey: `g${i}`, walletId: "group", paymentId: null, createdAt: 0 }),
        );
        expect(committed()).toBe(i + 1);
      }
    } finally {
      reader.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("group commit: when the COMMIT fails, every member rejects and nothing is kept", async () => {
    const store = (await openStore("sqlite::memory:")) as SqliteStore;
    const db = (store as unknown as { db: Database.Database }).db;
    try {
      const burn = (key: string) =>
        store.transaction((tx) =>
          tx.burn({ usageKey: key, walletId: "w", paymentId: null, createdAt: 0 }),
        );
      const members = [
        burn("a"),
        store.transaction(async (tx) => {
          // A deferred foreign-key violation is only detected by COMMIT.
          db.pragma("defer_foreign_keys = ON");
          await tx.insertRefund({
            id: "r",
            paymentId: "no-such-payment",
            merchantId: "m",
            outRefundNo: null,
            amount: 1n,
            currency: "CNY",
            reason: "",
            createdAt: 0,
          });
        }),
        burn("b"),
        store.transaction(async () => {
          throw new Error("own failure");
        }),
      ];
      const outcomes = await Promise.allSettled(members);
      expect(outcomes.map((o) => o.status)).toEqual([
        "rejected",
        "rejected",
        "rejected",
        "rejected",
      ]);
      expect((outcomes[0] as PromiseRejectedResult).reason.code).toBe(
        "SQLITE_CONSTRAINT_FOREIGNKEY",
      );
      expect((outcomes[3] as PromiseRejectedResult).reason.message).toBe("own failure");
      await store.transaction(async (tx) => {
        expect(await tx.isBurned("a")).toBe(false);
        expect(await tx.isBurned("b")).toBe(false);
      });
      // The store keeps working.
      expect(await burn("a")).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("group commit: a TransactionRetry re-runs in a later transaction, after the group commits", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      let runs = 0;
      const order: string[] = [];
      const burn = (key: string) =>
        store.transaction(async (tx) => {
          order.push(key);
          return tx.burn({ usageKey: key, walletId: "w", paymentId: null, createdAt: 0 });
        });
      const results = await Promise.all([
        burn("early"),
        store.transaction(async (tx) => {
          runs++;
          order.push(`retrying run ${runs}`);
          if (runs === 1) throw new TransactionRetry("again");
          return tx.isBurned("late");
        }),
        burn("late"),
      ]);
      expect(order).toEqual(["early", "retrying run 1", "late", "retrying run 2"]);
      expect(results).toEqual([true, true, true]);
    } finally {
      await store.close();
    }
  });

  it("group commit: when the first member throws, the others still commit", async () => {
    const store = await openStore("sqlite::memory:");
    try {
      const burn = (key: string) =>
        store.transaction((tx) =>
          tx.burn({ usageKey: key, walletId: "w", paymentId: null, createdAt: 0 }),
        );
      const outcomes = await Promise.allSettled([
        store.transaction(async (tx) => {
          await tx.burn({ usageKey: "first", walletId: "w", paymentId: null, createdAt: 0 });
          throw new Error("first fails");
        }),
        burn("x"),
        burn("y"),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled", "fulfilled"]);
      await store.transaction(async (tx) => {
        expect(await tx.isBurned("first")).toBe(false);
        expect(await tx.isBurned("x")).toBe(true);
        expect(await tx.isBurned("y")).toBe(true);
      });
    } finally {
      await store.close();
    }
  });

  it("migration 2 keeps every balance of a v1 database", async () => {
    const dir = tempDir();
    const file = join(dir, "v1.db");
    try {
      const raw = new Database(file);
      raw.pragma("synchronous = OFF");
      raw.defaultSafeIntegers(true);
      const v1 = await seedV1Ledger(
        {
          query: async (sql, params) => raw.prepare(sql).all(...(params ?? [])) as Row[],
          run: async (sql, params) => raw.prepare(sql).run(...(params ?? [])).changes,
          exec: async (sql) => {
            raw.exec(sql);
          },
        },
        sqliteDialect,
      );
      raw.close();
      const store = await openStore(file);
      try {
        expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        await expectMigratedLedger(store, v1);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("migration 8 takes the terminals of earlier settlements from offline_settlements", async () => {
    const dir = tempDir();
    const file = join(dir, "v3.db");
    try {
      const raw = new Database(file);
      raw.defaultSafeIntegers(true);
      const exec = {
        query: async (sql: string, params?: readonly unknown[]) =>
          raw.prepare(sql).all(...((params ?? []) as unknown[])) as Row[],
        run: async (sql: string, params?: readonly unknown[]) =>
          raw.prepare(sql).run(...((params ?? []) as unknown[])).changes,
        exec: async (sql: string) => {
          raw.exec(sql);
        },
      };
      await applyMigrations(
        exec,
        sqliteDialect,
        0,
        MIGRATIONS.filter((m) => m.version < 8),
      );
      raw
        .prepare(
          `INSERT INTO offline_settlements (wallet_id, counter, payment_id, terminal_id, merchant_id,
             record_id, amount, currency, accepted_at, settled_at)
           VALUES ('w', '18446744073709551615', 'p', 't1', 'm', 'r', 700, 'CNY', 1, 2)`,
        )
        .run();
      raw.close();
      const store = await openStore(file);
      try {
        await store.transaction(async (tx) => {
          // The same terminal presenting that code again is a duplicate; another one is not.
          expect(await tx.recordOfflineUse("w", 2n ** 64n - 1n, "t1", 3)).toBe(false);
          expect(await tx.recordOfflineUse("w", 2n ** 64n - 1n, "t2", 3)).toBe(true);
          expect(await tx.offlineSettledTotals("w")).toEqual({ payer: 700n, issuer: 0n });
        });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("off-loop flush: nobody is answered before the WAL flush that follows their COMMIT", async () => {
    const dir = tempDir();
    const file = join(dir, "flush.db");
    const flushes: { fd: number; release: () => void }[] = [];
    let holding = false;
    const store = await SqliteStore.open(file, {
      syncWal: (fd) =>
        holding ? new Promise<void>((release) => flushes.push({ fd, release })) : Promise.resolve(),
    });
    const reader = new Database(file, { readonly: true });
    const committed = () =>
      Number(
        reader
          .prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM used_codes WHERE wallet_id = 'f'")
          .get()!.n,
      );
    try {
      holding = true;
      let answered = 0;
      const burn = (key: string) =>
        store
          .transaction((tx) =>
            tx.burn({ usageKey: key, walletId: "f", paymentId: null, createdAt: 0 }),
          )
          .then((v) => {
            answered++;
            return v;
          });
      const first = burn("a");
      await new Promise((r) => setTimeout(r, 20));
      // Committed (another connection sees it) and being flushed, but not answered.
      expect(committed()).toBe(1);
      expect(flushes).toHaveLength(1);
      expect(answered).toBe(0);
      // The next group commits while the flush runs; it waits for a flush of its own.
      const second = burn("b");
      await new Promise((r) => setTimeout(r, 20));
      expect(committed()).toBe(2);
      expect(answered).toBe(0);
      flushes[0]!.release();
      expect(await first).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(answered).toBe(1);
      expect(flushes).toHaveLength(2);
      flushes[1]!.release();
      expect(await second).toBe(true);
      // The flushed descriptor is the WAL file's.
      expect(flushes[0]!.fd).toBeGreaterThan(2);
    } finally {
      holding = false;
      for (const f of flushes) f.release();
      reader.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("off-loop flush: a Scan's seed lookup is answered before the flush it waits behind, a read after it", async () => {
    const dir = tempDir();
    const file = join(dir, "seed.db");
    const flushes: (() => void)[] = [];
    let holding = false;
    const store = await SqliteStore.open(file, {
      syncWal: () =>
        holding ? new Promise<void>((release) => flushes.push(release)) : Promise.resolve(),
    });
    try {
      await store.transaction(async (tx) => {
        await tx.insertAccount({
          id: "acc_s",
          kind: "payer",
          currency: "CNY",
          passwordHash: null,
          limits: null,
          createdAt: 0,
        });
        await tx.insertWallet({
          id: "w_s",
          accountId: "acc_s",
          handle: 77,
          tokenHash: new Uint8Array(32).fill(7),
          seedEnvelope: new Uint8Array([1, 2, 3]),
          publicKey: new Uint8Array(32),
          certificate: new Uint8Array([2]),
          certNotAfter: 1,
          deviceLabel: "phone",
          createdAt: 0,
          revokedAt: null,
          revokeReason: null,
        });
      });
      holding = true;
      const write = store.transaction((tx) =>
        tx.burn({ usageKey: "k", walletId: "w_s", paymentId: null, createdAt: 0 }),
      );
      await new Promise((r) => setTimeout(r, 20));
      expect(flushes).toHaveLength(1);
      // Held flush: the lookup answers anyway, a read (which may answer a client) does not.
      expect(await store.walletSeed(77)).toEqual({
        id: "w_s",
        seedEnvelope: new Uint8Array([1, 2, 3]),
      });
      let readAnswered = false;
      const read = store
        .read((tx) => tx.getWalletByHandle(77))
        .then((v) => {
          readAnswered = true;
          return v;
        });
      await new Promise((r) => setTimeout(r, 20));
      expect(readAnswered).toBe(false);
      flushes[0]!();
      expect((await read)?.id).toBe("w_s");
      expect(await write).toBe(true);
    } finally {
      holding = false;
      for (const release of flushes) release();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("off-loop flush: a failed flush rejects its members and the store refuses further work", async () => {
    const dir = tempDir();
    const file = join(dir, "eio.db");
    let fail = false;
    const store = await SqliteStore.open(file, {
      syncWal: async () => {
        if (fail) throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
      },
    });
    try {
      const burn = (key: string) =>
        store.transaction((tx) =>
          tx.burn({ usageKey: key, walletId: "w", paymentId: null, createdAt: 0 }),
        );
      expect(await burn("ok")).toBe(true);
      fail = true;
      const outcomes = await Promise.allSettled([burn("x"), burn("y")]);
      expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
      expect((outcomes[0] as PromiseRejectedResult).reason.code).toBe("EIO");
      fail = false;
      await expect(burn("z")).rejects.toThrow(/EIO/);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("worker checkpoints: under steady writes the WAL starts over, and every commit is kept", async () => {
    const dir = tempDir();
    const file = join(dir, "ckpt.db");
    const restartWalAtFrames = 40;
    const store = await SqliteStore.open(file, { checkpointEveryCommits: 4, restartWalAtFrames });
    try {
      const burn = (i: number) =>
        store.transaction((tx) =>
          tx.burn({ usageKey: `c${i}`, walletId: "c", paymentId: null, createdAt: 0 }),
        );
      // Eight in flight at all times: the queue never drains, so the WAL
      // starts over only because the store makes room for it.
      let next = 0;
      const lane = async () => {
        while (next < 3000) await burn(next++);
      };
      await Promise.all(Array.from({ length: 8 }, lane));
      // A restart only when the checkpointer happens to catch up leaves several times more.
      const frames = statSync(`${file}-wal`).size / (4096 + 24);
      expect(frames).toBeLessThan(5 * restartWalAtFrames);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      expect(
        db.prepare("SELECT COUNT(*) AS n FROM used_codes WHERE wallet_id = 'c'").get(),
      ).toEqual({ n: 3000 });
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses transactions after close", async () => {
    const store = await openStore("sqlite::memory:");
    await store.close();
    await expect(store.transaction(async () => 1)).rejects.toThrow(/closed/);
  });
});
