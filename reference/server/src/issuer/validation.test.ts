import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { characterCount, isForbiddenInText, requireFreeText } from "./validation.js";

const code = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return e instanceof ConnectError ? e.code : "not a ConnectError";
  }
  return "no error";
};

describe("free text (§7.1)", () => {
  it("counts characters as code points", () => {
    expect(characterCount("€😀")).toBe(2);
    expect("€😀".length).toBe(3);
    expect(characterCount("")).toBe(0);
  });

  it("accepts 256 astral characters and refuses 257", () => {
    expect(code(() => requireFreeText("subject", "😀".repeat(256), 256))).toBe("no error");
    expect(code(() => requireFreeText("subject", "😀".repeat(257), 256))).toBe(
      Code.InvalidArgument,
    );
  });

  it.each([
    0x00, 0x09, 0x0a, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9f, 0x061c, 0x200e, 0x200f, 0x202a, 0x202e,
    0x2066, 0x2069,
  ])("refuses U+%s", (cp) => {
    expect(isForbiddenInText(cp)).toBe(true);
    expect(code(() => requireFreeText("reason", `a${String.fromCodePoint(cp)}b`, 256))).toBe(
      Code.InvalidArgument,
    );
  });

  it.each([0x20, 0x7e, 0xa0, 0xe9, 0x200d, 0x2065, 0x206a, 0x4eac, 0x1f600])(
    "accepts U+%s",
    (cp) => {
      expect(isForbiddenInText(cp)).toBe(false);
    },
  );

  it("names the refused character without echoing the text", () => {
    expect(() => requireFreeText("subject", "pay \u202eevil", 256)).toThrow(/U\+202E/);
  });
});
