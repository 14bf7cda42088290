import { Code, ConnectError } from "@connectrpc/connect";
import { generateEd25519 } from "@paycode/protocol";
import { PaymentStatus, RecordOutcome } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import type { Account } from "../fixtures/fixtures.js";
import { RpcFailure } from "../rpc.js";
import { byId, OFFLINE } from "./common.js";

/**
 * The password throttle of §9.2 ([SEC-3], [SEC-15] … [SEC-18]) and the
 * terminal throttle of §10.2 ([SEC-21], [SEC-22]). Cases that let time pass
 * freeze the issuer clock ("settable-clock") and step it to the last
 * millisecond before each delay ends and to the end itself, so no verdict
 * depends on how fast the target answers.
 */

const SETTABLE = ["settable-clock"] as const;
const MINUTE = 60_000;
/** The delay after the n-th consecutive wrong password, n = 5 … 9 ([SEC-15]). */
const DELAYS_MS = [1, 2, 4, 8, 16].map((m) => m * MINUTE);

/** The Connect code of a call, or "ok". */
async function outcome(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (e) {
    return (e instanceof RpcFailure ? e.error : ConnectError.from(e)).code;
  }
}

const name = (c: Code | "ok") => (c === "ok" ? "ok" : Code[c]);

/** A ProvisionSeed attempt for `accountId`; a fresh key each time. */
function provision(ctx: CaseContext, accountId: string, password: string) {
  return ctx.raw.wallet().provisionSeed({
    accountId,
    password,
    walletPublicKey: generateEd25519().publicKey,
    deviceLabel: "throttle case",
  });
}

/** Freezes the issuer clock at a whole minute a day ahead, so delays never cross a day's time rules. */
async function freeze(ctx: CaseContext): Promise<number> {
  await ctx.clock.sync();
  const t = Math.floor(ctx.clock.nowMs() / MINUTE) * MINUTE + 86_400_000;
  await ctx.clock.set(t);
  return t;
}

/**
 * From the 5th consecutive wrong password at `t5`: checks each delay at its
 * last millisecond (refused with `resource_exhausted`, even the right
 * password) and makes the next wrong guess exactly at its end, through the
 * 10th. Returns the issuer time of the 10th wrong password.
 */
async function walkDelays(
  ctx: CaseContext,
  t5: number,
  attempt: (password: "right" | "wrong") => Promise<Code | "ok">,
  wrongCode: Code,
  what: string,
): Promise<number> {
  let t = t5;
  for (let i = 0; i < DELAYS_MS.length; i++) {
    const n = i + 5;
    await ctx.clock.set(t);
    ctx.expect.equal(
      name(await attempt("right")),
      "ResourceExhausted",
      `${what}: the right password right after wrong password ${n} (a delay of ${DELAYS_MS[i]! / MINUTE} min, password unchecked)`,
    );
    await ctx.clock.set(t + DELAYS_MS[i]! - 1);
    ctx.expect.equal(
      name(await attempt("right")),
      "ResourceExhausted",
      `${what}: the right password 1 ms before the delay after wrong password ${n} ends`,
    );
    t += DELAYS_MS[i]!;
    await ctx.clock.set(t);
    ctx.expect.equal(
      name(await attempt("wrong")),
      name(wrongCode),
      `${what}: wrong password ${n + 1}, exactly when the delay after wrong password ${n} ends`,
    );
  }
  return t;
}

