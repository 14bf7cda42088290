import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATEST_SCHEMA_VERSION } from "./migrations.js";
import type { LimitsRecord, PaymentRecord, TransferRecord, WalletRecord } from "./records.js";
import { type Store, TransactionRetry, type Tx } from "./store.js";

/** How the contract suite gets stores: `open` may be called more than once on one database. */
export interface StoreHarness {
  open(): Promise<Store>;
  destroy(): Promise<void>;
}

/**
 * Opens one store from `makeHarness` before the enclosing suite and closes
 * it (and the database) after; the getters read them inside tests.
 */
export function useHarnessStore(makeHarness: () => Promise<StoreHarness | undefined>): {
  readonly harness: StoreHarness;
  readonly store: Store;
} {
  let harness: StoreHarness | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    harness = await makeHarness();
    if (!harness) throw new Error("no harness");
    store = await harness.open();
  });
  afterAll(async () => {
    await store?.close();
    await harness?.destroy();
  });
  return {
    get harness() {
      if (!harness) throw new Error("harness used outside the suite");
      return harness;
    },
    get store() {
      if (!store) throw new Error("store used outside the suite");
      return store;
    },
  };
}

const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);

let seq = 0;
const id = (prefix: string) => `${prefix}_${randomBytes(6).toString("hex")}_${++seq}`;
/** A currency no other test uses, so per-currency ledger totals stay isolated. */
function freshCurrency(): string {
  const a = randomBytes(3);
  return String.fromCharCode(65 + (a[0]! % 26), 65 + (a[1]! % 26), 65 + (a[2]! % 26));
}
const hash = () => new Uint8Array(randomBytes(32));

const LIMITS: LimitsRecord = {
  perPaymentPasswordFree: 100_000n,
  dailyPasswordFreeAmount: 500_000n,
  dailyPasswordFreeCount: 10,
  perPaymentOffline: 5_000n,
  cumulativeOffline: 20_000n,
};

async function newAccount(
  tx: Tx,
  currency: string,
  kind: "payer" | "merchant" | "issuer" = "payer",
) {
  const accountId = id("acc");
  await tx.insertAccount({
    id: accountId,
    kind,
    currency,
    passwordHash: kind === "payer" ? "scrypt$x" : null,
    limits: kind === "payer" ? LIMITS : null,
    createdAt: T0,
  });
  return accountId;
}

function transfer(from: string, to: string, amount: bigint, currency: string): TransferRecord {
  return {
    id: id("tr"),
    debitAccountId: from,
    creditAccountId: to,
    amount,
    currency,
    kind: "funding",
    paymentId: null,
    refundId: null,
    createdAt: T0,
  };
}

async function newMerchant(tx: Tx, currency: string) {
  const accountId = await newAccount(tx, currency, "merchant");
  const merchantId = id("mer");
  await tx.insertMerchant({
    id: merchantId,
    name: "M",
    accountId,
    apiKeyHash: hash(),
    createdAt: T0,
  });
  return { merchantId, accountId };
}

function wallet(accountId: string, over: Partial<WalletRecord> = {}): WalletRecord {
  return {
    id: id("wal"),
    accountId,
    handle: Math.floor(Math.random() * 2 ** 28),
    tokenHash: hash(),
    seedEnvelope: new Uint8Array([1, 2, 3]),
    publicKey: new Uint8Array(32).fill(7),
    certificate: new Uint8Array([9, 9]),
    certNotAfter: T0 + 30 * 86_400_000,
    deviceLabel: "phone",
    createdAt: T0,
    revokedAt: null,
    revokeReason: null,
    ...over,
  };
}

