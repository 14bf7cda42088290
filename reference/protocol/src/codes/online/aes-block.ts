import { createPlatformAes } from "#crypto";
import { AesTable } from "./aes-table.js";

/**
 * Where an {@link Ff1} gets its AES block function:
 * - "node": the platform AES of the `#crypto` backend — on Node.js
 *   node:crypto (OpenSSL), constant-time with AES-NI, ~0.7 µs per block,
 *   almost all of it the JS→C++ call; in browsers (no synchronous platform
 *   AES) the table implementation below.
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

/** An AES block cipher for a 16/24/32-byte key on the chosen backend. */
export function createAesBlockCipher(key: Uint8Array, backend: AesBackend): AesBlockCipher {
  if (backend === "node") return createPlatformAes(key);
  if (backend === "table") return new AesTable(key);
  throw new RangeError(`AES backend must be "node" or "table", got ${String(backend)}`);
}
