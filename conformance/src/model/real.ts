import { Code } from "@connectrpc/connect";
import type { CaseContext } from "../case.js";
import type { Account, Merchant, Terminal } from "../fixtures/fixtures.js";
import type { SimWallet } from "../fixtures/sim-wallet.js";
import { IdMap } from "./compare.js";
import { type Limits, type ModelState, newWallet } from "./state.js";

/** The target side of a model run: the fixtures the commands drive. */
export interface Real {
  readonly ctx: CaseContext;
  readonly account: Account;
  readonly merchant: Merchant;
  readonly terminal: Terminal | undefined;
  /** A second terminal of the merchant: duplicates across terminals (§10.3). */
  readonly terminalB: Terminal | undefined;
  /** Same indices as `ModelState.wallets`. */
  readonly wallets: SimWallet[];
  readonly ids: IdMap;
  /** Batch ids and record ids are the harness's, kept per model batch. */
  seq: number;
}

/** The account every run starts from: limits small enough that a few steps reach each of them. */
export const RUN_LIMITS: Limits = {
  perPaymentPasswordFree: 4_000n,
  dailyPasswordFreeAmount: 9_000n,
  dailyPasswordFreeCount: 3,
  perPaymentOffline: 3_000n,
  cumulativeOffline: 7_000n,
};
export const RUN_BALANCE = 15_000n;

/** Connect codes by the names the spec uses. */
export const CODE = {
  permission_denied: Code.PermissionDenied,
  failed_precondition: Code.FailedPrecondition,
  already_exists: Code.AlreadyExists,
} as const;

/**
 * Fresh fixtures and a fresh model for one run. The issuer clock is frozen
 * at `startMs` so every time the target reports is predictable to the
 * millisecond; clock commands move it by exact amounts.
 */
export async function setUpRun(
  ctx: CaseContext,
  startMs: number,
  offline: boolean,
): Promise<{ model: ModelState; real: Real }> {
  await ctx.clock.set(startMs);
  const account = await ctx.fixtures.account({ balance: RUN_BALANCE, limits: RUN_LIMITS });
  const [wallet, merchant] = await Promise.all([
    ctx.fixtures.wallet(account),
    ctx.fixtures.merchant(),
  ]);
  const terminal = offline ? await ctx.fixtures.terminal(merchant) : undefined;
  const terminalB = offline ? await ctx.fixtures.terminal(merchant) : undefined;
  const model: ModelState = {
    nowMs: startMs,
    currency: ctx.profile.currency,
    confirmationTimeoutSeconds: ctx.profile.confirmationTimeoutSeconds,
    maxKeyAgeSeconds: Number(ctx.profile.maxKeyAgeSeconds),
    limits: { ...RUN_LIMITS },
    payerBalance: RUN_BALANCE,
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
  newWallet(model);
  return {
    model,
    real: {
      ctx,
      account,
      merchant,
      terminal,
      terminalB,
      wallets: [wallet],
      ids: new IdMap(),
      seq: 0,
    },
  };
}
