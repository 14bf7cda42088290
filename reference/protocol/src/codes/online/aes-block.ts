import { createCipheriv } from "node:crypto";
import { AesTable } from "./aes-table.js";

/**
 * Where an {@link Ff1} gets its AES block function:
 * - "node": node:crypto (OpenSSL), constant-time with AES-NI; ~0.7 µs per
 *   block, almost all of it the JS→C++ call.
 * - "table": JS T-tables (the internal `AesTable`), allocation-free and several times
 *   faster per block, but NOT constant-time — only for keys that are not
 *   secret from anyone who could time it (spec/paycode.md §12.4).
 */
export type AesBackend = "node" | "table";

/** Single-block AES encryption under one key, as FF1's PRF needs it. */
export interface AesBlockCipher {
  /** AES of the block s0‖s1‖s2‖s3 (big-endian words); the result's words go to out[0..3]. */
  encryptWords(s0: number, s1: number, s2: number, s3: number, out: Int32Array): void;
  /** AES of src[srcOff..+16) into dst[dstOff..+16); the ranges may be the same. */
  encryptBlock(src: Uint8Array, dst: Uint8Array, srcOff?: number, dstOff?: number): void;
}

/**
 * node:crypto AES: one `aes-*-ecb` Cipher per key, padding off, never
 * finalised. ECB with padding off emits every full block at once and keeps
 * no state between blocks, so each update() of 16 bytes is one independent
 * AES-K(block). update() returns a fresh Buffer: one allocation per block.
 */
class NodeAes implements AesBlockCipher {
  readonly #ecb: ReturnType<typeof createCipheriv>;
  readonly #in = Buffer.alloc(16);

  constructor(key: Uint8Array) {
    this.#ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.#ecb.setAutoPadding(false);
  }

  encryptWords(s0: number, s1: number, s2: number, s3: number, out: Int32Array): void {
    const b = this.#in;
    b[0] = s0 >>> 24;
    b[1] = s0 >>> 16;
    b[2] = s0 >>> 8;
    b[3] = s0;
    b[4] = s1 >>> 24;
    b[5] = s1 >>> 16;
    b[6] = s1 >>> 8;
    b[7] = s1;
    b[8] = s2 >>> 24;
    b[9] = s2 >>> 16;
    b[10] = s2 >>> 8;
    b[11] = s2;
    b[12] = s3 >>> 24;
    b[13] = s3 >>> 16;
    b[14] = s3 >>> 8;
    b[15] = s3;
    const r = this.#ecb.update(b);
    out[0] = (r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!;
    out[1] = (r[4]! << 24) | (r[5]! << 16) | (r[6]! << 8) | r[7]!;
    out[2] = (r[8]! << 24) | (r[9]! << 16) | (r[10]! << 8) | r[11]!;
    out[3] = (r[12]! << 24) | (r[13]! << 16) | (r[14]! << 8) | r[15]!;
  }

  encryptBlock(src: Uint8Array, dst: Uint8Array, srcOff = 0, dstOff = 0): void {
    if (srcOff < 0 || srcOff + 16 > src.length || dstOff < 0 || dstOff + 16 > dst.length) {
      throw new RangeError("AES block out of bounds");
    }
    dst.set(this.#ecb.update(src.subarray(srcOff, srcOff + 16)), dstOff);
  }
}

/** An AES block cipher for a 16/24/32-byte key on the chosen backend. */
export function createAesBlockCipher(key: Uint8Array, backend: AesBackend): AesBlockCipher {
  if (backend === "node") return new NodeAes(key);
  if (backend === "table") return new AesTable(key);
  throw new RangeError(`AES backend must be "node" or "table", got ${String(backend)}`);
}