export const passwordThrottleCases: Case[] = [
  defineCase({
    id: "throttling/password-free-attempts",
    title:
      "Four consecutive wrong passwords are answered as wrong and the right one then works; a right password resets the count, at ProvisionSeed and ConfirmPayment alike",
    requirements: ["SEC-17", "SEC-3", "PAY-7"],
    async run(ctx: CaseContext) {
      const account = await ctx.fixtures.account({
        balance: 100_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const merchant = await ctx.fixtures.merchant();
      const wrong = `${account.password}-wrong`;
      for (let round = 1; round <= 3; round++) {
        for (let i = 1; i <= 4; i++) {
          await ctx.expect.error(
            provision(ctx, account.accountId, wrong),
            Code.Unauthenticated,
            `round ${round}: ProvisionSeed with wrong password ${i} of 4`,
          );
        }
        // The 5th attempt in a row is checked: the right password provisions.
        const wallet = await ctx.fixtures.wallet(account);
        const p = await merchant.scan(wallet.onlineCode(), 2_000n);
        ctx.expect.pending(p, `round ${round}: Scan above the password-free limit`);
        for (let i = 1; i <= 4; i++) {
          await ctx.expect.error(
            wallet.client.confirmPayment({ paymentId: p.paymentId, password: wrong }),
            Code.PermissionDenied,
            `round ${round}: ConfirmPayment with wrong password ${i} of 4 after a right one`,
          );
        }
        const c = await wallet.client.confirmPayment({
          paymentId: p.paymentId,
          password: account.password,
        });
        ctx.expect.succeeded(
          ctx.expect.payment(c, "ConfirmPayment"),
          `round ${round}: ConfirmPayment with the right password after 4 wrong ones`,
        );
      }
    },
  }),
  defineCase({
    id: "throttling/password-delays-then-lock",
    title:
      "Wrong passwords 5 to 9 (ProvisionSeed and ConfirmPayment counted together) are each followed by a delay of 1, 2, 4, 8, 16 minutes refusing even the right password; the 10th locks the account for good",
    requirements: ["SEC-3", "SEC-15", "SEC-16", "SEC-17"],
    features: SETTABLE,
    timeoutMs: 60_000,
    async run(ctx: CaseContext) {
      const t0 = await freeze(ctx);
      const account = await ctx.fixtures.account({
        balance: 100_000n,
        limits: { perPaymentPasswordFree: 1_000n },
      });
      const merchant = await ctx.fixtures.merchant();
      const wallet = await ctx.fixtures.wallet(account);
      const p = await merchant.scan(wallet.onlineCode(), 2_000n);
      ctx.expect.pending(p, "Scan above the password-free limit");
      const wrong = `${account.password}-wrong`;
      // Wrong passwords 1–5: three at ProvisionSeed, two at ConfirmPayment, one count.
      for (let i = 1; i <= 3; i++) {
        await ctx.expect.error(
          provision(ctx, account.accountId, wrong),
          Code.Unauthenticated,
          `ProvisionSeed with wrong password ${i}`,
        );
      }
      for (let i = 4; i <= 5; i++) {
        await ctx.expect.error(
          wallet.client.confirmPayment({ paymentId: p.paymentId, password: wrong }),
          Code.PermissionDenied,
          `ConfirmPayment with wrong password ${i} (the count is the account's)`,
        );
      }
      const attempt = (pw: "right" | "wrong") =>
        outcome(provision(ctx, account.accountId, pw === "right" ? account.password : wrong));
      const t10 = await walkDelays(ctx, t0, attempt, Code.Unauthenticated, "ProvisionSeed");
      // Locked: the right password is refused, unchecked, at both RPCs, however long after.
      ctx.expect.equal(
        name(await attempt("right")),
        "FailedPrecondition",
        "ProvisionSeed with the right password after the 10th wrong one (locked)",
      );
      const q = await merchant.scan(wallet.onlineCode(), 2_000n);
      ctx.expect.pending(q, "Scan above the password-free limit on the locked account");
      await ctx.expect.error(
        wallet.client.confirmPayment({ paymentId: q.paymentId, password: account.password }),
        Code.FailedPrecondition,
        "ConfirmPayment with the right password on the locked account",
      );
      const g = ctx.expect.payment(
        await merchant.client.getPayment(byId(q.paymentId)),
        "GetPayment",
      );
      ctx.expect.equal(
        PaymentStatus[g.status],
        PaymentStatus[PaymentStatus.PENDING_CONFIRMATION],
        "status of the payment whose confirmation the lock refused",
      );
      await ctx.clock.set(t10 + 7 * 86_400_000);
      ctx.expect.equal(
        name(await attempt("right")),
        "FailedPrecondition",
        "ProvisionSeed with the right password 7 days after the lock",
      );
    },
  }),
  defineCase({
    id: "throttling/unknown-account-alike",
    title:
      "ProvisionSeed for an account id that names no account gets exactly the answers of an existing account: wrong, then delays, then the lock",
    requirements: ["SEC-18", "WALLET-1"],
    features: SETTABLE,
    timeoutMs: 60_000,
    async run(ctx: CaseContext) {
      const t0 = await freeze(ctx);
      const real: Account = await ctx.fixtures.account();
      const ghost = ctx.fixtures.uniqueId("no-such-account");
      const wrong = `${real.password}-wrong`;
      // Both ids get the same sequence at the same issuer times; the right password of the real
      // account is tried on the ghost too (it is just another wrong password there).
      const answers: Record<string, string[]> = { real: [], ghost: [] };
      const both = async (pw: "right" | "wrong") => {
        const r = await outcome(
          provision(ctx, real.accountId, pw === "right" ? real.password : wrong),
        );
        const g = await outcome(provision(ctx, ghost, wrong));
        answers.real!.push(name(r));
        answers.ghost!.push(name(g));
        // The real account's right password during a delay stands for any password.
        return pw === "right" ? g : r;
      };
      for (let i = 1; i <= 5; i++) {
        ctx.expect.equal(name(await both("wrong")), "Unauthenticated", `wrong password ${i}`);
      }
      await walkDelays(ctx, t0, both, Code.Unauthenticated, "ProvisionSeed of an unknown id");
      ctx.expect.equal(name(await both("wrong")), "FailedPrecondition", "after the 10th (locked)");
      ctx.expect.equal(
        answers.ghost!.join(","),
        answers.real!.join(","),
        "the unknown id's answers against the existing account's",
      );
    },
  }),
  defineCase({
    id: "throttling/terminal-rejections",
    title:
      "After 100 records rejected invalid or malformed within an hour, UploadOfflineBatch is refused with resource_exhausted, recording nothing, until the hour ends",
    requirements: ["SEC-21", "SETTLE-9"],
    features: [...SETTABLE, ...OFFLINE],
    async run(ctx: CaseContext) {
      const t0 = await freeze(ctx);
      const wallet = await ctx.fixtures.wallet({ balance: 10_000n });
      const merchant = await ctx.fixtures.merchant();
      const terminal = await ctx.fixtures.terminal(merchant);
      await terminal.sync();
      // 99 records with an empty code (REJECTED_INVALID, §10.2 rule 2), then 1 in a foreign
      // currency (REJECTED_MALFORMED, rule 1): 100 counted rejections at t0.
      const bad = Array.from({ length: 99 }, () => terminal.record("", 100n));
      const r1 = await terminal.upload(bad);
      ctx.expect.equal(
        r1.results.filter((r) => r.outcome === RecordOutcome.REJECTED_INVALID).length,
        99,
        "records with an empty code rejected REJECTED_INVALID",
      );
      const other = ctx.profile.currency === "XTS" ? "XXX" : "XTS";
      const r2 = await terminal.upload([terminal.record("", 100n, { currency: other })]);
      ctx.expect.equal(
        RecordOutcome[r2.results[0]!.outcome],
        RecordOutcome[RecordOutcome.REJECTED_MALFORMED],
        "a record in a foreign currency",
      );
      // The 100th counted rejection was decided in full; from now on the terminal is refused.
      const good = terminal.record(wallet.offlineCode(), 500n);
      const batchId = ctx.fixtures.uniqueId("batch");
      await ctx.expect.error(
        terminal.upload([good], batchId),
        Code.ResourceExhausted,
        "UploadOfflineBatch after 100 counted rejections",
      );
      await ctx.clock.set(t0 + 3_600_000 - 1);
      await ctx.expect.error(
        terminal.upload([good], batchId),
        Code.ResourceExhausted,
        "the same batch 1 ms before the hour ends",
      );
      await ctx.clock.set(t0 + 3_600_000);
      const r3 = await terminal.upload([good], batchId);
      ctx.expect.equal(
        RecordOutcome[r3.results[0]!.outcome],
        RecordOutcome[RecordOutcome.SETTLED],
        "the refused batch, uploaded again when the hour ends (nothing was recorded before)",
      );
    },
  }),
  defineCase({
    id: "throttling/terminal-replays-not-counted",
    title: "A batch answered from its stored results counts nothing toward the terminal throttle",
    requirements: ["SEC-22", "SETTLE-5"],
    features: OFFLINE,
    async run(ctx: CaseContext) {
      const wallet = await ctx.fixtures.wallet({ balance: 10_000n });
      const merchant = await ctx.fixtures.merchant();
      const terminal = await ctx.fixtures.terminal(merchant);
      await terminal.sync();
      const bad = Array.from({ length: 99 }, () => terminal.record("", 100n));
      const batchId = ctx.fixtures.uniqueId("batch");
      for (let i = 1; i <= 3; i++) {
        const r = await terminal.upload(bad, batchId);
        ctx.expect.equal(
          r.results.filter((x) => x.outcome === RecordOutcome.REJECTED_INVALID).length,
          99,
          `upload ${i} of one batch of 99 records with an empty code`,
        );
      }
      // 99 counted rejections: below the bound of 100, so the next batch is decided.
      const r = await terminal.upload([terminal.record(wallet.offlineCode(), 500n)]);
      ctx.expect.equal(
        RecordOutcome[r.results[0]!.outcome],
        RecordOutcome[RecordOutcome.SETTLED],
        "a genuine record after one batch of 99 rejections uploaded three times",
      );
    },
  }),
];
