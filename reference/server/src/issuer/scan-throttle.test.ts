import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { OnlineCodec, stepOf } from "@paycode/protocol";
import {
  CreateMerchantRequestSchema,
  DeclineReason,
  PaymentStatus,
  ScanRequestSchema,
} from "@paycode/protocol/v1";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../store/open-store.js";
import type { SqlExecutor } from "../store/sql-executor.js";
import type { Store } from "../store/store.js";
import { createPostgresTestDb } from "../testing/postgres-test-db.js";
import type { AuditEvent } from "./audit-log.js";
import { Issuer } from "./issuer.js";
import { DEFAULT_SCAN_THROTTLE, expectedInsiderForgeryDays } from "./scan-throttle.js";
import { cny, IssuerFixture, MASTER_KEY, type TestMerchant, type TestWallet } from "./testing.js";

/**
 * Issue 9: guessing against the Scan throttles of §12.3 on both stores and
 * on two servers sharing one PostgreSQL database, with the issuer clock
 * driven by hand (no waiting, no wall-clock thresholds).
 */

const DAY_MS = 86_400_000;
const { merchantFailuresPerWindow, walletStepUpFailures, walletBlockFailures } =
  DEFAULT_SCAN_THROTTLE;

/** Guesses at `w`'s codes as an insider makes them: its handle, the current step, a wrong MAC. */
class Guesser {
  private n = 0;
  private readonly codec: OnlineCodec;
  constructor(
    private readonly f: IssuerFixture,
    private readonly w: TestWallet,
  ) {
    const p = w.provision.profile!;
    this.codec = new OnlineCodec({
      prefix: p.issuerPrefix,
      codeKey: p.codeKey,
      windowBackSteps: p.windowBackSteps,
      windowAheadSteps: p.windowAheadSteps,
      lookbackSteps: p.lookbackSteps,
    });
  }

  /** A code whose MAC matches no candidate step now: a MAC failure, deterministically. */
  code(): string {
    const nowS = Math.floor(this.f.clock.now() / 1000);
    for (;;) {
      const k = this.n++;
      const seed = new Uint8Array(32).fill(0x33);
      seed[0] = k & 0xff;
      seed[1] = (k >> 8) & 0xff;
      seed[2] = (k >> 16) & 0xff;
      const code = this.codec.generate({
        handle: this.w.provision.handle,
        seed,
        step: stepOf(nowS),
        counter: k % 8,
      });
      const parsed = this.codec.parse(code);
      if (parsed && this.codec.verify(parsed, this.w.provision.seed, nowS).result === "invalid") {
        return code;
      }
    }
  }
}

/** A Scan's payment, or "throttled" when it failed resource_exhausted (with its retry-after). */
async function tryScan(
  issuer: Issuer,
  m: TestMerchant,
  code: string,
  outTradeNo: string,
): Promise<{ status: PaymentStatus; reason: DeclineReason } | { retryAfter: number }> {
  try {
    const r = await issuer.scan(
      m.principal,
      create(ScanRequestSchema, { outTradeNo, amount: cny(100), code }),
    );
    return { status: r.payment!.status, reason: r.payment!.declineReason };
  } catch (e) {
    const err = ConnectError.from(e);
    if (err.code !== Code.ResourceExhausted) throw e;
    return { retryAfter: Number(err.metadata.get("retry-after")) };
  }
}

/** Payment rows of a merchant, declines included (a test-only look under the store). */
async function paymentRows(store: Store, merchantId: string): Promise<number> {
  return store.read(async (tx) => {
    const db = (tx as unknown as { db: SqlExecutor }).db;
    const rows = await db.query("SELECT COUNT(*) AS n FROM payments WHERE merchant_id = ?", [
      merchantId,
    ]);
    return Number(rows[0]!.n);
  });
}

