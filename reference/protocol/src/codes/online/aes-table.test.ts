import { createCipheriv } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createAesBlockCipher } from "./aes-block.js";
import { AesTable } from "./aes-table.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const KEY_256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/** FIPS-197 Appendix B and C.1–C.3, SP 800-38A F.1.5 (ECB-AES256 block 1). */
const VECTORS = [
  {
    name: "FIPS-197 C.3 (AES-256)",
    key: KEY_256,
    pt: "00112233445566778899aabbccddeeff",
    ct: "8ea2b7ca516745bfeafc49904b496089",
  },
  {
    name: "SP 800-38A F.1.5 (AES-256)",
    key: "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    pt: "6bc1bee22e409f96e93d7e117393172a",
    ct: "f3eed1bdb5d2a03c064b5a7e3db181f8",
  },
  {
    name: "FIPS-197 C.2 (AES-192)",
    key: KEY_256.slice(0, 48),
    pt: "00112233445566778899aabbccddeeff",
    ct: "dda97ca4864cdfe06eaf70a0ec0d7191",
  },
  {
    name: "FIPS-197 C.1 (AES-128)",
    key: KEY_256.slice(0, 32),
    pt: "00112233445566778899aabbccddeeff",
    ct: "69c4e0d86a7b0430d8cdb78070b4c55a",
  },
  {
    name: "FIPS-197 Appendix B (AES-128)",
    key: "2b7e151628aed2a6abf7158809cf4f3c",
    pt: "3243f6a8885a308d313198a2e0370734",
    ct: "3925841d02dc09fbdc118597196a0b32",
  },
];

function nodeAes(key: Uint8Array, block: Uint8Array): string {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return toHex(c.update(block));
}

const words = (b: Uint8Array): [number, number, number, number] => {
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return [v.getInt32(0), v.getInt32(4), v.getInt32(8), v.getInt32(12)];
};

describe("AesTable known answers", () => {
  for (const v of VECTORS) {
    it(v.name, () => {
      const aes = new AesTable(hex(v.key));
      expect(aes.rounds).toBe(v.key.length / 8 + 6);
      const out = new Uint8Array(16);
      aes.encryptBlock(hex(v.pt), out);
      expect(toHex(out)).toBe(v.ct);
      const w = new Int32Array(4);
      aes.encryptWords(...words(hex(v.pt)), w);
      expect(Array.from(w)).toEqual(words(hex(v.ct)));
      expect(nodeAes(hex(v.key), hex(v.pt))).toBe(v.ct);
    });
  }
});

describe("AesTable equals node:crypto AES", () => {
  const keyArb = fc.oneof(
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.uint8Array({ minLength: 24, maxLength: 24 }),
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
  );
  const blockArb = fc.uint8Array({ minLength: 16, maxLength: 16 });

  it("on random keys and blocks, through both entry points and both backends", () => {
    fc.assert(
      fc.property(keyArb, fc.array(blockArb, { minLength: 1, maxLength: 4 }), (key, blocks) => {
        const aes = new AesTable(key);
        const viaFactory = createAesBlockCipher(key, "node");
        const w = new Int32Array(4);
        const out = new Uint8Array(16);
        const nodeOut = new Uint8Array(16);
        // Several blocks per key: the expanded key and scratch state must not carry over.
        for (const block of blocks) {
          const expected = nodeAes(key, block);
          aes.encryptBlock(block, out);
          expect(toHex(out)).toBe(expected);
          aes.encryptWords(...words(block), w);
          expect(Array.from(w)).toEqual(words(hex(expected)));
          viaFactory.encryptWords(...words(block), w);
          expect(Array.from(w)).toEqual(words(hex(expected)));
          viaFactory.encryptBlock(block, nodeOut);
          expect(toHex(nodeOut)).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("encrypts in place and at offsets", () => {
    fc.assert(
      fc.property(
        keyArb,
        fc.uint8Array({ minLength: 40, maxLength: 40 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 24 }),
        (key, buf, srcOff, dstOff) => {
          const expected = nodeAes(key, buf.subarray(srcOff, srcOff + 16));
          for (const backend of ["table", "node"] as const) {
            const aes = createAesBlockCipher(key, backend);
            const dst = new Uint8Array(40);
            aes.encryptBlock(buf, dst, srcOff, dstOff);
            expect(toHex(dst.subarray(dstOff, dstOff + 16))).toBe(expected);
            const same = Uint8Array.from(buf);
            aes.encryptBlock(same, same, srcOff, srcOff);
            expect(toHex(same.subarray(srcOff, srcOff + 16))).toBe(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keeps its own expanded copy of the key", () => {
    const key = hex(KEY_256);
    const aes = new AesTable(key);
    key.fill(0);
    const out = new Uint8Array(16);
    aes.encryptBlock(hex("00112233445566778899aabbccddeeff"), out);
    expect(toHex(out)).toBe("8ea2b7ca516745bfeafc49904b496089");
  });
});

describe("AesTable input validation", () => {
  it("rejects bad keys, out-of-range blocks and unknown backends", () => {
    expect(() => new AesTable(new Uint8Array(31))).toThrow(RangeError);
    expect(() => new AesTable(new Uint8Array(0))).toThrow(RangeError);
    expect(() => new AesTable("k".repeat(32) as unknown as Uint8Array)).toThrow(TypeError);
    for (const backend of ["table", "node"] as const) {
      const aes = createAesBlockCipher(new Uint8Array(32), backend);
      expect(() => aes.encryptBlock(new Uint8Array(15), new Uint8Array(16))).toThrow(RangeError);
      expect(() => aes.encryptBlock(new Uint8Array(16), new Uint8Array(16), 1)).toThrow(RangeError);
      expect(() => aes.encryptBlock(new Uint8Array(16), new Uint8Array(16), 0, -1)).toThrow(
        RangeError,
      );
    }
    expect(() => createAesBlockCipher(new Uint8Array(32), "wasm" as "node")).toThrow(RangeError);
  });
});
