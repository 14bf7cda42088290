import { describe, expect, it } from "vitest";
import { IdMap } from "./compare.js";
import { cancel, confirm, refund, reprovision, revoke, scanFresh } from "./payment-rules.js";
import { modelRunSettings } from "./run.js";
import { report, settleRecord } from "./settlement-rules.js";
import { applyDeadline, type ModelState, needsStepUp, newWallet, utcDay } from "./state.js";

const NOON = Date.UTC(2030, 0, 15, 12, 0, 0);

function model(): ModelState {
  const s: ModelState = {
    nowMs: NOON,
    currency: "CNY",
    confirmationTimeoutSeconds: 60,
    maxKeyAgeSeconds: 86_400,
    limits: {
      perPaymentPasswordFree: 4_000n,
      dailyPasswordFreeAmount: 9_000n,
      dailyPasswordFreeCount: 3,
      perPaymentOffline: 3_000n,
      cumulativeOffline: 7_000n,
    },
    payerBalance: 15_000n,
    merchantBalance: 0n,
    usage: new Map(),
    wallets: [],
    current: 0,
    payments: [],
    refunds: [],
    burnedOffline: new Set(),
    scannedOffline: new Set(),
    offlineUses: new Map(),
    payerPaidOffline: new Set(),
    issuerLoss: 0n,
    batches: [],
    wrongPasswordsInRow: 0,
    terminalSyncedAtMs: undefined,
  };
  newWallet(s);
  return s;
}

let seq = 0;
const scan = (s: ModelState, amount: bigint, wallet = s.current) =>
  scanFresh(s, {
    wallet,
    amount,
    code: `code-${++seq}`,
    outTradeNo: `o-${seq}`,
    subject: "t",
    offline: false,
  });

