import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { LimitsRecord, PaymentRecord } from "./records.js";
import type { OneCallScan, ScanThrottleInput, Store } from "./store.js";
import { type StoreHarness, useHarnessStore } from "./store-contract.js";

const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);
const DAY = "2030-01-15";
const DEADLINE = T0 + 300_000;

let seq = 0;
const id = (prefix: string) => `${prefix}_${randomBytes(6).toString("hex")}_${++seq}`;
function freshCurrency(): string {
  const a = randomBytes(3);
  return String.fromCharCode(65 + (a[0]! % 26), 65 + (a[1]! % 26), 65 + (a[2]! % 26));
}

const OWN_LIMITS: LimitsRecord = {
  perPaymentPasswordFree: 5_000n,
  dailyPasswordFreeAmount: 8_000n,
  dailyPasswordFreeCount: 3,
  perPaymentOffline: 5_000n,
  cumulativeOffline: 20_000n,
};
const DEFAULT_LIMITS: LimitsRecord = {
  perPaymentPasswordFree: 2_000n,
  dailyPasswordFreeAmount: 100_000n,
  dailyPasswordFreeCount: 100,
  perPaymentOffline: 5_000n,
  cumulativeOffline: 20_000n,
};

/** One payer with a wallet and a balance, one merchant, in a currency of their own. */
interface World {
  currency: string;
  payer: string;
  walletId: string;
  merchantId: string;
  merchantAccount: string;
}

async function newWorld(
  store: Store,
  opts: { balance?: bigint; limits?: LimitsRecord | null; revoked?: boolean } = {},
): Promise<World> {
  const currency = freshCurrency();
  const w: World = {
    currency,
    payer: id("acc"),
    walletId: id("wal"),
    merchantId: id("mer"),
    merchantAccount: id("acc"),
  };
  await store.transaction(async (tx) => {
    const issuer = id("acc");
    for (const [accountId, kind] of [
      [w.payer, "payer"],
      [w.merchantAccount, "merchant"],
      [issuer, "issuer"],
    ] as const) {
      await tx.insertAccount({
        id: accountId,
        kind,
        currency,
        passwordHash: null,
        limits: kind === "payer" ? (opts.limits === undefined ? OWN_LIMITS : opts.limits) : null,
        createdAt: T0,
      });
    }
    await tx.transfer({
      id: id("tr"),
      debitAccountId: issuer,
      creditAccountId: w.payer,
      amount: opts.balance ?? 10_000n,
      currency,
      kind: "funding",
      paymentId: null,
      refundId: null,
      createdAt: T0,
    });
    await tx.insertMerchant({
      id: w.merchantId,
      name: "M",
      accountId: w.merchantAccount,
      apiKeyHash: new Uint8Array(randomBytes(32)),
      createdAt: T0,
    });
    await tx.insertWallet({
      id: w.walletId,
      accountId: w.payer,
      handle: Math.floor(Math.random() * 2 ** 28),
      tokenHash: new Uint8Array(randomBytes(32)),
      seedEnvelope: new Uint8Array([1]),
      publicKey: new Uint8Array(32),
      certificate: new Uint8Array([2]),
      certNotAfter: T0 + 86_400_000,
      deviceLabel: "phone",
      createdAt: T0,
      revokedAt: null,
      revokeReason: null,
    });
    if (opts.revoked) await tx.revokeWallet(w.walletId, T0, "lost");
  });
  return w;
}

/** `Store.scanOnce`'s payment (undefined: the order exists); fails the test when it was throttled. */
async function once(store: Store, s: OneCallScan): Promise<PaymentRecord | undefined> {
  const r = await store.scanOnce(s);
  if (r === undefined) return undefined;
  if ("throttled" in r) throw new Error("unexpected throttle refusal");
  return r.payment;
}

