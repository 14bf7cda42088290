import { createCipheriv } from "node:crypto";
import { FF1 } from "@noble/ciphers/ff1.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AesBackend } from "./aes-block.js";
import { Ff1 } from "./ff1.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

const KEY_128 = "2b7e151628aed2a6abf7158809cf4f3c";
const KEY_192 = `${KEY_128}ef4359d8d580aa4f`;
const KEY_256 = `${KEY_192}7f036d6f04fc6a94`;
const TWEAK_10 = "39383736353433323130";
const TWEAK_11 = "3737373770717273373737";

/** NIST SP 800-38G FF1 samples (csrc.nist.gov "FF1samples.pdf"). */
const NIST_SAMPLES = [
  { sample: 1, key: KEY_128, radix: 10, tweak: "", pt: "0123456789", ct: "2433477484" },
  { sample: 2, key: KEY_128, radix: 10, tweak: TWEAK_10, pt: "0123456789", ct: "6124200773" },
  {
    sample: 3,
    key: KEY_128,
    radix: 36,
    tweak: TWEAK_11,
    pt: "0123456789abcdefghi",
    ct: "a9tv40mll9kdu509eum",
  },
  { sample: 4, key: KEY_192, radix: 10, tweak: "", pt: "0123456789", ct: "2830668132" },
  { sample: 5, key: KEY_192, radix: 10, tweak: TWEAK_10, pt: "0123456789", ct: "2496655549" },
  {
    sample: 6,
    key: KEY_192,
    radix: 36,
    tweak: TWEAK_11,
    pt: "0123456789abcdefghi",
    ct: "xbj3kv35jrawxv32ysr",
  },
  { sample: 7, key: KEY_256, radix: 10, tweak: "", pt: "0123456789", ct: "6657667009" },
  { sample: 8, key: KEY_256, radix: 10, tweak: TWEAK_10, pt: "0123456789", ct: "1001623463" },
  {
    sample: 9,
    key: KEY_256,
    radix: 36,
    tweak: TWEAK_11,
    pt: "0123456789abcdefghi",
    ct: "xs8a0azh2avyalyzuwd",
  },
];

const BACKENDS: readonly AesBackend[] = ["node", "table"];
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
const toNumerals = (s: string): number[] => [...s].map((c) => ALPHABET.indexOf(c));
const toText = (x: ArrayLike<number>): string => Array.from(x, (d) => ALPHABET[d]).join("");

describe.each(BACKENDS)("FF1 NIST SP 800-38G samples, AES backend %s", (aes) => {
  for (const s of NIST_SAMPLES) {
    it(`sample ${s.sample}: AES-${s.key.length * 4}, radix ${s.radix}`, () => {
      const ff1 = new Ff1(hex(s.key), s.radix, { aes });
      expect(ff1.aes).toBe(aes);
      expect(ff1.encrypt(hex(s.tweak), s.pt)).toBe(s.ct);
      expect(ff1.decrypt(hex(s.tweak), s.ct)).toBe(s.pt);
      // The expected values themselves agree with an independent implementation.
      const noble = FF1(s.radix, hex(s.key), hex(s.tweak));
      expect(toText(noble.encrypt(toNumerals(s.pt)))).toBe(s.ct);
    });
  }
});

describe("node:crypto ECB block reuse", () => {
  it("repeated update() on one unpadded ECB cipher is plain AES per block (FIPS-197 C.3)", () => {
    const cipher = createCipheriv(
      "aes-256-ecb",
      hex(`000102030405060708090a0b0c0d0e0f${"101112131415161718191a1b1c1d1e1f"}`),
      null,
    );
    cipher.setAutoPadding(false);
    const pt = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    for (let i = 0; i < 3; i++) {
      expect(cipher.update(pt).toString("hex")).toBe("8ea2b7ca516745bfeafc49904b496089");
    }
  });
});

/** Arbitrary (radix, key, tweak, numerals) with n from the FF1 minimum upward. */
function ff1Case(opts: { radix?: number; n?: number; maxExtra: number; maxTweak: number }) {
  const radixArb =
    opts.radix === undefined ? fc.integer({ min: 2, max: 36 }) : fc.constant(opts.radix);
  return radixArb.chain((radix) => {
    const minLength = new Ff1(new Uint8Array(16), radix).minLength;
    const nArb =
      opts.n === undefined
        ? fc.integer({ min: minLength, max: minLength + opts.maxExtra })
        : fc.constant(opts.n);
    return fc.record({
      radix: fc.constant(radix),
      key: fc.oneof(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
      ),
      tweak: fc.uint8Array({ maxLength: opts.maxTweak }),
      x: nArb.chain((n) =>
        fc.array(fc.integer({ min: 0, max: radix - 1 }), { minLength: n, maxLength: n }),
      ),
    });
  });
}

