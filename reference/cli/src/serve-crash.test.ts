import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { generateEd25519, OnlineCodec, stepOf } from "@paycode/protocol";
import {
  ConformanceService,
  MerchantService,
  MoneySchema,
  PaymentStatus,
  WalletService,
} from "@paycode/protocol/v1";
import { createPostgresTestDb, testTransport } from "@paycode/server/testing";
import { afterAll, describe, expect, it } from "vitest";
import { type ServeProcess, startServe } from "./testing/spawn-cli.js";

const MASTER_KEY = randomBytes(32).toString("hex");
const START_BALANCE = 1_000_000n;
const WALLETS = 6;
const KILL_AFTER_ACKS = 40;
const WORKERS = 4;

const cny = (n: bigint) => create(MoneySchema, { currency: "CNY", amountMinor: n });

interface Job {
  order: string;
  accountId: string;
  code: string;
  amount: bigint;
}

const dir = mkdtempSync(join(tmpdir(), "paycode-crash-"));
const pg = await createPostgresTestDb("serve crash test");
const stores: [string, string][] = [["sqlite", `sqlite:${join(dir, "crash.db")}`]];
if (pg !== undefined) stores.push(["postgres", pg.url]);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pg?.drop();
});

function serve(store: string): Promise<ServeProcess> {
  return startServe(["--store", store, "--port", "0", "--enable-test-control"], {
    env: { PAYCODE_MASTER_KEY: MASTER_KEY },
  });
}

describe.each(stores)("paycode serve on %s killed with SIGKILL mid-stream", (_name, store) => {
  it("keeps every acknowledged payment, debits nothing twice, and balances the ledger", async () => {
    let proc = await serve(store);
    let t = testTransport(proc.url, "connect-h1");
    const control = () => t.client(ConformanceService);
    const { merchantId, apiKey } = await control().createMerchant({ name: "crash shop" });

    // Wallets and their codes: steps now-1..now+1 are all accepted (B=2, F=1),
    // even if the minute turns during the test.
    const caps = await control().getCapabilities({});
    const nowStep = stepOf(Math.floor(timestampMs(caps.now!) / 1000));
    const jobs: Job[] = [];
    for (let i = 0; i < WALLETS; i++) {
      const { accountId } = await control().createAccount({
        password: "pw",
        balance: cny(START_BALANCE),
        limits: { dailyPasswordFreeCount: 10_000, dailyPasswordFreeAmount: cny(100_000_000n) },
      });
      const res = await t.client(WalletService).provisionSeed({
        accountId,
        password: "pw",
        walletPublicKey: generateEd25519().publicKey,
      });
      const p = res.profile!;
      const codec = new OnlineCodec({
        prefix: p.issuerPrefix,
        codeKey: p.codeKey,
        windowBackSteps: p.windowBackSteps,
        windowAheadSteps: p.windowAheadSteps,
        lookbackSteps: p.lookbackSteps,
      });
      for (const step of [nowStep - 1, nowStep, nowStep + 1]) {
        for (let counter = 0; counter < 8; counter++) {
          const n = jobs.length;
          jobs.push({
            order: `crash-${n}`,
            accountId,
            code: codec.generate({ handle: res.handle, seed: res.seed, step, counter }),
            amount: BigInt(10 + (n % 7)),
          });
        }
      }
    }

    // Drive scans from several workers; SIGKILL the server once enough are acknowledged.
    const acked = new Map<string, { job: Job; paymentId: string }>();
    const attempted = new Set<Job>();
    let next = 0;
    let killed = false;
    const merchant = t.client(MerchantService, apiKey);
    const worker = async () => {
      while (next < jobs.length && !killed) {
        const job = jobs[next++]!;
        attempted.add(job);
        try {
          const r = await merchant.scan({
            outTradeNo: job.order,
            amount: cny(job.amount),
            code: job.code,
          });
          expect(PaymentStatus[r.payment!.status], job.order).toBe("SUCCEEDED");
          acked.set(job.order, { job, paymentId: r.payment!.paymentId });
          if (acked.size >= KILL_AFTER_ACKS && !killed) {
            killed = true;
            proc.child.kill("SIGKILL");
          }
        } catch (e) {
          if (!killed) throw e;
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    expect(killed).toBe(true);
    const exit = await proc.exited;
    expect(exit.signal).toBe("SIGKILL");
    t.close();
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    // Restart on the same store.
    proc = await serve(store);
    t = testTransport(proc.url, "connect-h1");
    const m2 = t.client(MerchantService, apiKey);
    for (const { job, paymentId } of acked.values()) {
      const p = (await m2.getPayment({ lookup: { case: "paymentId", value: paymentId } })).payment!;
      expect(PaymentStatus[p.status], job.order).toBe("SUCCEEDED");
      expect(p.amount?.amountMinor).toBe(job.amount);
      expect(p.outTradeNo).toBe(job.order);
    }
    // Calls cut off by the crash: the till retries them with the same order
    // number; each must end as exactly one payment.
    const succeeded: Job[] = [...acked.values()].map((a) => a.job);
    let committedUnacked = 0;
    for (const job of attempted) {
      if (acked.has(job.order)) continue;
      const before = await m2
        .getPayment({ lookup: { case: "outTradeNo", value: job.order } })
        .then((r) => r.payment!.paymentId)
        .catch((e: unknown) => {
          if (e instanceof ConnectError && e.code === Code.NotFound) return undefined;
          throw e;
        });
      if (before !== undefined) committedUnacked++;
      const retry = await m2.scan({
        outTradeNo: job.order,
        amount: cny(job.amount),
        code: job.code,
      });
      expect(PaymentStatus[retry.payment!.status], job.order).toBe("SUCCEEDED");
      if (before !== undefined) expect(retry.payment!.paymentId).toBe(before);
      succeeded.push(job);
    }
    // Retrying an acknowledged order returns it unchanged, no second debit.
    const first = [...acked.values()][0]!;
    const again = await m2.scan({
      outTradeNo: first.job.order,
      amount: cny(first.job.amount),
      code: first.job.code,
    });
    expect(again.payment!.paymentId).toBe(first.paymentId);

    const c = t.client(ConformanceService);
    const spent = new Map<string, bigint>();
    for (const job of succeeded)
      spent.set(job.accountId, (spent.get(job.accountId) ?? 0n) + job.amount);
    for (const [accountId, total] of spent) {
      const b = await c.getBalance({ owner: { case: "accountId", value: accountId } });
      expect(b.balance?.amountMinor, accountId).toBe(START_BALANCE - total);
    }
    const merchantBalance = await c.getBalance({
      owner: { case: "merchantId", value: merchantId },
    });
    expect(merchantBalance.balance?.amountMinor).toBe(succeeded.reduce((s, j) => s + j.amount, 0n));
    const ledger = await c.getLedgerTotal({ currency: "CNY" });
    expect(ledger.total?.amountMinor).toBe(0n);
    console.info(
      `[crash ${_name}] acknowledged ${acked.size}, cut off ${attempted.size - acked.size} (committed before the crash: ${committedUnacked})`,
    );

    t.close();
    proc.child.kill("SIGTERM");
    const stopped = await proc.exited;
    expect(stopped.code).toBe(0);
    expect(proc.stderr()).toContain("shutting down");
  });
});