function scanOf(w: World, over: Partial<OneCallScan> & { amount?: bigint } = {}): OneCallScan {
  const payment: PaymentRecord = {
    id: id("pay"),
    merchantId: w.merchantId,
    outTradeNo: id("order"),
    amount: over.amount ?? 1_000n,
    currency: w.currency,
    status: "DECLINED",
    declineReason: null,
    codeKind: "ONLINE",
    codeDigest: new Uint8Array(randomBytes(32)),
    subject: "coffee",
    walletId: null,
    payerAccountId: null,
    passwordFree: false,
    refundedAmount: 0n,
    confirmDeadline: null,
    source: "scan",
    terminalId: null,
    recordId: null,
    createdAt: T0,
    updatedAt: T0,
  };
  return {
    payment,
    declined: null,
    walletId: w.walletId,
    usageKey: id("on"),
    offlineRefusal: null,
    merchantAccountId: w.merchantAccount,
    transferId: id("tr"),
    day: DAY,
    defaultLimits: DEFAULT_LIMITS,
    confirmDeadline: DEADLINE,
    throttle: null,
    ...over,
  };
}

/**
 * `Store.scanOnce`, the Scan decision inside the store, against the outcomes
 * `ScanService.decide` gives through `Tx` (issuer.test.ts holds those to the
 * spec): each test reads back what was written through the general `Tx`.
 */