describe("the spec model", () => {
  it("steps up above a limit, not at it (§9.1)", () => {
    const s = model();
    expect(needsStepUp(s, 4_000n)).toBe(false);
    expect(needsStepUp(s, 4_001n)).toBe(true);
    expect(scan(s, 4_000n).status).toBe("SUCCEEDED");
    expect(scan(s, 4_000n).status).toBe("SUCCEEDED");
    // 8000 used today: 1000 more is exactly the daily amount, 1001 is above it.
    expect(needsStepUp(s, 1_000n)).toBe(false);
    expect(needsStepUp(s, 1_001n)).toBe(true);
    expect(scan(s, 500n).status).toBe("SUCCEEDED");
    // Third password-free payment used the count up.
    expect(scan(s, 100n).status).toBe("PENDING_CONFIRMATION");
  });

  it("keeps the password-free day with the account across re-provisioning, and starts a new one at UTC midnight", () => {
    const s = model();
    scan(s, 4_000n);
    scan(s, 4_000n);
    reprovision(s);
    expect(scan(s, 1_001n).status).toBe("PENDING_CONFIRMATION");
    s.nowMs = Date.UTC(2030, 0, 16, 0, 0, 0);
    expect(scan(s, 1_001n).status).toBe("SUCCEEDED");
  });

  it("declines a revoked wallet's code before funds and limits", () => {
    const s = model();
    reprovision(s);
    const p = scan(s, 99_000n, 0);
    expect([p.status, p.reason]).toEqual(["DECLINED", "WALLET_REVOKED"]);
  });

  it("closes a pending payment at its deadline, dated at the deadline (§8.1)", () => {
    const s = model();
    const p = scan(s, 5_000n);
    s.nowMs = p.deadlineMs! - 1;
    expect(applyDeadline(s, p).status).toBe("PENDING_CONFIRMATION");
    s.nowMs = p.deadlineMs! + 5_000;
    expect(confirm(s, p, true)).toEqual({ error: "failed_precondition" });
    expect(p.status).toBe("CLOSED");
    expect(p.updatedAtMs).toEqual([p.deadlineMs]);
  });

  it("refunds at most the remainder, idempotently, and a cancel refunds the rest (§7.3.3, §7.3.4)", () => {
    const s = model();
    const p = scan(s, 3_000n);
    expect(refund(s, p, "r1", 1_000n)).toMatchObject({ payment: { status: "SUCCEEDED" } });
    expect(refund(s, p, "r1", 1_000n)).toMatchObject({ refund: { amount: 1_000n } });
    expect(refund(s, p, "r1", 1_100n)).toEqual({ error: "already_exists" });
    expect(refund(s, p, "r2", 2_001n)).toEqual({ error: "failed_precondition" });
    expect(s.refunds).toHaveLength(1);
    expect(cancel(s, p)).toBe("REFUNDED");
    expect(s.refunds.map((r) => r.amount)).toEqual([1_000n, 2_000n]);
    expect([s.payerBalance, s.merchantBalance]).toEqual([15_000n, 0n]);
    expect(cancel(s, p)).toBe("NONE");
    const t = report(s, utcDay(s.nowMs));
    expect(t).toMatchObject({
      paymentCount: 1n,
      paymentTotal: 3_000n,
      refundCount: 2n,
      refundTotal: 3_000n,
      netTotal: 0n,
    });
  });

  it("pays a duplicate of another terminal or a Scan from the issuer, counting it toward the cumulative limit", () => {
    const s = model();
    s.terminalSyncedAtMs = s.nowMs;
    const rec = (amount: bigint, code: string, terminal: number) => ({
      recordId: `${code}-${terminal}`,
      code,
      wallet: 0,
      amount,
      acceptedAtMs: s.nowMs,
      keysSyncedAtMs: s.terminalSyncedAtMs!,
      terminal,
    });
    expect(settleRecord(s, rec(3_000n, "a", 0))).toMatchObject({
      outcome: "SETTLED",
      issuerLiable: false,
    });
    expect(settleRecord(s, rec(3_000n, "a", 0)).outcome).toBe("DUPLICATE");
    expect(settleRecord(s, rec(2_000n, "a", 1))).toMatchObject({
      outcome: "SETTLED",
      issuerLiable: true,
    });
    expect([s.payerBalance, s.merchantBalance, s.issuerLoss]).toEqual([12_000n, 5_000n, 2_000n]);
    // 5000 settled of 7000: 3000 more is over, and the code is burned for terminal 0.
    expect(settleRecord(s, rec(3_000n, "b", 0)).outcome).toBe("REJECTED_LIMIT");
    // The payer never paid for "b": terminal 1's smaller record of it does.
    expect(settleRecord(s, rec(2_000n, "b", 1))).toMatchObject({
      outcome: "SETTLED",
      issuerLiable: false,
    });
    s.scannedOffline.add("c");
    s.burnedOffline.add("c");
    expect(settleRecord(s, rec(1n, "c", 0)).outcome).toBe("REJECTED_LIMIT");
    const t = report(s, utcDay(s.nowMs));
    expect([t.offlineCount, t.offlineTotal, t.issuerLiableCount, t.issuerLiableTotal]).toEqual([
      3n,
      7_000n,
      1n,
      2_000n,
    ]);
  });

  it("settles offline records by the rules of §10.2, in order", () => {
    const s = model();
    s.terminalSyncedAtMs = s.nowMs;
    const rec = (amount: bigint, code: string, o: { synced?: number } = {}) => ({
      recordId: code,
      code,
      wallet: 0,
      amount,
      acceptedAtMs: s.nowMs,
      keysSyncedAtMs: o.synced ?? s.terminalSyncedAtMs!,
      terminal: 0,
    });
    expect(settleRecord(s, rec(3_001n, "a")).outcome).toBe("REJECTED_LIMIT");
    expect(settleRecord(s, rec(3_000n, "b")).outcome).toBe("SETTLED");
    expect(settleRecord(s, rec(3_000n, "b")).outcome).toBe("DUPLICATE");
    expect(settleRecord(s, rec(3_000n, "c")).outcome).toBe("SETTLED");
    // 6000 settled: 1001 more passes the cumulative 7000, and burns the code.
    expect(settleRecord(s, rec(1_001n, "d")).outcome).toBe("REJECTED_LIMIT");
    expect(settleRecord(s, rec(1_001n, "d")).outcome).toBe("DUPLICATE");
    s.nowMs += 1_000;
    revoke(s, 0);
    expect(settleRecord(s, rec(500n, "e", { synced: s.nowMs - 1 })).outcome).toBe("SETTLED");
    expect(settleRecord(s, rec(500n, "f", { synced: s.nowMs })).outcome).toBe("REJECTED_REVOKED");
    s.nowMs += 86_400_001;
    expect(settleRecord(s, rec(500n, "g", { synced: s.nowMs - 86_400_001 })).outcome).toBe(
      "REJECTED_STALE_KEYS",
    );
    expect(s.payerBalance).toBe(15_000n - 6_500n);
    const t = report(s, utcDay(NOON));
    expect([t.offlineCount, t.offlineTotal, t.netTotal]).toEqual([3n, 6_500n, 6_500n]);
  });
});

describe("id mapping", () => {
  it("binds a target id to one model object only", () => {
    const ids = new IdMap();
    ids.bind("payment", 0, "p-1", "first");
    ids.bind("payment", 0, "p-1", "again");
    expect(() => ids.bind("payment", 0, "p-2", "changed")).toThrow(/earlier "p-1"/);
    expect(() => ids.bind("payment", 1, "p-1", "reused")).toThrow(/already names payment#0/);
  });
});

describe("model run settings", () => {
  const o = { caseId: "x/y", seed: 7, numRuns: 12, maxCommands: 10, offline: false };
  it("use the case's fixed seed unless the environment replays one", () => {
    expect(modelRunSettings(o, {})).toEqual({
      seed: 7,
      path: undefined,
      replay: undefined,
      numRuns: 12,
      maxShrinkRuns: 20,
    });
    expect(
      modelRunSettings(o, {
        PAYCODE_MODEL_SEED: "42",
        PAYCODE_MODEL_PATH: "3:1",
        PAYCODE_MODEL_REPLAY: "AB:C",
        PAYCODE_MODEL_RUNS: "50",
        PAYCODE_MODEL_SHRINKS: "0",
      }),
    ).toEqual({ seed: 42, path: "3:1", replay: "AB:C", numRuns: 50, maxShrinkRuns: 0 });
    expect(() => modelRunSettings(o, { PAYCODE_MODEL_SEED: "x" })).toThrow(/not an integer/);
  });
});
