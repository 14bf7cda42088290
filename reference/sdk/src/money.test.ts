import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currencyExponent, formatAmount, parseAmount, parseMinorAmount, toMoney } from "./money.js";

describe("amount parsing", () => {
  it("parses CNY decimals exactly to fen", () => {
    expect(parseAmount("12.34", "CNY")).toBe(1234n);
    expect(parseAmount("12.3", "CNY")).toBe(1230n);
    expect(parseAmount("12", "CNY")).toBe(1200n);
    expect(parseAmount("0.01", "CNY")).toBe(1n);
    expect(parseAmount("0.29", "CNY")).toBe(29n); // 0.29 * 100 is 28.999999999999996 in floats
    expect(parseAmount("92233720368547758.07", "CNY")).toBe((1n << 63n) - 1n);
  });

  it("rejects more decimals than the currency has", () => {
    expect(() => parseAmount("12.345", "CNY")).toThrow(/2 decimal place/);
    expect(() => parseAmount("1.5", "JPY")).toThrow(/0 decimal place/);
  });

  it("rejects garbage, signs, exponents, zero and overflow", () => {
    for (const bad of ["", "abc", "-1", "+1", "1e3", "1.", ".5", "1,00", "0", "0.00", "Infinity"]) {
      expect(() => parseAmount(bad, "CNY"), bad).toThrow(RangeError);
    }
    expect(() => parseAmount("92233720368547758.08", "CNY")).toThrow(/too large/);
  });

  it("uses the ISO 4217 exponent", () => {
    expect(currencyExponent("JPY")).toBe(0);
    expect(parseAmount("1234", "JPY")).toBe(1234n);
    expect(currencyExponent("KWD")).toBe(3);
    expect(parseAmount("1.234", "KWD")).toBe(1234n);
    expect(currencyExponent("CNY")).toBe(2);
    expect(() => currencyExponent("cny")).toThrow(/3 upper-case/);
  });

  it("parses minor units", () => {
    expect(parseMinorAmount("1234")).toBe(1234n);
    expect(() => parseMinorAmount("12.34")).toThrow(RangeError);
    expect(() => parseMinorAmount("0")).toThrow(RangeError);
  });

  it("formats and round-trips", () => {
    expect(formatAmount(1234n, "CNY")).toBe("12.34");
    expect(formatAmount(5n, "CNY")).toBe("0.05");
    expect(formatAmount(-5n, "CNY")).toBe("-0.05");
    expect(formatAmount(1234n, "JPY")).toBe("1234");
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }),
        fc.constantFrom("CNY", "JPY", "KWD"),
        (n, c) => parseAmount(formatAmount(n, c), c) === n,
      ),
    );
  });

  it("builds Money only for positive amounts", () => {
    expect(toMoney({ currency: "CNY", amountMinor: 1n }).amountMinor).toBe(1n);
    expect(() => toMoney({ currency: "CNY", amountMinor: 0n })).toThrow(RangeError);
    expect(() => toMoney({ currency: "yen", amountMinor: 1n })).toThrow(RangeError);
  });
});
