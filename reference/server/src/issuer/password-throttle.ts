import type { Tx } from "../store/store.js";
import type { IssuerContext } from "./issuer-context.js";
import { throttled } from "./throttled.js";
import { failedPrecondition } from "./validation.js";

/**
 * The payment-password throttle of §9.2 ([SEC-3], [SEC-15] … [SEC-18]).
 * Consecutive wrong passwords are counted per account id, ProvisionSeed and
 * ConfirmPayment together, in the store (so every server on one database
 * shares the count and a restart keeps it, [SEC-20]):
 *
 * - wrong passwords 1–4: answered as wrong, nothing else ([SEC-17]);
 * - after wrong password n = 5 … 9: every attempt is refused with
 *   `resource_exhausted`, unchecked, for 2^(n−5) minutes ([SEC-15]);
 * - after the 10th: refused with `failed_precondition`, unchecked, until an
 *   operator unlocks the account (`paycode account unlock`) ([SEC-16]);
 * - a right password sets the count to zero ([SEC-3]).
 *
 * An attempt counts as wrong BEFORE its password is checked (and the count
 * is cleared again if the password is right), so attempts sent in parallel
 * cannot all slip through before the first failure is written.
 */

/** Consecutive wrong passwords answered with no delay ([SEC-17]). */
export const PASSWORD_FREE_FAILURES = 4;
/** The consecutive wrong password that locks the account ([SEC-16]). */
export const PASSWORD_LOCK_FAILURES = 10;
/** The delay after the first throttled failure (the 5th); it doubles with each further one. */
export const PASSWORD_FIRST_DELAY_MS = 60_000;

/** [SEC-15] The delay after the `failures`-th consecutive wrong password (0 below the 5th). */
export function passwordDelayMs(failures: number, freeFailures = PASSWORD_FREE_FAILURES): number {
  if (failures <= freeFailures) return 0;
  return PASSWORD_FIRST_DELAY_MS * 2 ** (Math.min(failures, PASSWORD_LOCK_FAILURES - 1) - 5);
}

/** The error of a locked account ([SEC-16]); the same for unknown account ids ([SEC-18]). */
export function accountLocked() {
  return failedPrecondition(
    `account locked after ${PASSWORD_LOCK_FAILURES} consecutive wrong passwords; an operator must unlock it`,
  );
}

/** What `beginPasswordAttempt` decided. */
export interface PasswordAttempt {
  readonly accountId: string;
  /** The count with this attempt included (as if it were wrong). */
  readonly failures: number;
  /**
   * Set only by the password-delay-checks-password mutant: the attempt came
   * during a delay and was not counted; a wrong password is answered
   * `resource_exhausted` with this delay, a right one goes through.
   */
  readonly delayedMs?: number;
}

/**
 * Before a password check: refuses the attempt (throws) when the account is
 * locked or in a delay, else counts it as a failure and returns the count.
 * `known` is false for a ProvisionSeed of an account id that names no payer.
 */
export async function beginPasswordAttempt(
  ctx: IssuerContext,
  accountId: string,
  known: boolean,
): Promise<PasswordAttempt | undefined> {
  const { breaks } = ctx;
  // The throttle-known-accounts-only mutant answers unknown ids without a count ([SEC-18]).
  if (!known && breaks.throttleKnownAccountsOnly) return undefined;
  const free = breaks.passwordThrottleEarly ? PASSWORD_FREE_FAILURES - 1 : PASSWORD_FREE_FAILURES;
  const decided = await ctx.store.transaction(async (tx) => {
    await tx.lock(`password-failures:${accountId}`);
    const now = ctx.clock.now();
    const prior = await tx.getPasswordFailures(accountId);
    const failures = prior?.failures ?? 0;
    // [SEC-16] Locked: refused unchecked, whatever the password and however long ago.
    if (failures >= PASSWORD_LOCK_FAILURES && !breaks.noPasswordLock) {
      return { error: "locked" as const };
    }
    // [SEC-15] In a delay: refused unchecked, and not counted.
    if (prior && now < prior.retryAt && !breaks.noPasswordDelay) {
      if (breaks.passwordDelayChecksPassword) {
        return { ok: { accountId, failures, delayedMs: prior.retryAt - now } };
      }
      return { error: "delayed" as const, retryAfterMs: prior.retryAt - now };
    }
    const next = failures + 1;
    const delay = passwordDelayMs(next, free);
    await tx.putPasswordFailures({
      accountId,
      failures: next,
      retryAt: delay > 0 ? now + delay : 0,
      updatedAt: now,
    });
    return { ok: { accountId, failures: next } };
  });
  if ("ok" in decided) return decided.ok;
  if (decided.error === "locked") throw accountLocked();
  throw throttled("too many wrong passwords for this account", decided.retryAfterMs);
}

/**
 * After a wrong password: the count stands. Reports the transitions: the
 * first delay ([SEC-15]) and the lock ([SEC-16]).
 */
export async function passwordWasWrong(
  ctx: IssuerContext,
  attempt: PasswordAttempt | undefined,
  rpc: string,
): Promise<void> {
  if (!attempt) return;
  if (attempt.delayedMs !== undefined) {
    throw throttled("too many wrong passwords for this account", attempt.delayedMs);
  }
  const subject = { kind: "account", id: attempt.accountId };
  const at = ctx.clock.now();
  if (attempt.failures === PASSWORD_LOCK_FAILURES) {
    await ctx.audit.record({
      type: "account.locked",
      at,
      subject,
      detail: { rpc, failures: attempt.failures },
    });
  } else if (attempt.failures === PASSWORD_FREE_FAILURES + 1) {
    await ctx.audit.record({
      type: "throttle.password",
      at,
      subject,
      detail: { rpc, failures: attempt.failures, retryAfterMs: passwordDelayMs(attempt.failures) },
    });
  }
}

/** [SEC-3] After a right password, in the transaction that acts on it: the count goes back to zero. */
export async function passwordWasRight(
  ctx: IssuerContext,
  tx: Tx,
  attempt: PasswordAttempt | undefined,
): Promise<void> {
  if (!attempt || ctx.breaks.passwordCountNeverResets) return;
  await tx.lock(`password-failures:${attempt.accountId}`);
  await tx.clearPasswordFailures(attempt.accountId);
}

/**
 * An operator's unlock ([SEC-19]): forgets the account's wrong passwords,
 * ending a lock or a delay. Returns how many there were (0: nothing to do).
 */
export async function unlockAccount(
  ctx: Pick<IssuerContext, "store" | "clock" | "audit">,
  accountId: string,
  operator = "operator",
): Promise<number> {
  const failures = await ctx.store.transaction(async (tx) => {
    await tx.lock(`password-failures:${accountId}`);
    return tx.clearPasswordFailures(accountId);
  });
  if (failures > 0) {
    await ctx.audit.record({
      type: "account.unlocked",
      at: ctx.clock.now(),
      subject: { kind: "account", id: accountId },
      detail: { failures, locked: failures >= PASSWORD_LOCK_FAILURES, by: operator },
    });
  }
  return failures;
}
