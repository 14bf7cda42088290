import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type PaymentRecord } from "@paycode/server";
import { afterAll, describe, expect, it } from "vitest";
import { runPaycode } from "./testing/spawn-cli.js";

const dir = mkdtempSync(join(tmpdir(), "paycode-prune-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY_MS = 86_400_000;

function payment(id: string, createdAt: number, declineReason: PaymentRecord["declineReason"]) {
  return {
    id,
    merchantId: "m1",
    outTradeNo: id,
    amount: 100n,
    currency: "CNY",
    status: "DECLINED",
    declineReason,
    codeKind: "UNSPECIFIED",
    codeDigest: new Uint8Array(32),
    subject: "",
    walletId: null,
    payerAccountId: null,
    passwordFree: false,
    refundedAmount: 0n,
    confirmDeadline: null,
    source: "scan",
    terminalId: null,
    recordId: null,
    createdAt,
    updatedAt: createdAt,
  } satisfies PaymentRecord;
}

describe("paycode prune", () => {
  it("[SEC-14] deletes junk declines past the retention, keeps the rest", async () => {
    const url = `sqlite:${join(dir, "p.db")}`;
    const now = Date.now();
    let store = await openStore(url);
    await store.transaction(async (tx) => {
      await tx.insertAccount({
        id: "a1",
        kind: "merchant",
        currency: "CNY",
        passwordHash: null,
        limits: null,
        createdAt: now,
      });
      await tx.insertMerchant({
        id: "m1",
        name: "m",
        accountId: "a1",
        apiKeyHash: new Uint8Array(32),
        createdAt: now,
      });
      await tx.insertPayment(payment("old-junk", now - 8 * DAY_MS, "CODE_INVALID"));
      await tx.insertPayment(payment("old-malformed", now - 8 * DAY_MS, "CODE_MALFORMED"));
      await tx.insertPayment(payment("old-expired", now - 8 * DAY_MS, "CODE_EXPIRED"));
      await tx.insertPayment(payment("new-junk", now - 6 * DAY_MS, "CODE_INVALID"));
    });
    await store.close();

    const bad = await runPaycode(["prune", "--store", url, "--retention-days", "0.5"]);
    expect(bad.code).toBe(2);
    const r = await runPaycode(["prune", "--store", url, "--json"]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ deleted: 2 });

    store = await openStore(url);
    const left = await store.read(async (tx) =>
      Promise.all(
        ["old-junk", "old-malformed", "old-expired", "new-junk"].map(
          async (id) => (await tx.getPayment(id)) !== undefined,
        ),
      ),
    );
    await store.close();
    expect(left).toEqual([false, false, true, true]);
  });
});