export function describeScanOnceContract(
  name: string,
  makeHarness: () => Promise<StoreHarness | undefined>,
): void {
  describe(`Store.scanOnce contract: ${name}`, () => {
    const opened = useHarnessStore(makeHarness);
    let store: Store;
    beforeAll(() => {
      ({ store } = opened);
    });

    /** The stored payment, payer balance, today's usage and whether `usageKey` is burned. */
    const readBack = (w: World, s: OneCallScan) =>
      store.transaction(async (tx) => ({
        payment: await tx.getPaymentByOutTradeNo(w.merchantId, s.payment.outTradeNo!),
        balance: (await tx.getAccount(w.payer))!.balance,
        merchantBalance: (await tx.getAccount(w.merchantAccount))!.balance,
        usage: await tx.getDailyUsage(w.payer, DAY),
        burned: s.usageKey === null ? false : await tx.isBurned(s.usageKey),
        ledger: await tx.ledgerTotal(w.currency),
      }));

    it("a password-free success: burn, payment, one transfer, today's usage", async () => {
      const w = await newWorld(store);
      const s = scanOf(w);
      const p = await once(store, s);
      expect(p).toMatchObject({
        id: s.payment.id,
        status: "SUCCEEDED",
        declineReason: null,
        walletId: w.walletId,
        payerAccountId: w.payer,
        passwordFree: true,
        confirmDeadline: null,
      });
      const after = await readBack(w, s);
      expect(after.payment).toEqual(p);
      expect(after).toMatchObject({
        balance: 9_000n,
        merchantBalance: 1_000n,
        usage: { amount: 1_000n, count: 1 },
        burned: true,
        ledger: { total: 0n, transferCount: 2 },
      });
    });

    it("an existing order: undefined and nothing written, not even the burn", async () => {
      const w = await newWorld(store);
      const first = scanOf(w);
      await once(store, first);
      const again = scanOf(w, {
        payment: { ...scanOf(w).payment, outTradeNo: first.payment.outTradeNo },
      });
      expect(await once(store, again)).toBeUndefined();
      const after = await readBack(w, again);
      expect(after.burned).toBe(false);
      expect(after.payment?.id).toBe(first.payment.id);
      expect(after.balance).toBe(9_000n);
    });

    it("a reused usage key declines CODE_REUSED and moves no money", async () => {
      const w = await newWorld(store);
      const first = scanOf(w);
      await once(store, first);
      const s = scanOf(w, { usageKey: first.usageKey });
      expect(await once(store, s)).toMatchObject({
        status: "DECLINED",
        declineReason: "CODE_REUSED",
        walletId: w.walletId,
        payerAccountId: w.payer,
      });
      const after = await readBack(w, s);
      expect(after.payment?.declineReason).toBe("CODE_REUSED");
      expect(after.balance).toBe(9_000n);
    });

    it("a code the codec declined is recorded with its reason, no wallet, no burn", async () => {
      const w = await newWorld(store);
      const s = scanOf(w, { declined: "CODE_EXPIRED", walletId: null, usageKey: null });
      expect(await once(store, s)).toMatchObject({
        status: "DECLINED",
        declineReason: "CODE_EXPIRED",
        walletId: null,
        payerAccountId: null,
      });
      expect((await readBack(w, s)).payment?.declineReason).toBe("CODE_EXPIRED");
    });

    it("a wallet never provisioned declines CODE_INVALID without burning", async () => {
      const w = await newWorld(store);
      const s = scanOf(w, { walletId: id("wal") });
      expect(await once(store, s)).toMatchObject({
        declineReason: "CODE_INVALID",
        walletId: null,
      });
      expect((await readBack(w, s)).burned).toBe(false);
    });

    // [SCAN-4] Every decline after the wallet is found burns the code.
    for (const [label, world, over, reason] of [
      ["revoked wallet", { revoked: true }, {}, "WALLET_REVOKED"],
      ["certificate currency", {}, { offlineRefusal: "CURRENCY_MISMATCH" }, "CURRENCY_MISMATCH"],
      ["offline limit", {}, { offlineRefusal: "OVER_LIMIT" }, "LIMIT_EXCEEDED"],
      ["insufficient funds", { balance: 999n }, {}, "INSUFFICIENT_FUNDS"],
    ] as const) {
      it(`${label}: burns, then declines ${reason}`, async () => {
        const w = await newWorld(store, world);
        const s = scanOf(w, over);
        expect(await once(store, s)).toMatchObject({
          status: "DECLINED",
          declineReason: reason,
          walletId: w.walletId,
          passwordFree: false,
        });
        const after = await readBack(w, s);
        expect(after.burned).toBe(true);
        expect(after.usage).toEqual({ amount: 0n, count: 0 });
        expect(after.merchantBalance).toBe(0n);
      });
    }

    it("a payment in another currency than the payer's declines CURRENCY_MISMATCH", async () => {
      const w = await newWorld(store);
      const s = scanOf(w);
      const p = await once(store, { ...s, payment: { ...s.payment, currency: "ZZZ" } });
      expect(p?.declineReason).toBe("CURRENCY_MISMATCH");
    });

    it("step-up by per-payment, daily amount and daily count: pending with its deadline, no money", async () => {
      const w = await newWorld(store);
      const perPayment = scanOf(w, { amount: 5_001n });
      expect(await once(store, perPayment)).toMatchObject({
        status: "PENDING_CONFIRMATION",
        declineReason: null,
        passwordFree: false,
        confirmDeadline: DEADLINE,
      });
      // Equality with a limit needs no password: 5,000 then 3,000 reach the daily 8,000.
      expect((await once(store, scanOf(w, { amount: 5_000n })))?.status).toBe("SUCCEEDED");
      expect((await once(store, scanOf(w, { amount: 3_000n })))?.status).toBe("SUCCEEDED");
      const overAmount = scanOf(w, { amount: 1n });
      expect((await once(store, overAmount))?.status).toBe("PENDING_CONFIRMATION");
      const after = await readBack(w, overAmount);
      expect(after.usage).toEqual({ amount: 8_000n, count: 2 });
      expect(after.balance).toBe(2_000n);

      const counted = await newWorld(store, { balance: 100n });
      for (let i = 0; i < 3; i++) {
        expect((await once(store, scanOf(counted, { amount: 1n })))?.status).toBe("SUCCEEDED");
      }
      expect((await once(store, scanOf(counted, { amount: 1n })))?.status).toBe(
        "PENDING_CONFIRMATION",
      );
    });

    it("an account without limits of its own takes the defaults", async () => {
      const w = await newWorld(store, { limits: null });
      expect((await once(store, scanOf(w, { amount: 2_000n })))?.status).toBe("SUCCEEDED");
      expect((await once(store, scanOf(w, { amount: 2_001n })))?.status).toBe(
        "PENDING_CONFIRMATION",
      );
    });

    it("concurrent scans of one code: one succeeds, the rest decline CODE_REUSED", async () => {
      const w = await newWorld(store);
      const usageKey = id("on");
      const results = await Promise.all(
        Array.from({ length: 12 }, () => once(store, scanOf(w, { usageKey, amount: 10n }))),
      );
      expect(results.filter((p) => p?.status === "SUCCEEDED")).toHaveLength(1);
      expect(results.filter((p) => p?.declineReason === "CODE_REUSED")).toHaveLength(11);
    });

    it("[SCAN-10] [SCAN-11] concurrent scans of one payer's codes through two stores never overdraw it, and each success counts once today", async () => {
      // Two stores on one database, as two servers: their Scans run in transactions
      // of their own at once, so only the payer's row lock orders them.
      const other = await opened.harness.open();
      try {
        // The profile's defaults: far above three payments of 100 today.
        const w = await newWorld(store, { balance: 300n, limits: null });
        // Both connected and warm, so that their transactions overlap.
        await Promise.all([store, other].map((s) => s.read((tx) => tx.getAccount(w.payer))));
        const results = await Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            once(i % 2 === 0 ? store : other, scanOf(w, { amount: 100n })),
          ),
        );
        expect(results.filter((p) => p?.status === "SUCCEEDED")).toHaveLength(3);
        expect(results.filter((p) => p?.declineReason === "INSUFFICIENT_FUNDS")).toHaveLength(13);
        expect(await readBack(w, scanOf(w))).toMatchObject({
          balance: 0n,
          merchantBalance: 300n,
          usage: { amount: 300n, count: 3 },
        });
      } finally {
        await other.close();
      }
    });

    it("concurrent scans of one order: one payment, the others told to replay, one burn", async () => {
      const w = await newWorld(store);
      const outTradeNo = id("order");
      const scans = Array.from({ length: 12 }, () => {
        const s = scanOf(w, { amount: 10n });
        return { ...s, payment: { ...s.payment, outTradeNo } };
      });
      const results = await Promise.all(scans.map((s) => once(store, s)));
      const done = results.filter((p) => p !== undefined);
      expect(done).toHaveLength(1);
      const burned = await store.transaction(async (tx) => {
        let n = 0;
        for (const s of scans) if (await tx.isBurned(s.usageKey!)) n++;
        return n;
      });
      expect(burned).toBe(1);
      expect((await readBack(w, scans[0]!)).balance).toBe(9_990n);
    });

    it("concurrent Scans of many wallets are each decided as alone; one Scan's error fails it alone", async () => {
      const worlds: World[] = [];
      for (let i = 0; i < 6; i++) worlds.push(await newWorld(store));
      const poor = await newWorld(store, { balance: 500n });
      const paying = worlds.map((w) => scanOf(w, { amount: 100n }));
      const declined = scanOf(poor, { amount: 1_000n });
      // Its merchant account does not exist: the transfer cannot be written.
      const broken = { ...scanOf(worlds[0]!, { amount: 100n }), merchantAccountId: id("acc") };
      const settled = await Promise.allSettled(
        [...paying, declined, broken].map((s) => once(store, s)),
      );
      expect(settled.map((r) => (r.status === "fulfilled" ? r.value?.status : "error"))).toEqual([
        ...paying.map(() => "SUCCEEDED"),
        "DECLINED",
        "error",
      ]);
      expect(settled[6]).toMatchObject({ value: { declineReason: "INSUFFICIENT_FUNDS" } });
      for (const [i, w] of worlds.entries()) {
        const back = await readBack(w, paying[i]!);
        expect(back.payment?.status).toBe("SUCCEEDED");
        expect(back.balance).toBe(9_900n);
        expect(back.burned).toBe(true);
      }
      const gone = await readBack(worlds[0]!, broken);
      expect(gone.payment).toBeUndefined();
      expect(gone.burned).toBe(false);
    });

    describe("Scan throttles (§12.3)", () => {
      const WINDOW = T0 - (T0 % 3_600_000);
      const throttle = (over: Partial<ScanThrottleInput> = {}): ScanThrottleInput => ({
        windowStart: WINDOW,
        merchantLimit: 3,
        macFailureWalletId: null,
        stepUpAt: 2,
        stepUpUntil: T0 + 86_400_000,
        blockAt: 4,
        revokeReason: "blocked",
        ...over,
      });
      const failure = (w: World, over: Partial<ScanThrottleInput> = {}) =>
        scanOf(w, {
          declined: "CODE_INVALID",
          walletId: null,
          usageKey: null,
          throttle: throttle(over),
        });

      it("[SEC-4] [SEC-11] failures fill the merchant window; then every new Scan is refused with nothing written", async () => {
        const w = await newWorld(store);
        for (let i = 1; i <= 3; i++) {
          const r = await store.scanOnce(failure(w));
          expect(r).toMatchObject({
            merchantFailures: i,
            payment: { declineReason: "CODE_INVALID" },
          });
        }
        const refused = failure(w);
        expect(await store.scanOnce(refused)).toEqual({ throttled: true });
        const genuine = scanOf(w, { throttle: throttle() });
        expect(await store.scanOnce(genuine)).toEqual({ throttled: true });
        const after = await readBack(w, genuine);
        expect(after).toMatchObject({ payment: undefined, burned: false, balance: 10_000n });
        expect((await readBack(w, refused)).payment).toBeUndefined();
        expect(await store.read((tx) => tx.merchantFailures(w.merchantId, WINDOW))).toBe(3);
        // The next window starts empty; without throttles nothing is counted or refused.
        const next = scanOf(w, { throttle: throttle({ windowStart: WINDOW + 3_600_000 }) });
        expect((await once(store, next))?.status).toBe("SUCCEEDED");
        expect((await once(store, scanOf(w)))?.status).toBe("SUCCEEDED");
      });

      it("[SEC-5] [SEC-6] [SEC-13] MAC failures: step-up from the stepUpAt-th of a day, revoked at blockAt", async () => {
        const w = await newWorld(store, { limits: null });
        const mac = { macFailureWalletId: w.walletId, merchantLimit: 100 };
        const genuine = { merchantLimit: 100 };
        const first = await store.scanOnce(failure(w, mac));
        expect(first).toMatchObject({ macFailures: { today: 1, total: 1 }, walletBlocked: false });
        expect(
          (await once(store, scanOf(w, { throttle: throttle(genuine), amount: 10n })))?.status,
        ).toBe("SUCCEEDED");
        expect(await store.scanOnce(failure(w, mac))).toMatchObject({
          macFailures: { today: 2, total: 2 },
        });
        // [SEC-6] In step-up: a small payment waits for the password.
        expect(
          await once(store, scanOf(w, { throttle: throttle(genuine), amount: 10n })),
        ).toMatchObject({ status: "PENDING_CONFIRMATION", confirmDeadline: DEADLINE });
        // The next UTC day counts afresh, the total goes on; at blockAt the wallet is revoked.
        const tomorrow = { ...mac, windowStart: WINDOW + 86_400_000 };
        const next = (s: OneCallScan) => ({ ...s, day: "2030-01-16" });
        expect(await store.scanOnce(next(failure(w, tomorrow)))).toMatchObject({
          macFailures: { today: 1, total: 3 },
          walletBlocked: false,
        });
        expect(await store.scanOnce(next(failure(w, tomorrow)))).toMatchObject({
          macFailures: { today: 2, total: 4 },
          walletBlocked: true,
        });
        const wallet = await store.read((tx) => tx.getWallet(w.walletId));
        expect(wallet).toMatchObject({ revokedAt: T0, revokeReason: "blocked" });
        expect(
          await once(
            store,
            scanOf(w, { throttle: throttle({ ...tomorrow, macFailureWalletId: null }) }),
          ),
        ).toMatchObject({
          declineReason: "WALLET_REVOKED",
        });
        // Blocking twice changes nothing.
        expect(await store.scanOnce(next(failure(w, tomorrow)))).toMatchObject({
          walletBlocked: false,
        });
      });

      it("[SCAN-2] a retry of an existing order counts nothing, and is replayed even when the merchant is refused", async () => {
        const w = await newWorld(store);
        const mac = { macFailureWalletId: w.walletId };
        const declined = failure(w, mac);
        expect(await store.scanOnce(declined)).toMatchObject({
          merchantFailures: 1,
          macFailures: { today: 1, total: 1 },
        });
        const paid = scanOf(w, { throttle: throttle() });
        expect((await once(store, paid))?.status).toBe("SUCCEEDED");
        const retry = (s: OneCallScan, over: Partial<ScanThrottleInput> = {}): OneCallScan => ({
          ...s,
          payment: { ...s.payment, id: id("pay") },
          transferId: id("tr"),
          throttle: throttle(over),
        });
        // Retries while the window has room: nothing counted, burned or paid again.
        expect(await store.scanOnce(retry(declined, mac))).toBeUndefined();
        expect(await store.scanOnce(retry(paid))).toBeUndefined();
        expect(await store.read((tx) => tx.merchantFailures(w.merchantId, WINDOW))).toBe(1);
        expect((await readBack(w, paid)).balance).toBe(9_000n);
        // The next MAC failure is the wallet's second: the retry's was not counted.
        expect(await store.scanOnce(failure(w, mac))).toMatchObject({
          merchantFailures: 2,
          macFailures: { today: 2, total: 2 },
        });
        // The window full: a new Scan is refused, a retry of either order still replayed.
        await store.scanOnce(failure(w));
        expect(await store.scanOnce(failure(w))).toEqual({ throttled: true });
        expect(await store.scanOnce(retry(declined, mac))).toBeUndefined();
        expect(await store.scanOnce(retry(paid))).toBeUndefined();
        expect(await store.read((tx) => tx.merchantFailures(w.merchantId, WINDOW))).toBe(3);
      });

      it("[SEC-14] pruneJunkPayments deletes old CODE_INVALID / CODE_MALFORMED declines only", async () => {
        const w = await newWorld(store);
        const junk = failure(w);
        await store.scanOnce({ ...junk, throttle: null });
        const paid = scanOf(w);
        await store.scanOnce(paid);
        expect(
          await store.transaction((tx) => tx.pruneJunkPayments(T0, 1000)),
        ).toBeGreaterThanOrEqual(0);
        expect((await readBack(w, junk)).payment).toBeDefined();
        await store.transaction((tx) => tx.pruneJunkPayments(T0 + 1, 1_000_000));
        expect((await readBack(w, junk)).payment).toBeUndefined();
        expect((await readBack(w, paid)).payment?.status).toBe("SUCCEEDED");
      });
    });
  });
}