/** Both backends and @noble/ciphers agree on encrypt and decrypt; decrypt inverts encrypt. */
function checkAgainstNoble(c: {
  radix: number;
  key: Uint8Array;
  tweak: Uint8Array;
  x: number[];
}): void {
  const noble = FF1(c.radix, c.key, c.tweak);
  const nobleCt = noble.encrypt(c.x);
  const noblePt = noble.decrypt(c.x);
  for (const aes of BACKENDS) {
    const ours = new Ff1(c.key, c.radix, { aes });
    const ct = ours.encryptNumerals(c.tweak, Uint8Array.from(c.x));
    expect(Array.from(ct), aes).toEqual(nobleCt);
    expect(Array.from(ours.decryptNumerals(c.tweak, ct)), aes).toEqual(c.x);
    expect(Array.from(ours.decryptNumerals(c.tweak, Uint8Array.from(c.x))), aes).toEqual(noblePt);
  }
}

describe("FF1 on both AES backends equals @noble/ciphers FF1", () => {
  it("radix 10, 16 numerals, 2-byte tweak, AES-256 (the online-code shape)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 2, maxLength: 2 }),
        fc.stringMatching(/^\d{16}$/),
        (key, tweak, pt) => {
          const noble = FF1(10, key, tweak);
          const nobleCt = toText(noble.encrypt(toNumerals(pt)));
          const noblePt = toText(noble.decrypt(toNumerals(pt)));
          for (const aes of BACKENDS) {
            const ours = new Ff1(key, 10, { aes });
            const ct = ours.encrypt(tweak, pt);
            expect(ct, aes).toBe(nobleCt);
            expect(ours.decrypt(tweak, ct), aes).toBe(pt);
            expect(ours.decrypt(tweak, pt), aes).toBe(noblePt);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("any radix 2..36, short to medium lengths, tweaks 0..40 bytes (one- and multi-block Q)", () => {
    fc.assert(fc.property(ff1Case({ maxExtra: 30, maxTweak: 40 }), checkAgainstNoble), {
      numRuns: 300,
    });
  });

  it("the number path at its limit: radix^v close to 2^37, b = 5, d = 12", () => {
    const ff = new Ff1(new Uint8Array(16), 10);
    expect(ff.supportsHalves(22)).toBe(true);
    expect(ff.supportsHalves(23)).toBe(false);
    fc.assert(
      fc.property(
        fc.oneof(
          ff1Case({ radix: 10, n: 21, maxExtra: 0, maxTweak: 20 }),
          ff1Case({ radix: 10, n: 22, maxExtra: 0, maxTweak: 20 }),
          ff1Case({ radix: 36, n: 14, maxExtra: 0, maxTweak: 20 }),
          ff1Case({ radix: 2, n: 74, maxExtra: 0, maxTweak: 20 }),
        ),
        checkAgainstNoble,
      ),
      { numRuns: 100 },
    );
  });

  it("long inputs: S spans several blocks and NUM(B) spans several Q blocks", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          ff1Case({ radix: 10, n: 100, maxExtra: 0, maxTweak: 20 }),
          ff1Case({ radix: 36, n: 61, maxExtra: 0, maxTweak: 20 }),
          ff1Case({ radix: 2, n: 301, maxExtra: 0, maxTweak: 20 }),
          ff1Case({ maxExtra: 120, maxTweak: 20 }),
        ),
        checkAgainstNoble,
      ),
      { numRuns: 60 },
    );
  });

  it("decrypt(encrypt(x)) = x on the text API", () => {
    fc.assert(
      fc.property(
        ff1Case({ maxExtra: 40, maxTweak: 24 }),
        fc.constantFrom(...BACKENDS),
        (c, aes) => {
          const ff1 = new Ff1(c.key, c.radix, { aes });
          const text = toText(c.x);
          const ct = ff1.encrypt(c.tweak, text);
          expect(ct).toHaveLength(text.length);
          expect(ff1.decrypt(c.tweak, ct)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("FF1 halves fast path", () => {
  it("equals the numeral API for radix 10, 16 numerals", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 3 }),
        fc.integer({ min: 0, max: 99_999_999 }),
        fc.integer({ min: 0, max: 99_999_999 }),
        fc.constantFrom(...BACKENDS),
        (key, tweak, a, b, aes) => {
          const ff1 = new Ff1(key, 10, { aes });
          const pt = String(a).padStart(8, "0") + String(b).padStart(8, "0");
          const out = new Float64Array(2);
          ff1.encryptHalves(tweak, 16, a, b, out);
          const ct = String(out[0]).padStart(8, "0") + String(out[1]).padStart(8, "0");
          expect(ct).toBe(ff1.encrypt(tweak, pt));
          ff1.decryptHalves(tweak, 16, out[0]!, out[1]!, out);
          expect([out[0], out[1]]).toEqual([a, b]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reports which lengths it supports and rejects the rest", () => {
    const ff1 = new Ff1(new Uint8Array(32), 10);
    expect(ff1.supportsHalves(16)).toBe(true);
    expect(ff1.supportsHalves(22)).toBe(true);
    expect(ff1.supportsHalves(24)).toBe(false);
    expect(ff1.supportsHalves(5)).toBe(false);
    const out = [0, 0];
    expect(() => ff1.encryptHalves(new Uint8Array(0), 24, 0, 0, out)).toThrow(RangeError);
    expect(() => ff1.encryptHalves(new Uint8Array(0), 16, 1e8, 0, out)).toThrow(RangeError);
    expect(() => ff1.encryptHalves(new Uint8Array(0), 16, 0, -1, out)).toThrow(RangeError);
    expect(() => ff1.encryptHalves(new Uint8Array(0), 16, 0.5, 0, out)).toThrow(RangeError);
  });
});

describe("FF1 input validation", () => {
  it("rejects bad keys and radixes", () => {
    expect(() => new Ff1(new Uint8Array(31), 10)).toThrow(RangeError);
    expect(() => new Ff1(new Uint8Array(32), 1)).toThrow(RangeError);
    expect(() => new Ff1(new Uint8Array(32), 37)).toThrow(RangeError);
    expect(() => new Ff1(new Uint8Array(32), 10.5)).toThrow(RangeError);
  });

  it("defaults to the constant-time node backend and rejects unknown backends", () => {
    expect(new Ff1(new Uint8Array(32), 10).aes).toBe("node");
    expect(new Ff1(new Uint8Array(32), 10, {}).aes).toBe("node");
    expect(() => new Ff1(new Uint8Array(32), 10, { aes: "openssl" as AesBackend })).toThrow(
      RangeError,
    );
  });

  it("keeps its own copy of the key on both backends", () => {
    for (const aes of BACKENDS) {
      const key = hex(KEY_256);
      const ff1 = new Ff1(key, 10, { aes });
      key.fill(0);
      expect(ff1.encrypt(hex(TWEAK_10), "0123456789")).toBe("1001623463");
    }
  });

  it("enforces the minimum domain radix^n >= 10^6", () => {
    expect(new Ff1(new Uint8Array(16), 10).minLength).toBe(6);
    expect(new Ff1(new Uint8Array(16), 2).minLength).toBe(20);
    expect(new Ff1(new Uint8Array(16), 36).minLength).toBe(4);
    const ff1 = new Ff1(new Uint8Array(16), 10);
    expect(() => ff1.encrypt(new Uint8Array(0), "12345")).toThrow(RangeError);
    expect(ff1.encrypt(new Uint8Array(0), "123456")).toHaveLength(6);
  });

  it("rejects numerals outside the radix", () => {
    const ff1 = new Ff1(new Uint8Array(16), 10);
    expect(() => ff1.encrypt(new Uint8Array(0), "12345a")).toThrow(RangeError);
    expect(() => ff1.encrypt(new Uint8Array(0), "1234567 ")).toThrow(RangeError);
    expect(() => ff1.encryptNumerals(new Uint8Array(0), Uint8Array.of(1, 2, 3, 4, 5, 10))).toThrow(
      RangeError,
    );
    const ff36 = new Ff1(new Uint8Array(16), 36);
    expect(() => ff36.encrypt(new Uint8Array(0), "ABCDEF")).toThrow(RangeError);
  });
});
