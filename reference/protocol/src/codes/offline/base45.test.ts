import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase45, fromBase45, toBase45 } from "./base45.js";

/** Any UTF-16 code unit, lone surrogates included. */
const utf16Unit = fc.nat({ max: 0xffff }).map((c) => String.fromCharCode(c));

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : b);

describe("base45 (RFC 9285)", () => {
  // RFC 9285 §4.3 and §4.4 examples.
  it.each([
    ["AB", "BB8"],
    ["Hello!!", "%69 VD92EX0"],
    ["base-45", "UJCLQE7W581"],
    ["ietf!", "QED8WEX0"],
  ])("%s ↔ %s", (plain, encoded) => {
    expect(toBase45(utf8(plain))).toBe(encoded);
    expect(text(fromBase45(encoded))).toBe(plain);
  });

  it("handles the empty string and the value limits", () => {
    expect(toBase45(new Uint8Array(0))).toBe("");
    expect(fromBase45("")).toEqual(new Uint8Array(0));
    expect(toBase45(Uint8Array.of(0xff, 0xff))).toBe("FGW");
    expect(fromBase45("FGW")).toEqual(Uint8Array.of(0xff, 0xff));
    expect(toBase45(Uint8Array.of(0xff))).toBe("U5");
    expect(fromBase45("U5")).toEqual(Uint8Array.of(0xff));
    expect(toBase45(Uint8Array.of(0, 0))).toBe("000");
  });

  it.each([
    ["GGW", "triple 65536"],
    [":::", "triple 91124"],
    ["V5", "pair 256"],
    ["::", "pair 1979"],
    ["A", "length 1 mod 3"],
    ["BB8A", "length 1 mod 3"],
    ["bb8", "lower case"],
    ["BB\u00c8", "non-ASCII"],
    ["BB\u0138", "char code above 255"],
    ["BB\ud83d\ude00", "astral"],
    ["BB=", "outside the alphabet"],
    ["BB\u0000", "NUL"],
  ])("rejects %j (%s)", (bad) => {
    expect(fromBase45(bad)).toBeUndefined();
  });

  it("round-trips any bytes, and every accepted text re-encodes to itself", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(fromBase45(toBase45(bytes))).toEqual(bytes);
      }),
    );
    const alphabet = [..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 60 }), (chars) => {
        const s = chars.join("");
        const b = fromBase45(s);
        if (b !== undefined) expect(toBase45(b)).toBe(s);
      }),
    );
  });

  it("never throws on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: utf16Unit, maxLength: 40 }), (s) => {
        const b = fromBase45(s);
        expect(b === undefined || b instanceof Uint8Array).toBe(true);
      }),
    );
  });

  it("decodes from an offset", () => {
    expect(text(decodeBase45("PC1:QED8WEX0", 4))).toBe("ietf!");
    expect(decodeBase45("ab", 3)).toBeUndefined();
  });
});