function describeGuessing(
  name: string,
  junkScans: number,
  open: (o?: Parameters<typeof IssuerFixture.open>[0]) => Promise<IssuerFixture>,
) {
  describe(`Scan throttles on ${name}`, () => {
    it("one merchant: 100 failures per hour window answered, the rest refused with retry-after and nothing written", async () => {
      const audit: AuditEvent[] = [];
      const f = await open({ audit: { record: async (e) => void audit.push(e) } });
      try {
        // 10:20:00 of a day: the window ends in 2400 s.
        f.clock.set(Date.UTC(2030, 0, 15, 10, 20, 0));
        const m = await f.merchant();
        const w = await f.payer(10_000);
        const guess = new Guesser(f, await f.payer(10_000)); // another wallet: `w` stays out of step-up
        let answered = 0;
        let refused = 0;
        let retryAfter = 0;
        for (let i = 0; i < 300; i++) {
          const r = await tryScan(f.issuer, m, i % 2 ? guess.code() : `junk ${i}`, `g-${i}`);
          if ("retryAfter" in r) {
            refused++;
            retryAfter = r.retryAfter;
          } else answered++;
        }
        expect(answered).toBe(merchantFailuresPerWindow);
        expect(refused).toBe(300 - merchantFailuresPerWindow);
        expect(retryAfter).toBe(2400);
        // Refusals store nothing: 100 payment rows, not 300.
        expect(await paymentRows(f.store, m.merchantId)).toBe(merchantFailuresPerWindow);
        // A genuine code is refused too, and is not burned: it pays in the next window... at another merchant now.
        const code = f.onlineCode(w);
        expect(await tryScan(f.issuer, m, code, "genuine")).toEqual({ retryAfter: 2400 });
        const other = await f.merchant();
        expect((await f.scan(other, code, 100)).status).toBe(PaymentStatus.SUCCEEDED);
        expect(audit.filter((e) => e.type === "throttle.merchant")).toHaveLength(1);
        // The next window starts empty.
        f.clock.set(Date.UTC(2030, 0, 15, 11, 0, 0));
        expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(PaymentStatus.SUCCEEDED);
        await f.expectLedgerBalanced();
      } finally {
        await f.close();
      }
    });

    it("insider bound: days of guessing against one handle, at most 16 password-free guesses a UTC day, then the block", async () => {
      const audit: AuditEvent[] = [];
      const f = await open({ audit: { record: async (e) => void audit.push(e) } });
      try {
        const start = Date.UTC(2030, 0, 15, 0, 0, 0);
        f.clock.set(start);
        const victim = await f.payer(1_000_000);
        const guess = new Guesser(f, victim);
        const stepUpUntil = async () =>
          (await f.store.read((tx) => tx.getWallet(victim.provision.walletId)))!;
        const perDay: number[] = [];
        let total = 0;
        let merchant = await f.merchant();
        let ofMerchant = 0;
        // The attacker guesses 40 times a day (over several merchant accounts and hours) until blocked.
        for (let day = 0; day < 30; day++) {
          let passwordFree = 0;
          for (let g = 0; g < 40; g++) {
            f.clock.set(start + day * DAY_MS + g * 60_000 * 30);
            const w = await stepUpUntil();
            if (w.revokedAt !== null) break;
            // A guess is password-free when a match would have paid without the password.
            if (w.stepUpUntil === undefined || f.clock.now() >= w.stepUpUntil) passwordFree++;
            if (ofMerchant === merchantFailuresPerWindow) {
              merchant = await f.merchant();
              ofMerchant = 0;
            }
            ofMerchant++;
            const r = await tryScan(f.issuer, merchant, guess.code(), `d${day}-${g}`);
            expect(r).toEqual({
              status: PaymentStatus.DECLINED,
              reason: DeclineReason.CODE_INVALID,
            });
            total++;
          }
          perDay.push(passwordFree);
          if ((await stepUpUntil()).revokedAt !== null) break;
        }
        expect(Math.max(...perDay)).toBeLessThanOrEqual(walletStepUpFailures);
        expect(perDay[0]).toBe(walletStepUpFailures);
        // [SEC-13] Blocked at exactly 256 guesses: its genuine codes decline WALLET_REVOKED.
        expect(total).toBe(walletBlockFailures);
        const after = await f.merchant();
        expect((await f.scan(after, f.onlineCode(victim), 100)).declineReason).toBe(
          DeclineReason.WALLET_REVOKED,
        );
        expect(audit.map((e) => e.type)).toContain("throttle.wallet-step-up");
        expect(audit.filter((e) => e.type === "throttle.wallet-blocked")).toHaveLength(1);
        expect(JSON.stringify(audit)).not.toContain(victim.provision.walletToken);
        // §12.3: 2^18 / 16 days ≈ 44.9 years expected per forged password-free code.
        const years = expectedInsiderForgeryDays(Math.max(...perDay)) / 365.25;
        expect(years).toBeCloseTo(44.86, 1);
        console.log(
          `insider bound (${name}): password-free guesses per day ${perDay.join(",")}; blocked after ${total}; expected forgery ${years.toFixed(1)} years (before: ${(2 ** 18 / 1000 / 60).toFixed(1)} min at 1000 guesses/s)`,
        );
      } finally {
        await f.close();
      }
    });

    it("step-up: a genuine payment of a wallet with 16 MAC failures today waits for the password, through the next UTC day", async () => {
      const f = await open();
      try {
        f.clock.set(Date.UTC(2030, 0, 15, 9, 0, 0));
        const m = await f.merchant();
        const w = await f.payer(10_000);
        const guess = new Guesser(f, w);
        for (let i = 0; i < walletStepUpFailures; i++)
          await tryScan(f.issuer, m, guess.code(), `s${i}`);
        expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(
          PaymentStatus.PENDING_CONFIRMATION,
        );
        f.clock.set(Date.UTC(2030, 0, 16, 23, 59, 59, 999));
        expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(
          PaymentStatus.PENDING_CONFIRMATION,
        );
        f.clock.set(Date.UTC(2030, 0, 17, 0, 0, 0));
        expect((await f.scan(m, f.onlineCode(w), 100)).status).toBe(PaymentStatus.SUCCEEDED);
      } finally {
        await f.close();
      }
    });

    it("retention: junk declines are pruned after 7 days of the issuer clock, counts stay; rows per 10,000 junk scans", async () => {
      const measure = async (throttle: boolean) => {
        const f = await open(throttle ? {} : { scanThrottle: null });
        try {
          f.clock.set(Date.UTC(2030, 0, 15, 10, 0, 0));
          const m = await f.merchant();
          const t0 = performance.now();
          let answered = 0;
          for (let i = 0; i < junkScans; i++) {
            const r = await tryScan(f.issuer, m, `junk ${i}`, `j-${i}`);
            if (!("retryAfter" in r)) answered++;
          }
          const seconds = (performance.now() - t0) / 1000;
          const rows = await paymentRows(f.store, m.merchantId);
          const junkRetained = await f.store.read((tx) =>
            tx.getPaymentByOutTradeNo(m.merchantId, "j-0"),
          );
          f.clock.advance(7 * DAY_MS);
          await f.issuer.pruneJunk();
          expect(await paymentRows(f.store, m.merchantId)).toBe(rows);
          f.clock.advance(1);
          const pruned = await f.issuer.pruneJunk();
          const counted = await f.store.read((tx) =>
            tx.merchantFailures(m.merchantId, Date.UTC(2030, 0, 15, 10, 0, 0)),
          );
          return {
            answered,
            perSecond: Math.round(answered / seconds),
            rows,
            pruned,
            rowsAfter: await paymentRows(f.store, m.merchantId),
            counted,
            retained: junkRetained !== undefined,
          };
        } finally {
          await f.close();
        }
      };
      const before = await measure(false);
      const after = await measure(true);
      console.log(
        `${junkScans} junk scans from one merchant (${name}): before ${JSON.stringify(before)}; after ${JSON.stringify(after)}`,
      );
      expect(before).toMatchObject({
        answered: junkScans,
        rows: junkScans,
        pruned: 0,
        rowsAfter: junkScans,
      });
      expect(after).toMatchObject({
        answered: merchantFailuresPerWindow,
        rows: merchantFailuresPerWindow,
        retained: true,
        pruned: expect.any(Number),
        rowsAfter: 0,
        counted: merchantFailuresPerWindow,
      });
    }, 120_000);
  });
}