/**
 * Two stores on one database (two servers) race `scanOnce`: of 16 scans of
 * one code one succeeds; of 16 scans of one order one is recorded, one
 * code burns and the payer pays once.
 */
export async function expectScanRulesAcross(a: Store, b: Store): Promise<void> {
  const w = await newWorld(a);
  const usageKey = id("on");
  const sameCode = await Promise.all(
    Array.from({ length: 16 }, (_, i) => once(i % 2 ? a : b, scanOf(w, { usageKey, amount: 10n }))),
  );
  expect(sameCode.filter((p) => p?.status === "SUCCEEDED")).toHaveLength(1);
  expect(sameCode.filter((p) => p?.declineReason === "CODE_REUSED")).toHaveLength(15);

  const outTradeNo = id("order");
  const scans = Array.from({ length: 16 }, () => {
    const s = scanOf(w, { amount: 10n });
    return { ...s, payment: { ...s.payment, outTradeNo } };
  });
  const sameOrder = await Promise.all(scans.map((s, i) => once(i % 2 ? a : b, s)));
  expect(sameOrder.filter((p) => p !== undefined)).toHaveLength(1);
  const after = await a.transaction(async (tx) => {
    let burned = 0;
    for (const s of scans) if (await tx.isBurned(s.usageKey!)) burned++;
    return { burned, balance: (await tx.getAccount(w.payer))!.balance };
  });
  expect(after).toEqual({ burned: 1, balance: 9_980n });
}
