import { create } from "@bufbuild/protobuf";
import { type Money, MoneySchema } from "@paycode/protocol/v1";

/**
 * ISO 4217 minor-unit exponents that differ from the common 2. Listed
 * explicitly because a wrong exponent silently charges 100x too much or too
 * little.
 */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

const CURRENCY = /^[A-Z]{3}$/;
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const INT64_MAX = (1n << 63n) - 1n;

/** Throws unless `currency` is three upper-case ASCII letters. */
export function assertCurrency(currency: string): void {
  if (!CURRENCY.test(currency)) {
    throw new RangeError(
      `invalid currency ${JSON.stringify(currency)}: expected 3 upper-case letters`,
    );
  }
}

/** Number of minor-unit digits of an ISO 4217 currency (2 unless listed otherwise). */
export function currencyExponent(currency: string): number {
  assertCurrency(currency);
  return EXPONENTS[currency] ?? 2;
}

/**
 * Parses a decimal amount in major units ("12.34" CNY → 1234n) exactly,
 * without floating point. More fractional digits than the currency has, a
 * sign, exponent notation, zero or an amount beyond int64 are errors.
 */
export function parseAmount(text: string, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const m = DECIMAL.exec(text.trim());
  if (!m) {
    throw new RangeError(`invalid amount ${JSON.stringify(text)}: expected a decimal like 12.34`);
  }
  const whole = m[1]!;
  const fraction = m[2] ?? "";
  if (fraction.length > exponent) {
    throw new RangeError(
      `invalid amount ${JSON.stringify(text)}: ${currency} has ${exponent} decimal place(s)`,
    );
  }
  const minor =
    BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, "0") || "0");
  return checkPositive(minor, text);
}

/** Parses an amount given directly in minor units ("1234" → 1234n). */
export function parseMinorAmount(text: string): bigint {
  if (!/^\d+$/.test(text.trim())) {
    throw new RangeError(`invalid minor-unit amount ${JSON.stringify(text)}: expected digits only`);
  }
  return checkPositive(BigInt(text.trim()), text);
}

function checkPositive(minor: bigint, text: string): bigint {
  if (minor <= 0n) throw new RangeError(`invalid amount ${JSON.stringify(text)}: must be positive`);
  if (minor > INT64_MAX) throw new RangeError(`invalid amount ${JSON.stringify(text)}: too large`);
  return minor;
}

/** Formats minor units in major units with the currency's exponent: 1234n CNY → "12.34". */
export function formatAmount(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return (negative ? "-" : "") + whole + (exponent > 0 ? "." + fraction : "");
}

/** Formats a Money message as "12.34 CNY". */
export function formatMoney(money: { currency: string; amountMinor: bigint } | undefined): string {
  if (!money) return "(none)";
  return `${formatAmount(money.amountMinor, money.currency)} ${money.currency}`;
}

/** An amount as the clients take it: a Money message or its two fields. */
export type AmountInput = Money | { currency: string; amountMinor: bigint };

/** Builds a Money message after checking the currency and that the amount is positive. */
export function toMoney(amount: AmountInput): Money {
  assertCurrency(amount.currency);
  if (typeof amount.amountMinor !== "bigint") throw new TypeError("amountMinor must be a bigint");
  if (amount.amountMinor <= 0n) throw new RangeError("amount must be positive");
  return create(MoneySchema, { currency: amount.currency, amountMinor: amount.amountMinor });
}