describeGuessing("SQLite", 10_000, (o) => IssuerFixture.open(o));
// Any mutant sends Scan down the general path (ScanService.decide through Tx); one
// that breaks nothing Scan does checks that path counts and refuses as the store call does.
describeGuessing("SQLite, general path", 1_000, (o) =>
  IssuerFixture.open({ ...o, mutant: "leak-other-merchant-order" }),
);

const db = await createPostgresTestDb("scan throttle tests");
afterAll(() => db?.drop());

describe.skipIf(!db)("Scan throttles on PostgreSQL, two servers", () => {
  describeGuessing("PostgreSQL", 2_000, (o) => IssuerFixture.open({ ...o, url: db!.url }));
  describeGuessing("PostgreSQL, general path", 1_000, (o) =>
    IssuerFixture.open({ ...o, url: db!.url, mutant: "leak-other-merchant-order" }),
  );

  it("two servers on one database share the counts, and a restarted server keeps them", async () => {
    const f = await IssuerFixture.open({ url: db!.url });
    f.clock.set(Date.UTC(2030, 0, 15, 10, 0, 0));
    const second = async () => {
      const store = await openStore(db!.url);
      const issuer = await Issuer.open({
        store,
        clock: f.clock,
        masterKey: MASTER_KEY,
        passwordCostN: 2 ** 10,
      });
      return { store, issuer };
    };
    let b = await second();
    try {
      const m = await f.merchant();
      const mB = await b.issuer.authenticateMerchant(m.apiKey);
      const w = await f.payer(10_000);
      const guess = new Guesser(f, w);
      // Half the merchant's failures and half the wallet's MAC failures at each server, concurrently.
      const results = await Promise.all(
        Array.from({ length: merchantFailuresPerWindow }, (_, i) =>
          i % 2
            ? tryScan(f.issuer, m, i < 32 ? guess.code() : `junk ${i}`, `two-${i}`)
            : tryScan(
                b.issuer,
                { ...m, principal: mB },
                i < 32 ? guess.code() : `junk ${i}`,
                `two-${i}`,
              ),
        ),
      );
      expect(results.filter((r) => "retryAfter" in r)).toEqual([]);
      // The window is full for both servers.
      expect(await tryScan(f.issuer, m, "junk a", "after-a")).toHaveProperty("retryAfter");
      expect(await tryScan(b.issuer, { ...m, principal: mB }, "junk b", "after-b")).toHaveProperty(
        "retryAfter",
      );
      // A restarted second server still sees both throttles.
      await b.issuer.close();
      await b.store.close();
      b = await second();
      const mB2 = await b.issuer.authenticateMerchant(m.apiKey);
      expect(await tryScan(b.issuer, { ...m, principal: mB2 }, "junk c", "after-c")).toHaveProperty(
        "retryAfter",
      );
      // 16 MAC failures counted across both servers: step-up, seen by the restarted one.
      const other = await b.issuer.control.createMerchant(
        create(CreateMerchantRequestSchema, { name: "o" }),
      );
      const o = await b.issuer.authenticateMerchant(other.apiKey);
      const r = await b.issuer.scan(
        o,
        create(ScanRequestSchema, {
          outTradeNo: "genuine",
          amount: cny(100),
          code: f.onlineCode(w),
        }),
      );
      expect(r.payment!.status).toBe(PaymentStatus.PENDING_CONFIRMATION);
    } finally {
      await b.issuer.close();
      await b.store.close();
      await f.close();
    }
  });
});
