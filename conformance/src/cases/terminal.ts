import { create } from "@bufbuild/protobuf";
import { OfflineCodeSchema, RecordOutcome } from "@paycode/protocol/v1";
import type { AcceptResult } from "@paycode/sdk";
import { type Case, type CaseContext, defineCase } from "../case.js";
import type { AccountSpec, Merchant } from "../fixtures/fixtures.js";
import { decodeOwnOfflineCode, encodeOfflineEnvelope } from "../fixtures/sim-wallet.js";
import { balances, OFFLINE, walletAndMerchant } from "./common.js";

/** A payer wallet, a merchant, a terminal of it and the reference terminal on that terminal's credentials (not synced). */
async function withReferenceTerminal(ctx: CaseContext, spec: AccountSpec) {
  const { wallet, merchant } = await walletAndMerchant(ctx, spec);
  const t = await ctx.fixtures.terminal(merchant);
  const terminal = await ctx.fixtures.referenceTerminal(t);
  return { wallet, merchant, t, terminal };
}

/** Two terminals of `merchant`, each driven by a reference terminal, both synced. */
async function twoSyncedReferenceTerminals(ctx: CaseContext, merchant: Merchant) {
  const [ta, tb] = await Promise.all([
    ctx.fixtures.terminal(merchant),
    ctx.fixtures.terminal(merchant),
  ]);
  const a = await ctx.fixtures.referenceTerminal(ta);
  const b = await ctx.fixtures.referenceTerminal(tb);
  await Promise.all([a.sync(), b.sync()]);
  return [a, b] as const;
}

function expectRefused(ctx: CaseContext, r: AcceptResult, reason: string, what: string): void {
  if (r.accepted)
    ctx.expect.fail(`${what}: the reference terminal accepted it, expected refusal ${reason}`);
  ctx.expect.equal(r.reason, reason, `${what}: refusal reason`);
}

function expectAccepted(ctx: CaseContext, r: AcceptResult, what: string): void {
  if (!r.accepted)
    ctx.expect.fail(`${what}: the reference terminal refused it (${r.reason}: ${r.message})`);
}

/**
 * The reference offline terminal, synced from the target: what the target
 * publishes (keys, revocation list, profile, certificates, sync time) must
 * let a conforming terminal make the right decisions, and what it accepts
 * must settle.
 */