function payment(
  merchantId: string,
  currency: string,
  over: Partial<PaymentRecord> = {},
): PaymentRecord {
  return {
    id: id("pay"),
    merchantId,
    outTradeNo: id("order"),
    amount: 1000n,
    currency,
    status: "SUCCEEDED",
    declineReason: null,
    codeKind: "ONLINE",
    codeDigest: hash(),
    subject: "coffee",
    walletId: null,
    payerAccountId: null,
    passwordFree: true,
    refundedAmount: 0n,
    confirmDeadline: null,
    source: "scan",
    terminalId: null,
    recordId: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

/**
 * Two stores on one database (two servers' view) race `attempts` burns of one
 * usage key, alternating between them: exactly one may win.
 */
export async function expectOneBurnWins(
  a: Store,
  b: Store,
  attempts: number,
  usageKey: string,
): Promise<void> {
  const results = await Promise.all(
    Array.from({ length: attempts }, (_, i) =>
      (i % 2 ? a : b).transaction((tx) =>
        tx.burn({ usageKey, walletId: "w", paymentId: null, createdAt: 0 }),
      ),
    ),
  );
  expect(results.filter(Boolean)).toHaveLength(1);
}

/**
 * The behaviour every `Store` must have. Each store's test file calls this
 * with a harness on a real database; tests share one database and keep out
 * of each other's way with fresh ids and a fresh currency each.
 */
export function describeStoreContract(
  name: string,
  makeHarness: () => Promise<StoreHarness | undefined>,
): void {
  describe(`Store contract: ${name}`, () => {
    const opened = useHarnessStore(makeHarness);
    let harness: StoreHarness;
    let store: Store;
    beforeAll(() => {
      ({ harness, store } = opened);
    });

    it("applies migrations at open, idempotently", async () => {
      expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const again = await harness.open();
      try {
        expect(await again.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      } finally {
        await again.close();
      }
    });

    it("stores accounts with and without limits; a duplicate id is not inserted", async () => {
      const cur = freshCurrency();
      await store.transaction(async (tx) => {
        const payer = await newAccount(tx, cur);
        const merchant = await newAccount(tx, cur, "merchant");
        const p = await tx.getAccount(payer);
        expect(p).toMatchObject({ kind: "payer", currency: cur, balance: 0n, limits: LIMITS });
        expect((await tx.getAccount(merchant, { forUpdate: true }))?.limits).toBeNull();
        expect(
          await tx.insertAccount({
            id: payer,
            kind: "payer",
            currency: cur,
            passwordHash: null,
            limits: null,
            createdAt: T0,
          }),
        ).toBe(false);
        expect(await tx.getAccount("missing")).toBeUndefined();
      });
    });

    it("moves money with balanced transfers; the ledger sums to zero", async () => {
      const cur = freshCurrency();
      await store.transaction(async (tx) => {
        const issuer = await newAccount(tx, cur, "issuer");
        const a = await newAccount(tx, cur);
        const b = await newAccount(tx, cur, "merchant");
        await tx.transfer(transfer(issuer, a, 10_000n, cur));
        await tx.transfer({ ...transfer(a, b, 2_500n, cur), kind: "payment" });
        expect((await tx.getAccount(issuer))?.balance).toBe(-10_000n);
        expect((await tx.getAccount(a))?.balance).toBe(7_500n);
        expect((await tx.getAccount(b))?.balance).toBe(2_500n);
        expect(await tx.ledgerTotal(cur)).toEqual({ total: 0n, transferCount: 2 });
        expect(await tx.ledgerAudit()).toEqual([]);
      });
    });

    it("sums the ledger exactly when its parts pass 64 bits", async () => {
      const cur = freshCurrency();
      const max = 2n ** 63n - 1n;
      await store.transaction(async (tx) => {
        // Two funding accounts, so that every account's own sums stay in int64
        // (the store is shared with the other cases, whose audits sum per account).
        const [i1, i2] = [await newAccount(tx, cur, "issuer"), await newAccount(tx, cur, "issuer")];
        const a = await newAccount(tx, cur);
        const b = await newAccount(tx, cur);
        // The payers hold 2^64 - 2 together, as the funding debits do; they cancel.
        await tx.transfer(transfer(i1, a, max, cur));
        await tx.transfer(transfer(i2, b, max, cur));
        expect(await tx.ledgerTotal(cur)).toEqual({ total: 0n, transferCount: 2 });
      });
    });

    it("rejects a transfer to an account of another currency and rolls the transaction back", async () => {
      const cur = freshCurrency();
      const other = freshCurrency() === cur ? "ZZZ" : freshCurrency();
      const ids = await store.transaction(async (tx) => ({
        a: await newAccount(tx, cur),
        b: await newAccount(tx, other),
      }));
      await expect(
        store.transaction(async (tx) => {
          await tx.transfer(transfer(ids.a, ids.b, 5n, cur));
        }),
      ).rejects.toThrow(/account missing or not in/);
      await store.transaction(async (tx) => {
        expect((await tx.getAccount(ids.a))?.balance).toBe(0n);
        expect(await tx.ledgerTotal(cur)).toEqual({ total: 0n, transferCount: 0 });
      });
    });

    it("rolls back everything when the transaction function throws", async () => {
      const cur = freshCurrency();
      const key = id("burn");
      await expect(
        store.transaction(async (tx) => {
          await newAccount(tx, cur);
          await tx.burn({ usageKey: key, walletId: "w", paymentId: null, createdAt: T0 });
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      await store.transaction(async (tx) => {
        expect(await tx.isBurned(key)).toBe(false);
        expect((await tx.ledgerTotal(cur)).transferCount).toBe(0);
      });
    });

    it("re-runs a transaction that throws TransactionRetry", async () => {
      let runs = 0;
      const result = await store.transaction(async (tx) => {
        runs++;
        const key = id("retry");
        await tx.burn({ usageKey: key, walletId: "w", paymentId: null, createdAt: T0 });
        if (runs === 1) throw new TransactionRetry("test");
        return key;
      });
      expect(runs).toBe(2);
      await store.transaction(async (tx) => expect(await tx.isBurned(result)).toBe(true));
    });

    it("finds merchants and terminals by API key hash", async () => {
      const cur = freshCurrency();
      await store.transaction(async (tx) => {
        const { merchantId, accountId } = await newMerchant(tx, cur);
        const m = await tx.getMerchant(merchantId);
        expect(m?.accountId).toBe(accountId);
        expect(await tx.getMerchantByKeyHash(m!.apiKeyHash)).toEqual(m);
        expect(await tx.getMerchantByKeyHash(hash())).toBeUndefined();
        const th = hash();
        await tx.insertTerminal({ id: id("ter"), merchantId, apiKeyHash: th, createdAt: T0 });
        expect((await tx.getTerminalByKeyHash(th))?.merchantId).toBe(merchantId);
      });
    });

    it("stores wallets by unique handle and token; revocation bumps the list version once", async () => {
      const cur = freshCurrency();
      const w = await store.transaction(async (tx) => {
        const acc = await newAccount(tx, cur);
        const w = wallet(acc);
        expect(await tx.insertWallet(w)).toBe(true);
        expect(await tx.insertWallet(wallet(acc, { handle: w.handle }))).toBe(false);
        expect(await tx.getWallet(w.id)).toEqual(w);
        expect((await tx.getWalletByHandle(w.handle))?.id).toBe(w.id);
        expect((await tx.getWalletByTokenHash(w.tokenHash))?.id).toBe(w.id);
        expect((await tx.listActiveWallets(acc)).map((x) => x.id)).toEqual([w.id]);

        const before = await tx.revocationList(T0);
        expect(await tx.revokeWallet(w.id, T0 + 5, "lost")).toBe(true);
        expect(await tx.revokeWallet(w.id, T0 + 6, "again")).toBe(false);
        const after = await tx.revocationList(T0);
        expect(after.version).toBe(before.version + 1n);
        expect(after.walletIds).toContain(w.id);
        expect((await tx.getWallet(w.id))?.revokedAt).toBe(T0 + 5);
        expect(await tx.listActiveWallets(acc)).toEqual([]);
        // Once its certificate has expired a revoked wallet leaves the list.
        expect((await tx.revocationList(w.certNotAfter)).walletIds).not.toContain(w.id);
        return w;
      });
      // A Scan's seed-cache miss; concurrent lookups (one statement on PostgreSQL) answer each.
      const seed = { id: w.id, seedEnvelope: w.seedEnvelope };
      expect(await store.walletSeed(w.handle)).toEqual(seed);
      expect(
        await Promise.all([
          store.walletSeed(w.handle),
          store.walletSeed(-1),
          store.walletSeed(w.handle),
        ]),
      ).toEqual([seed, undefined, seed]);
    });

    it("keeps issuer keys and first-writer-wins settings", async () => {
      await store.transaction(async (tx) => {
        const keyId = id("ik");
        await tx.insertIssuerKey({
          keyId,
          publicKey: new Uint8Array(32).fill(1),
          privateKeyEnvelope: new Uint8Array([4, 5, 6]),
          notBefore: T0,
          notAfter: T0 + 1000,
          createdAt: T0,
        });
        expect(
          (await tx.listIssuerKeys()).find((k) => k.keyId === keyId)?.privateKeyEnvelope,
        ).toEqual(new Uint8Array([4, 5, 6]));
        const name = id("setting");
        expect(await tx.getSetting(name)).toBeUndefined();
        expect(await tx.putSettingIfAbsent(name, new Uint8Array([1]))).toEqual(new Uint8Array([1]));
        expect(await tx.putSettingIfAbsent(name, new Uint8Array([2]))).toEqual(new Uint8Array([1]));
      });
    });

    it("burns a usage key once", async () => {
      const key = id("burn");
      await store.transaction(async (tx) => {
        expect(
          await tx.burn({ usageKey: key, walletId: "w", paymentId: "p1", createdAt: T0 }),
        ).toBe(true);
        expect(
          await tx.burn({ usageKey: key, walletId: "w", paymentId: "p2", createdAt: T0 }),
        ).toBe(false);
        expect(await tx.isBurned(key)).toBe(true);
        await tx.unburn(key);
        expect(await tx.isBurned(key)).toBe(false);
      });
    });

    it("keeps (merchant, out_trade_no) unique and closes pending payments at their deadline", async () => {
      const cur = freshCurrency();
      await store.transaction(async (tx) => {
        const { merchantId } = await newMerchant(tx, cur);
        const p = payment(merchantId, cur, {
          status: "PENDING_CONFIRMATION",
          confirmDeadline: T0 + 60_000,
          walletId: "w1",
          passwordFree: false,
        });
        expect(await tx.insertPayment(p)).toBe(true);
        expect(await tx.insertPayment(payment(merchantId, cur, { outTradeNo: p.outTradeNo }))).toBe(
          false,
        );
        // Offline-settlement payments have no order number; many may exist.
        expect(
          await tx.insertPayment(payment(merchantId, cur, { outTradeNo: null, source: "offline" })),
        ).toBe(true);
        expect(
          await tx.insertPayment(payment(merchantId, cur, { outTradeNo: null, source: "offline" })),
        ).toBe(true);
        expect(await tx.getPayment(p.id)).toEqual(p);
        expect(
          await tx.getPaymentByOutTradeNo(merchantId, p.outTradeNo!, { forUpdate: true }),
        ).toEqual(p);
        expect(await tx.getPaymentByOutTradeNo("other", p.outTradeNo!)).toBeUndefined();
        expect((await tx.listPendingPayments("w1")).map((x) => x.id)).toContain(p.id);

        expect(await tx.closeExpiredPaymentsOfWallet("w1", T0 + 59_999)).toBe(0);
        expect(await tx.closeExpiredPaymentsOfWallet("w1", T0 + 60_000)).toBe(1);
        const closed = await tx.getPayment(p.id);
        expect(closed).toMatchObject({ status: "CLOSED", updatedAt: T0 + 60_000 });

        const q = payment(merchantId, cur, { status: "PENDING_CONFIRMATION", confirmDeadline: T0 });
        await tx.insertPayment(q);
        expect(await tx.closeExpiredPayments(T0)).toBeGreaterThanOrEqual(1);
        expect((await tx.getPayment(q.id))?.status).toBe("CLOSED");

        await tx.updatePayment(p.id, {
          status: "REFUNDED",
          declineReason: null,
          refundedAmount: 1000n,
          confirmDeadline: null,
          passwordFree: true,
          updatedAt: T0 + 1,
        });
        expect(await tx.getPayment(p.id)).toMatchObject({
          status: "REFUNDED",
          refundedAmount: 1000n,
          passwordFree: true,
        });
        await expect(
          tx.updatePayment("missing", {
            status: "CLOSED",
            declineReason: null,
            refundedAmount: 0n,
            confirmDeadline: null,
            passwordFree: false,
            updatedAt: T0,
          }),
        ).rejects.toThrow(/not found/);
      });
    });

    it("keeps (payment, out_refund_no) unique", async () => {
      const cur = freshCurrency();
      await store.transaction(async (tx) => {
        const { merchantId } = await newMerchant(tx, cur);
        const p = payment(merchantId, cur);
        await tx.insertPayment(p);
        const r = {
          id: id("ref"),
          paymentId: p.id,
          merchantId,
          outRefundNo: "r1",
          amount: 100n,
          currency: cur,
          reason: "",
          createdAt: T0,
        };
        expect(await tx.insertRefund(r)).toBe(true);
        expect(await tx.insertRefund({ ...r, id: id("ref") })).toBe(false);
        expect(await tx.getRefund(p.id, "r1")).toEqual(r);
        expect(await tx.insertRefund({ ...r, id: id("ref"), outRefundNo: null })).toBe(true);
      });
    });

    it("accumulates daily password-free usage per account and day", async () => {
      await store.transaction(async (tx) => {
        const acc = id("acc");
        expect(await tx.getDailyUsage(acc, "2030-01-15")).toEqual({ amount: 0n, count: 0 });
        await tx.addDailyUsage(acc, "2030-01-15", 300n);
        await tx.addDailyUsage(acc, "2030-01-15", 200n);
        await tx.addDailyUsage(acc, "2030-01-16", 1n);
        expect(await tx.getDailyUsage(acc, "2030-01-15")).toEqual({ amount: 500n, count: 2 });
        expect(await tx.getDailyUsage(acc, "2030-01-16")).toEqual({ amount: 1n, count: 1 });
      });
    });

    it("keeps password failures per account id (known or not) and terminal rejection windows", async () => {
      const cur = freshCurrency();
      const acc = id("acc");
      const ghost = id("no-such-account");
      await store.transaction(async (tx) => {
        await tx.lock(`password-failures:${acc}`);
        expect(await tx.getPasswordFailures(acc)).toBeUndefined();
        await tx.putPasswordFailures({ accountId: acc, failures: 1, retryAt: 0, updatedAt: T0 });
        await tx.putPasswordFailures({ accountId: ghost, failures: 10, retryAt: 0, updatedAt: T0 });
      });
      await store.transaction(async (tx) => {
        await tx.putPasswordFailures({
          accountId: acc,
          failures: 5,
          retryAt: T0 + 60_000,
          updatedAt: T0 + 1,
        });
      });
      // A later transaction (on PostgreSQL, another server) reads what was committed.
      await store.transaction(async (tx) => {
        expect(await tx.getPasswordFailures(acc)).toEqual({
          accountId: acc,
          failures: 5,
          retryAt: T0 + 60_000,
          updatedAt: T0 + 1,
        });
        const locked = (await tx.listPasswordFailures(10)).map((r) => r.accountId);
        expect(locked).toContain(ghost);
        expect(locked).not.toContain(acc);
        expect(await tx.clearPasswordFailures(acc)).toBe(5);
        expect(await tx.clearPasswordFailures(acc)).toBe(0);
        expect(await tx.getPasswordFailures(acc)).toBeUndefined();
        expect(await tx.clearPasswordFailures(ghost)).toBe(10);
      });
      // A rolled-back count is not kept.
      await expect(
        store.transaction(async (tx) => {
          await tx.putPasswordFailures({ accountId: acc, failures: 3, retryAt: 0, updatedAt: T0 });
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
      expect(await store.transaction((tx) => tx.getPasswordFailures(acc))).toBeUndefined();

      const terminalId = id("ter");
      await store.transaction(async (tx) => {
        const { merchantId } = await newMerchant(tx, cur);
        await tx.insertTerminal({ id: terminalId, merchantId, apiKeyHash: hash(), createdAt: T0 });
        expect(await tx.getTerminalRejections(terminalId)).toBeUndefined();
        await tx.putTerminalRejections({ terminalId, windowStart: T0, rejected: 99 });
        await tx.putTerminalRejections({ terminalId, windowStart: T0, rejected: 100 });
      });
      expect(await store.transaction((tx) => tx.getTerminalRejections(terminalId))).toEqual({
        terminalId,
        windowStart: T0,
        rejected: 100,
      });
    });

    it("stores offline batches per (terminal, batch) and settlements per (wallet, counter)", async () => {
      const cur = freshCurrency();
      await store.transaction(async (tx) => {
        const { merchantId } = await newMerchant(tx, cur);
        const terminalId = id("ter");
        await tx.insertTerminal({ id: terminalId, merchantId, apiKeyHash: hash(), createdAt: T0 });
        const batch = {
          terminalId,
          batchId: "b1",
          requestDigest: hash(),
          results: [],
          createdAt: T0,
        };
        expect(await tx.insertBatch(batch)).toBe(true);
        expect(await tx.insertBatch({ ...batch, requestDigest: hash() })).toBe(false);
        const results = [{ recordId: "r1", outcome: "SETTLED", paymentId: "p1" }];
        await tx.setBatchResults(terminalId, "b1", results);
        expect(await tx.getBatch(terminalId, "b1")).toEqual({ ...batch, results });
        expect(await tx.getBatch(terminalId, "b2")).toBeUndefined();

        const walletId = id("wal");
        const big = 2n ** 64n - 1n; // uint64 counters above 2^63 must be kept exactly
        const s = {
          walletId,
          counter: big,
          paymentId: "p1",
          terminalId,
          merchantId,
          recordId: "r1",
          amount: 700n,
          currency: cur,
          acceptedAt: T0,
          settledAt: T0,
        };
        expect(await tx.insertOfflineSettlement(s)).toBe(true);
        expect(await tx.insertOfflineSettlement({ ...s, paymentId: "p2" })).toBe(false);
        expect(await tx.insertOfflineSettlement({ ...s, counter: big - 1n, amount: 300n })).toBe(
          true,
        );
        // Issuer-liable settlements (§10.3): further records of a (wallet, counter), kept apart.
        await tx.insertIssuerLiableSettlement({ ...s, paymentId: "p3", amount: 250n });
        await tx.insertIssuerLiableSettlement({ ...s, paymentId: "p4", amount: 50n });
        expect(await tx.offlineSettledTotals(walletId)).toEqual({ payer: 1000n, issuer: 300n });
        expect(await tx.offlineSettledTotals("nobody")).toEqual({ payer: 0n, issuer: 0n });

        // Which terminals presented a (wallet, counter), uint64 counters exact.
        const other = id("ter");
        expect(await tx.recordOfflineUse(walletId, big, terminalId, T0)).toBe(true);
        expect(await tx.recordOfflineUse(walletId, big, terminalId, T0 + 1)).toBe(false);
        expect(await tx.recordOfflineUse(walletId, big - 1n, terminalId, T0)).toBe(true);
        expect(await tx.recordOfflineUse(walletId, big, other, T0)).toBe(true);
        expect(await tx.recordOfflineUse(walletId, big, other, T0)).toBe(false);
      });
    });

    it("tells a usage key burned by a Scan from one burned by settlement", async () => {
      const cur = freshCurrency();
      await store.transaction(async (tx) => {
        const { merchantId } = await newMerchant(tx, cur);
        const scanned = payment(merchantId, cur, { status: "DECLINED" });
        await tx.insertPayment(scanned);
        const [k1, k2, k3] = [id("off"), id("off"), id("off")];
        await tx.burn({ usageKey: k1, walletId: "w", paymentId: scanned.id, createdAt: T0 });
        const settled = payment(merchantId, cur, { outTradeNo: null, source: "offline" });
        await tx.insertPayment(settled);
        await tx.burn({ usageKey: k2, walletId: "w", paymentId: settled.id, createdAt: T0 });
        // A record rejected at rule 8 burns under a payment id that is never created.
        await tx.burn({ usageKey: k3, walletId: "w", paymentId: id("pay"), createdAt: T0 });
        expect(await tx.burnedByScan(k1)).toBe(true);
        expect(await tx.burnedByScan(k2)).toBe(false);
        expect(await tx.burnedByScan(k3)).toBe(false);
        expect(await tx.burnedByScan(id("off"))).toBe(false);
      });
    });

    it("aggregates the settlement report per merchant, currency and UTC day", async () => {
      const cur = freshCurrency();
      const day = Date.UTC(2030, 0, 15);
      const next = day + 86_400_000;
      await store.transaction(async (tx) => {
        const { merchantId } = await newMerchant(tx, cur);
        const { merchantId: other } = await newMerchant(tx, cur);
        const ok = payment(merchantId, cur, { amount: 1000n, createdAt: day });
        await tx.insertPayment(ok);
        await tx.insertPayment(
          payment(merchantId, cur, { amount: 500n, status: "REFUNDED", createdAt: next - 1 }),
        );
        await tx.insertPayment(
          payment(merchantId, cur, { amount: 9n, status: "DECLINED", createdAt: day }),
        );
        await tx.insertPayment(
          payment(merchantId, cur, { amount: 9n, status: "PENDING_CONFIRMATION", createdAt: day }),
        );
        await tx.insertPayment(payment(merchantId, cur, { amount: 9n, createdAt: next }));
        await tx.insertPayment(payment(merchantId, cur, { amount: 9n, createdAt: day - 1 }));
        await tx.insertPayment(payment(other, cur, { amount: 9n, createdAt: day }));
        await tx.insertPayment(
          payment(merchantId, cur, { outTradeNo: null, source: "offline", createdAt: day }),
        );
        await tx.insertRefund({
          id: id("ref"),
          paymentId: ok.id,
          merchantId,
          outRefundNo: "r",
          amount: 200n,
          currency: cur,
          reason: "",
          createdAt: day + 5,
        });
        const base = {
          paymentId: "p",
          terminalId: "t",
          merchantId,
          recordId: "r",
          currency: cur,
          acceptedAt: day,
        };
        await tx.insertOfflineSettlement({
          ...base,
          walletId: "w",
          counter: 1n,
          amount: 70n,
          settledAt: day + 1,
        });
        await tx.insertOfflineSettlement({
          ...base,
          walletId: "w",
          counter: 2n,
          amount: 30n,
          settledAt: next,
        });
        // [SETTLE-23] Issuer-liable ones count as settled and on their own.
        await tx.insertIssuerLiableSettlement({
          ...base,
          paymentId: id("pay"),
          walletId: "w",
          counter: 1n,
          amount: 40n,
          settledAt: day + 2,
        });
        await tx.insertIssuerLiableSettlement({
          ...base,
          paymentId: id("pay"),
          walletId: "w",
          counter: 1n,
          amount: 5n,
          settledAt: next,
        });
        expect(await tx.settlementAggregates(merchantId, cur, day, next)).toEqual({
          paymentCount: 2,
          paymentTotal: 1500n,
          refundCount: 1,
          refundTotal: 200n,
          offlineCount: 2,
          offlineTotal: 110n,
          issuerLiableCount: 1,
          issuerLiableTotal: 40n,
        });
        expect(await tx.settlementAggregates(merchantId, "QQQ", day, next)).toMatchObject({
          paymentCount: 0,
        });
      });
    });

    describe("concurrency", () => {
      it("many parallel transactions burning one key: exactly one wins", async () => {
        const key = id("hot");
        const outcomes = await Promise.all(
          Array.from({ length: 24 }, (_, i) =>
            store.transaction((tx) =>
              tx.burn({ usageKey: key, walletId: "w", paymentId: `p${i}`, createdAt: T0 }),
            ),
          ),
        );
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });

      it("parallel records of one (wallet, counter) by one terminal: exactly one is first", async () => {
        const w = id("wal");
        const outcomes = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            store.transaction((tx) => tx.recordOfflineUse(w, 7n, "ter-same", T0 + i)),
          ),
        );
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });

      it("parallel inserts of one (merchant, out_trade_no): exactly one payment", async () => {
        const cur = freshCurrency();
        const { merchantId } = await store.transaction((tx) => newMerchant(tx, cur));
        const outcomes = await Promise.all(
          Array.from({ length: 12 }, () =>
            store.transaction((tx) =>
              tx.insertPayment(payment(merchantId, cur, { outTradeNo: "same" })),
            ),
          ),
        );
        expect(outcomes.filter(Boolean)).toHaveLength(1);
      });

      it("parallel check-then-debit under row locks never overdraws", async () => {
        const cur = freshCurrency();
        const { issuer, payer, merchant } = await store.transaction(async (tx) => {
          const ids = {
            issuer: await newAccount(tx, cur, "issuer"),
            payer: await newAccount(tx, cur),
            merchant: await newAccount(tx, cur, "merchant"),
          };
          await tx.transfer(transfer(ids.issuer, ids.payer, 100n, cur));
          return ids;
        });
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            store.transaction(async (tx) => {
              await tx.lockAccounts([payer, merchant]);
              const balance = (await tx.getAccount(payer, { forUpdate: true }))!.balance;
              if (balance < 10n) return false;
              await tx.transfer({ ...transfer(payer, merchant, 10n, cur), kind: "payment" });
              return true;
            }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(10);
        await store.transaction(async (tx) => {
          expect((await tx.getAccount(payer))?.balance).toBe(0n);
          expect((await tx.getAccount(issuer))?.balance).toBe(-100n);
          expect(await tx.ledgerTotal(cur)).toEqual({ total: 0n, transferCount: 11 });
        });
      });

      it("parallel transfers in both directions keep the ledger at zero", async () => {
        const cur = freshCurrency();
        const accounts = await store.transaction(async (tx) => {
          const issuer = await newAccount(tx, cur, "issuer");
          const list = [issuer];
          for (let i = 0; i < 5; i++) {
            const a = await newAccount(tx, cur);
            await tx.transfer(transfer(issuer, a, 1_000n, cur));
            list.push(a);
          }
          return list;
        });
        let rnd = 7;
        const next = () => {
          rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
          return rnd;
        };
        const jobs = Array.from({ length: 60 }, () => {
          const from = accounts[next() % accounts.length]!;
          let to = accounts[next() % accounts.length]!;
          if (to === from) to = accounts[(accounts.indexOf(from) + 1) % accounts.length]!;
          const amount = BigInt(1 + (next() % 50));
          return store.transaction((tx) => tx.transfer(transfer(from, to, amount, cur)));
        });
        await Promise.all(jobs);
        await store.transaction(async (tx) => {
          expect(await tx.ledgerTotal(cur)).toEqual({ total: 0n, transferCount: 65 });
          expect(await tx.ledgerAudit()).toEqual([]);
        });
      });

      it("many concurrent transactions, some throwing: the others commit in order, the throwers leave no trace", async () => {
        const cur = freshCurrency();
        const counter = id("counter");
        const prefix = id("group");
        const { issuer, payer } = await store.transaction(async (tx) => ({
          issuer: await newAccount(tx, cur, "issuer"),
          payer: await newAccount(tx, cur),
        }));
        const retried = new Set<number>();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) =>
            store.transaction(async (tx) => {
              // Serialises the read-modify-write on PostgreSQL; SQLite runs one at a time anyway.
              await tx.lock(counter);
              const seen = await tx.getDailyUsage(counter, "2030-01-15");
              await tx.addDailyUsage(counter, "2030-01-15", 1n);
              await tx.burn({
                usageKey: `${prefix}:${i}`,
                walletId: "w",
                paymentId: null,
                createdAt: T0,
              });
              await tx.transfer(transfer(issuer, payer, BigInt(i + 1), cur));
              if (i % 7 === 3) throw new Error(`boom ${i}`);
              if (i % 5 === 1 && !retried.has(i)) {
                retried.add(i);
                throw new TransactionRetry(`once ${i}`);
              }
              return seen.count;
            }),
          ),
        );
        const failed = outcomes.flatMap((o, i) => (o.status === "rejected" ? [i] : []));
        expect(failed).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 7 === 3));
        for (const i of failed) {
          expect((outcomes[i] as PromiseRejectedResult).reason).toHaveProperty(
            "message",
            `boom ${i}`,
          );
        }
        // Each committed transaction saw exactly the ones committed before it.
        const seen = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
        expect([...seen].sort((a, b) => a - b)).toEqual(seen.map((_, k) => k));
        const committed = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 7 !== 3);
        const moved = committed.reduce((sum, i) => sum + BigInt(i + 1), 0n);
        await store.transaction(async (tx) => {
          expect(await tx.getDailyUsage(counter, "2030-01-15")).toEqual({
            amount: BigInt(committed.length),
            count: committed.length,
          });
          for (let i = 0; i < 40; i++)
            expect(await tx.isBurned(`${prefix}:${i}`)).toBe(i % 7 !== 3);
          expect((await tx.getAccount(payer))?.balance).toBe(moved);
          expect((await tx.getAccount(issuer))?.balance).toBe(-moved);
          expect(await tx.ledgerTotal(cur)).toEqual({
            total: 0n,
            transferCount: committed.length,
          });
        });
      });

      it("concurrent payments to one merchant: merchant balance = sum of successes, ledger total zero", async () => {
        const cur = freshCurrency();
        const { issuer, merchant, payers } = await store.transaction(async (tx) => {
          const issuer = await newAccount(tx, cur, "issuer");
          const { accountId: merchant } = await newMerchant(tx, cur);
          const payers: string[] = [];
          for (let i = 0; i < 12; i++) {
            const p = await newAccount(tx, cur);
            await tx.transfer(transfer(issuer, p, 25n, cur));
            payers.push(p);
          }
          return { issuer, merchant, payers };
        });
        // Three payments of 10 per payer with 25 each: two succeed, one is refused.
        const pay = (p: string) =>
          store.transaction(async (tx) => {
            await tx.lockAccounts([p, merchant]);
            const balance = (await tx.getAccount(p, { forUpdate: true }))!.balance;
            if (balance < 10n) return 0n;
            await tx.transfer({ ...transfer(p, merchant, 10n, cur), kind: "payment" });
            return 10n;
          });
        const totals: bigint[] = [];
        const results = await Promise.all([
          ...payers.flatMap((p) => [pay(p), pay(p), pay(p)]),
          // Readers in between see a balanced ledger: one snapshot per total.
          ...Array.from({ length: 6 }, () =>
            store.transaction(async (tx) => {
              totals.push((await tx.ledgerTotal(cur)).total);
              return 0n;
            }),
          ),
        ]);
        const paid = results.reduce((a, b) => a + b, 0n);
        expect(paid).toBe(BigInt(payers.length) * 20n);
        expect(totals.every((t) => t === 0n)).toBe(true);
        // A refund debits the merchant without any lock on its row.
        await store.transaction((tx) =>
          tx.transfer({ ...transfer(merchant, payers[0]!, 5n, cur), kind: "refund" }),
        );
        await store.transaction(async (tx) => {
          expect((await tx.getAccount(merchant))?.balance).toBe(paid - 5n);
          expect((await tx.getAccount(payers[0]!))?.balance).toBe(10n);
          for (const p of payers.slice(1)) expect((await tx.getAccount(p))?.balance).toBe(5n);
          expect((await tx.getAccount(issuer))?.balance).toBe(-25n * BigInt(payers.length));
          expect(await tx.ledgerTotal(cur)).toEqual({
            total: 0n,
            transferCount: payers.length * 3 + 1,
          });
          expect(await tx.ledgerAudit()).toEqual([]);
        });
      });

      it("payments to one merchant do not wait for each other's commit (PostgreSQL)", async () => {
        // SQLite has one writer at a time by design; there the group commit carries concurrency.
        if (store.kind !== "postgres") return;
        const cur = freshCurrency();
        const { issuer, merchant, a, b } = await store.transaction(async (tx) => {
          const ids = {
            issuer: await newAccount(tx, cur, "issuer"),
            merchant: (await newMerchant(tx, cur)).accountId,
            a: await newAccount(tx, cur),
            b: await newAccount(tx, cur),
          };
          await tx.transfer(transfer(ids.issuer, ids.a, 100n, cur));
          await tx.transfer(transfer(ids.issuer, ids.b, 100n, cur));
          return ids;
        });
        let release!: () => void;
        const held = new Promise<void>((r) => {
          release = r;
        });
        let credited!: () => void;
        const inside = new Promise<void>((r) => {
          credited = r;
        });
        const slow = store.transaction(async (tx) => {
          await tx.lockAccounts([a, merchant]);
          await tx.transfer({ ...transfer(a, merchant, 30n, cur), kind: "payment" });
          credited();
          await held;
        });
        await inside;
        const within = <T>(p: Promise<T>) =>
          Promise.race([
            p,
            new Promise<never>((_, reject) =>
              setTimeout(() => reject(new Error("blocked on the merchant row")), 5_000),
            ),
          ]);
        try {
          // A payment and a refund at the same merchant, and new funding from the issuer.
          await within(
            store.transaction(async (tx) => {
              await tx.lockAccounts([b, merchant]);
              await tx.transfer({ ...transfer(b, merchant, 20n, cur), kind: "payment" });
            }),
          );
          await within(
            store.transaction(async (tx) => {
              await tx.lockAccounts([merchant, b]);
              await tx.transfer({ ...transfer(merchant, b, 5n, cur), kind: "refund" });
              await tx.transfer(transfer(issuer, b, 1n, cur));
            }),
          );
          await within(
            store.transaction(async (tx) => {
              // The open transaction's credit is not visible yet.
              expect((await tx.getAccount(merchant))?.balance).toBe(15n);
              expect(await tx.ledgerTotal(cur)).toMatchObject({ total: 0n });
            }),
          );
        } finally {
          release();
          await slow;
        }
        await store.transaction(async (tx) => {
          expect((await tx.getAccount(merchant))?.balance).toBe(45n);
          expect((await tx.getAccount(b))?.balance).toBe(86n);
          expect(await tx.ledgerTotal(cur)).toEqual({ total: 0n, transferCount: 6 });
          expect(await tx.ledgerAudit()).toEqual([]);
        });
      });
    });

    describe("audit events", () => {
      it("appends in order, filters by time, type, family and subject, pages and prunes", async () => {
        const who = id("wal");
        const other = id("mer");
        // Times of their own (1970), so that pruning touches only these rows.
        const base = 1_000_000;
        await store.transaction((tx) =>
          tx.insertAuditEvents([
            {
              at: base,
              type: "auth.failed",
              subjectKind: null,
              subjectId: null,
              detail: { kind: "wallet", rpc: "GetWallet", peer: "::1", count: 3, tls: false },
            },
            {
              at: base + 10,
              type: "wallet.revoked",
              subjectKind: "wallet",
              subjectId: who,
              detail: { reason: "re-provisioned" },
            },
            {
              at: base + 20,
              type: "auth.locked",
              subjectKind: "merchant",
              subjectId: other,
              detail: null,
            },
          ]),
        );
        const mine = async (q: Parameters<Tx["listAuditEvents"]>[0]) =>
          (await store.read((tx) => tx.listAuditEvents({ until: base + 1000, ...q }))).map(
            (e) => e.type,
          );
        const all = await store.read((tx) =>
          tx.listAuditEvents({ since: base, until: base + 1000 }),
        );
        expect(all.map((e) => e.type)).toEqual(["auth.failed", "wallet.revoked", "auth.locked"]);
        expect(all[0]).toMatchObject({
          at: base,
          subjectKind: null,
          subjectId: null,
          detail: { kind: "wallet", rpc: "GetWallet", peer: "::1", count: 3, tls: false },
        });
        expect(all[1]).toMatchObject({ subjectKind: "wallet", subjectId: who });
        expect(all[2]?.detail).toBeNull();
        expect(all[0]!.id).toBeLessThan(all[1]!.id);
        expect(all[1]!.id).toBeLessThan(all[2]!.id);
        expect(await mine({ since: base + 10 })).toEqual(["wallet.revoked", "auth.locked"]);
        expect(await mine({ since: base, until: base + 10 })).toEqual(["auth.failed"]);
        expect(await mine({ type: "auth." })).toEqual(["auth.failed", "auth.locked"]);
        expect(await mine({ type: "auth" })).toEqual([]);
        expect(await mine({ type: "auth.locked" })).toEqual(["auth.locked"]);
        expect(await mine({ subjectKind: "wallet", subjectId: who })).toEqual(["wallet.revoked"]);
        expect(await mine({ subjectKind: "merchant" })).toEqual(["auth.locked"]);
        expect(await mine({ since: base, limit: 2 })).toEqual(["auth.failed", "wallet.revoked"]);
        expect(await mine({ since: base, afterId: all[1]!.id })).toEqual(["auth.locked"]);

        expect(await store.transaction((tx) => tx.pruneAuditEvents(base + 10))).toBe(1);
        expect(await mine({ since: 0 })).toEqual(["wallet.revoked", "auth.locked"]);
        expect(await store.transaction((tx) => tx.pruneAuditEvents(base + 1000))).toBe(2);
        expect(await mine({ since: 0 })).toEqual([]);
      });
    });
  });
}
