import { create } from "@bufbuild/protobuf";
import { type WalletLimits, WalletLimitsSchema } from "@paycode/protocol/v1";
import type { DailyUsage, LimitsRecord } from "../store/records.js";
import { money } from "./to-proto.js";
import { invalidArgument } from "./validation.js";

export type Limits = LimitsRecord;

/**
 * [LIMIT-6] Limits from a request: fields left unset take `defaults`. Amounts must be
 * in the account currency and not negative; throws invalid_argument otherwise.
 */
export function limitsFromProto(
  proto: WalletLimits | undefined,
  defaults: Limits,
  currency: string,
): Limits {
  if (!proto) return { ...defaults };
  const amount = (field: keyof WalletLimits & string, fallback: bigint): bigint => {
    const m = proto[field] as { currency: string; amountMinor: bigint } | undefined;
    if (!m) return fallback;
    if (m.currency !== currency) {
      throw invalidArgument(`limits.${field}.currency must be ${currency}, got "${m.currency}"`);
    }
    if (m.amountMinor < 0n)
      throw invalidArgument(`limits.${field}.amount_minor must not be negative`);
    return m.amountMinor;
  };
  return {
    perPaymentPasswordFree: amount("perPaymentPasswordFree", defaults.perPaymentPasswordFree),
    dailyPasswordFreeAmount: amount("dailyPasswordFreeAmount", defaults.dailyPasswordFreeAmount),
    // proto3 scalars have no presence: 0 means "unset".
    dailyPasswordFreeCount: proto.dailyPasswordFreeCount || defaults.dailyPasswordFreeCount,
    perPaymentOffline: amount("perPaymentOffline", defaults.perPaymentOffline),
    cumulativeOffline: amount("cumulativeOffline", defaults.cumulativeOffline),
  };
}

export function limitsToProto(l: Limits, currency: string): WalletLimits {
  return create(WalletLimitsSchema, {
    perPaymentPasswordFree: money(l.perPaymentPasswordFree, currency),
    dailyPasswordFreeAmount: money(l.dailyPasswordFreeAmount, currency),
    dailyPasswordFreeCount: l.dailyPasswordFreeCount,
    perPaymentOffline: money(l.perPaymentOffline, currency),
    cumulativeOffline: money(l.cumulativeOffline, currency),
  });
}

export type StepUpReason = "per-payment" | "daily-amount" | "daily-count";

/**
 * Why a payment of `amount` needs the password, given today's succeeded
 * password-free usage; undefined when it may go through without it.
 * Equality with a limit does not trigger step-up (§9.1).
 */
export function stepUpReason(
  l: Limits,
  usage: DailyUsage,
  amount: bigint,
): StepUpReason | undefined {
  if (amount > l.perPaymentPasswordFree) return "per-payment"; // [LIMIT-1]
  if (usage.amount + amount > l.dailyPasswordFreeAmount) return "daily-amount"; // [LIMIT-2]
  if (usage.count + 1 > l.dailyPasswordFreeCount) return "daily-count"; // [LIMIT-3]
  return undefined;
}
