import { describe, expect, it } from "vitest";
import {
  CODE128_PATTERNS,
  code128cModules,
  code128cSymbols,
  groupDigits,
  renderCode128,
} from "./barcode-render.js";

/** Independent decoder: modules → element widths → symbol values, by pattern lookup. */
function decode(modules: boolean[]): string {
  const widths: number[] = [];
  let run = 1;
  for (let i = 1; i <= modules.length; i++) {
    if (i < modules.length && modules[i] === modules[i - 1]) run++;
    else {
      widths.push(run);
      run = 1;
    }
  }
  const values: number[] = [];
  for (let i = 0; i + 6 <= widths.length; i += 6) {
    const pattern = widths.slice(i, i + 6).join("");
    if (values.length > 0 && widths.length - i === 7) break;
    values.push(CODE128_PATTERNS.indexOf(pattern));
  }
  expect(widths.slice(-7).join("")).toBe("2331112");
  expect(values[0]).toBe(105);
  const data = values.slice(1, -1);
  const check = values.at(-1)!;
  const sum = data.reduce((s, v, i) => s + v * (i + 1), 105);
  expect(sum % 103).toBe(check);
  return data.map((v) => String(v).padStart(2, "0")).join("");
}

describe("Code 128 set C", () => {
  it("has 107 well-formed, distinct patterns", () => {
    expect(CODE128_PATTERNS).toHaveLength(107);
    expect(new Set(CODE128_PATTERNS).size).toBe(107);
    for (const [i, p] of CODE128_PATTERNS.entries()) {
      const sum = [...p].reduce((s, d) => s + Number(d), 0);
      expect(sum).toBe(i === 106 ? 13 : 11);
    }
  });

  it("computes the check symbol", () => {
    // 105 + 1*12 + 2*34 + 3*56 = 353; 353 mod 103 = 44
    expect(code128cSymbols("123456")).toEqual([105, 12, 34, 56, 44, 106]);
  });

  it("round-trips 18-digit codes through modules", () => {
    for (const code of ["620000000000000000", "629999999999999999", "621234567890123456"]) {
      const modules = code128cModules(code);
      expect(modules).toHaveLength(11 + 9 * 11 + 11 + 13);
      expect(decode(modules)).toBe(code);
    }
  });

  it("rejects odd or non-digit input", () => {
    expect(() => code128cSymbols("123")).toThrow(RangeError);
    expect(() => code128cSymbols("12a4")).toThrow(RangeError);
    expect(() => code128cSymbols("")).toThrow(RangeError);
  });

  it("renders half-block rows with quiet zones and a grouped caption", () => {
    const text = renderCode128("621234567890123456", { height: 2 });
    const lines = text.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(lines[1]);
    expect(lines[0]!.length).toBe((134 + 20) / 2);
    // Dark-terminal default: quiet zone is light (blocks).
    expect(lines[0]!.startsWith("█████")).toBe(true);
    expect(lines[2]!.trim()).toBe("6212 3456 7890 1234 56");
    // Rendered glyphs decode back to the same modules.
    const glyphs = ["█", "▌", "▐", " "];
    const modules = [...lines[0]!].flatMap((g) => {
      const v = glyphs.indexOf(g);
      return [(v & 2) !== 0, (v & 1) !== 0];
    });
    expect(decode(modules.slice(10, 10 + 134))).toBe("621234567890123456");
  });

  it("groups digits 4-4-4-4-2", () => {
    expect(groupDigits("621234567890123456")).toBe("6212 3456 7890 1234 56");
  });
});