export const terminalCases: Case[] = [
  defineCase({
    id: "terminal/accept-journal-upload-settle",
    title:
      "The reference terminal syncs, accepts codes offline, journals them and uploads; all settle",
    requirements: ["TERM-6", "TERM-7", "SETTLE-16", "AUTH-4", "SETTLE-1", "QR-7"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, terminal } = await withReferenceTerminal(ctx, {
        balance: 10_000n,
      });
      await terminal.sync();
      const money = (n: bigint) => ({ currency: ctx.profile.currency, amountMinor: n });
      expectAccepted(ctx, terminal.accept(wallet.offlineCode(), money(1_000n)), "first code");
      expectAccepted(ctx, terminal.accept(wallet.offlineCode(), money(500n)), "second code");
      ctx.expect.equal(terminal.records().length, 2, "journaled records before upload");
      const summary = await terminal.upload();
      ctx.expect.equal(
        summary.outcomes["SETTLED"] ?? 0,
        2,
        `SETTLED outcomes (got ${JSON.stringify(summary.outcomes)})`,
      );
      await balances(ctx, wallet, merchant, 8_500n, 1_500n, "after upload");
    },
  }),
  defineCase({
    id: "terminal/refuses-revoked-wallet",
    title:
      "After a revocation the synced reference terminal refuses the wallet's codes; a record uploaded anyway is REJECTED_REVOKED",
    requirements: ["TERM-3", "WALLET-7", "SETTLE-12", "SETTLE-2"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, t, terminal } = await withReferenceTerminal(ctx, {
        balance: 10_000n,
      });
      await wallet.client.revokeSeed({ reason: "stolen" });
      await terminal.sync();
      const code = wallet.offlineCode();
      expectRefused(
        ctx,
        terminal.accept(code, { currency: ctx.profile.currency, amountMinor: 100n }),
        "REVOKED",
        "code of a revoked wallet",
      );
      await t.sync();
      const r = await t.upload([t.record(code, 100n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_REVOKED,
        "the same code uploaded by a rogue terminal",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
  defineCase({
    id: "terminal/verifies-with-published-keys",
    title:
      "With the target's published keys the reference terminal accepts genuine codes and refuses forged ones, which also do not settle",
    requirements: ["TERM-2", "SETTLE-1", "QR-7", "VERIFY-7"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant, t, terminal } = await withReferenceTerminal(ctx, {
        balance: 10_000n,
      });
      await terminal.sync();
      const money = { currency: ctx.profile.currency, amountMinor: 300n };
      expectAccepted(ctx, terminal.accept(wallet.offlineCode(), money), "a genuine code");
      const d = decodeOwnOfflineCode(wallet.offlineCode());
      const sig = new Uint8Array(d.envelope.signature);
      sig[0] = (sig[0] ?? 0) ^ 0x80;
      const forged = encodeOfflineEnvelope(
        create(OfflineCodeSchema, { ...d.envelope, signature: sig }),
      );
      expectRefused(
        ctx,
        terminal.accept(forged, money),
        "SIGNATURE_INVALID",
        "a code with a forged wallet signature",
      );
      await t.sync();
      const r = await t.upload([t.record(forged, 300n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_INVALID,
        "the forged code uploaded by a rogue terminal",
      );
      await terminal.upload();
      await balances(ctx, wallet, merchant, 9_700n, 300n, "only the genuine code settled");
    },
  }),
  defineCase({
    id: "terminal/duplicate-at-two-terminals",
    title:
      "One terminal refuses a code it accepted before; a second terminal accepting it too is paid by the issuer at settlement",
    requirements: ["TERM-4", "SETTLE-20"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const [a, b] = await twoSyncedReferenceTerminals(ctx, merchant);
      const money = { currency: ctx.profile.currency, amountMinor: 400n };
      const code = wallet.offlineCode();
      expectAccepted(ctx, a.accept(code, money), "terminal A, first time");
      expectRefused(ctx, a.accept(code, money), "DUPLICATE", "terminal A, second time");
      expectAccepted(ctx, b.accept(code, money), "terminal B (cannot know)");
      const sa = await a.upload();
      const sb = await b.upload();
      ctx.expect.equal(sa.outcomes["SETTLED"] ?? 0, 1, "terminal A SETTLED count");
      ctx.expect.equal(
        sb.outcomes["SETTLED"] ?? 0,
        1,
        `terminal B SETTLED count (got ${JSON.stringify(sb.outcomes)})`,
      );
      ctx.expect.equal(sa.issuerLiable, 0, "terminal A issuer-liable count");
      ctx.expect.equal(sb.issuerLiable, 1, "terminal B issuer-liable count");
      await balances(ctx, wallet, merchant, 9_600n, 800n, "the payer paid once, the issuer once");
    },
  }),
  defineCase({
    id: "terminal/cumulative-limit-across-terminals",
    title:
      "Each terminal enforces the certificate's cumulative limit for what it saw; settlement enforces it across terminals",
    requirements: ["TERM-5", "SETTLE-15", "QR-6"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, {
        balance: 10_000n,
        limits: { perPaymentOffline: 1_000n, cumulativeOffline: 1_500n },
      });
      const [a, b] = await twoSyncedReferenceTerminals(ctx, merchant);
      const m = (n: bigint) => ({ currency: ctx.profile.currency, amountMinor: n });
      expectAccepted(ctx, a.accept(wallet.offlineCode(), m(1_000n)), "terminal A, 1000 of 1500");
      expectRefused(
        ctx,
        a.accept(wallet.offlineCode(), m(600n)),
        "CUMULATIVE_LIMIT",
        "terminal A, 1600 of 1500",
      );
      expectAccepted(
        ctx,
        b.accept(wallet.offlineCode(), m(600n)),
        "terminal B, its own 600 of 1500",
      );
      const sa = await a.upload();
      const sb = await b.upload();
      ctx.expect.equal(sa.outcomes["SETTLED"] ?? 0, 1, "terminal A SETTLED count");
      ctx.expect.equal(
        sb.outcomes["REJECTED_LIMIT"] ?? 0,
        1,
        `terminal B REJECTED_LIMIT count (got ${JSON.stringify(sb.outcomes)})`,
      );
      await balances(ctx, wallet, merchant, 9_000n, 1_000n, "after both uploads");
    },
  }),
  defineCase({
    id: "terminal/stale-keys",
    title:
      "A terminal whose key sync is older than max_key_age_seconds refuses codes; a record accepted that late is REJECTED_STALE_KEYS",
    requirements: ["TERM-1", "SETTLE-11", "SETTLE-2"],
    features: [...OFFLINE, "controllable-clock"],
    async run(ctx: CaseContext) {
      const { wallet, merchant, t, terminal } = await withReferenceTerminal(ctx, {
        balance: 10_000n,
      });
      await Promise.all([terminal.sync(), t.sync()]);
      await ctx.clock.advance(wallet.profile.maxKeyAgeSeconds + 120);
      const code = wallet.offlineCode();
      expectRefused(
        ctx,
        terminal.accept(code, { currency: ctx.profile.currency, amountMinor: 100n }),
        "STALE_KEYS",
        "code at a terminal whose keys are older than max_key_age_seconds",
      );
      const r = await t.upload([t.record(code, 100n)]);
      ctx.expect.outcome(
        r.results[0],
        RecordOutcome.REJECTED_STALE_KEYS,
        "the same code uploaded by a rogue terminal",
      );
      await balances(ctx, wallet, merchant, 10_000n, 0n, "nothing moved");
    },
  }),
];
