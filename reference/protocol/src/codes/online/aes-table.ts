/*
 * AES encryption (FIPS-197) of single blocks in plain JavaScript with
 * precomputed T-tables, AES-128/192/256, encrypt direction only.
 *
 * NOT CONSTANT-TIME: table look-ups are indexed by key-dependent state, so
 * cache timing can reveal the key to an attacker who can time encryptions.
 * Use it only where the key is not secret from anyone able to mount such an
 * attack — for FF1 under K_code see spec/paycode.md §12.4. Every secret key
 * stays on node:crypto (OpenSSL, AES-NI).
 *
 * Why it exists: a node:crypto Cipher.update() call costs ~0.7 µs of fixed
 * JS→C++ overhead per block, several times the cost of the AES itself. FF1
 * needs ten dependent single-block encryptions per code, which cannot be
 * batched into one call; in JS they avoid the boundary and allocate nothing.
 *
 * Layout: state and round keys are big-endian 32-bit words (word j = bytes
 * 4j..4j+3 of the block, first byte most significant), as in FIPS-197 and
 * OpenSSL's aes_core.c. TE0..TE3 fold SubBytes, ShiftRows and MixColumns of
 * one byte into one word; 4 KiB in all, so they stay in L1 (the merged 64K-
 * entry tables of @noble/ciphers are 512 KiB).
 */

const SBOX = new Uint8Array(256);
const TE0 = new Int32Array(256);
const TE1 = new Int32Array(256);
const TE2 = new Int32Array(256);
const TE3 = new Int32Array(256);

/** Multiplication by x in GF(2^8) mod x^8 + x^4 + x^3 + x + 1. */
function xtime(a: number): number {
  return ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff;
}

(function buildTables(): void {
  // p walks the multiplicative group by powers of 3 while q walks it by
  // powers of 3^-1, so q = p^-1 at every step (FIPS-197 §5.1.1 inverse).
  let p = 1;
  let q = 1;
  do {
    p = p ^ xtime(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    // Affine transform: b ⊕ rotl(b,1) ⊕ rotl(b,2) ⊕ rotl(b,3) ⊕ rotl(b,4) ⊕ 0x63.
    const x = q ^ ((q << 1) | (q >>> 7)) ^ ((q << 2) | (q >>> 6)) ^ ((q << 3) | (q >>> 5));
    SBOX[p] = (x ^ ((q << 4) | (q >>> 4)) ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i]!;
    const s2 = xtime(s);
    const s3 = s2 ^ s;
    // Column [02 01 01 03]·s: byte i of the input ends up in row i of MixColumns.
    const w = (s2 << 24) | (s << 16) | (s << 8) | s3;
    TE0[i] = w;
    TE1[i] = (w >>> 8) | (w << 24);
    TE2[i] = (w >>> 16) | (w << 16);
    TE3[i] = (w >>> 24) | (w << 8);
  }
})();

function subWord(w: number): number {
  return (
    (SBOX[w >>> 24]! << 24) |
    (SBOX[(w >>> 16) & 255]! << 16) |
    (SBOX[(w >>> 8) & 255]! << 8) |
    SBOX[w & 255]!
  );
}

function readWord(b: Uint8Array, off: number): number {
  return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
}

function writeWord(b: Uint8Array, off: number, w: number): void {
  b[off] = w >>> 24;
  b[off + 1] = w >>> 16;
  b[off + 2] = w >>> 8;
  b[off + 3] = w;
}

/** FIPS-197 §5.2 key expansion: 4·(Nr + 1) big-endian round-key words. */
function expandKey(key: Uint8Array): Int32Array {
  const nk = key.length / 4;
  const rk = new Int32Array(4 * (nk + 7));
  for (let i = 0; i < nk; i++) rk[i] = readWord(key, 4 * i);
  let rcon = 1;
  for (let i = nk; i < rk.length; i++) {
    let t = rk[i - 1]!;
    if (i % nk === 0) {
      t = subWord((t << 8) | (t >>> 24)) ^ (rcon << 24);
      rcon = xtime(rcon);
    } else if (nk > 6 && i % nk === 4) {
      t = subWord(t);
    }
    rk[i] = rk[i - nk]! ^ t;
  }
  return rk;
}

/**
 * One AES key, expanded once; encrypts single blocks without allocating.
 * Not constant-time (see the file comment).
 */
export class AesTable {
  /** Nr: 10, 12 or 14. */
  readonly rounds: number;
  readonly #rk: Int32Array;
  readonly #words = new Int32Array(4);

  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array)) throw new TypeError("AES key must be a Uint8Array");
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
    }
    this.#rk = expandKey(key);
    this.rounds = key.length / 4 + 6;
  }

  /**
   * Encrypts the block s0‖s1‖s2‖s3 (big-endian words) and writes the four
   * big-endian words of the ciphertext to out[0..3].
   */
  encryptWords(s0: number, s1: number, s2: number, s3: number, out: Int32Array): void {
    const rk = this.#rk;
    const last = rk.length - 4;
    s0 ^= rk[0]!;
    s1 ^= rk[1]!;
    s2 ^= rk[2]!;
    s3 ^= rk[3]!;
    for (let k = 4; k < last; k += 4) {
      const t0 =
        TE0[s0 >>> 24]! ^
        TE1[(s1 >>> 16) & 255]! ^
        TE2[(s2 >>> 8) & 255]! ^
        TE3[s3 & 255]! ^
        rk[k]!;
      const t1 =
        TE0[s1 >>> 24]! ^
        TE1[(s2 >>> 16) & 255]! ^
        TE2[(s3 >>> 8) & 255]! ^
        TE3[s0 & 255]! ^
        rk[k + 1]!;
      const t2 =
        TE0[s2 >>> 24]! ^
        TE1[(s3 >>> 16) & 255]! ^
        TE2[(s0 >>> 8) & 255]! ^
        TE3[s1 & 255]! ^
        rk[k + 2]!;
      s3 =
        TE0[s3 >>> 24]! ^
        TE1[(s0 >>> 16) & 255]! ^
        TE2[(s1 >>> 8) & 255]! ^
        TE3[s2 & 255]! ^
        rk[k + 3]!;
      s0 = t0;
      s1 = t1;
      s2 = t2;
    }
    // Final round without MixColumns: each TEj holds the plain S-box value in
    // the byte lane it moves to, so masking it out replaces a separate table.
    out[0] =
      (TE2[s0 >>> 24]! & 0xff000000) ^
      (TE3[(s1 >>> 16) & 255]! & 0x00ff0000) ^
      (TE0[(s2 >>> 8) & 255]! & 0x0000ff00) ^
      (TE1[s3 & 255]! & 0x000000ff) ^
      rk[last]!;
    out[1] =
      (TE2[s1 >>> 24]! & 0xff000000) ^
      (TE3[(s2 >>> 16) & 255]! & 0x00ff0000) ^
      (TE0[(s3 >>> 8) & 255]! & 0x0000ff00) ^
      (TE1[s0 & 255]! & 0x000000ff) ^
      rk[last + 1]!;
    out[2] =
      (TE2[s2 >>> 24]! & 0xff000000) ^
      (TE3[(s3 >>> 16) & 255]! & 0x00ff0000) ^
      (TE0[(s0 >>> 8) & 255]! & 0x0000ff00) ^
      (TE1[s1 & 255]! & 0x000000ff) ^
      rk[last + 2]!;
    out[3] =
      (TE2[s3 >>> 24]! & 0xff000000) ^
      (TE3[(s0 >>> 16) & 255]! & 0x00ff0000) ^
      (TE0[(s1 >>> 8) & 255]! & 0x0000ff00) ^
      (TE1[s2 & 255]! & 0x000000ff) ^
      rk[last + 3]!;
  }

  /**
   * Encrypts the 16 bytes at src[srcOff..] into dst[dstOff..]; the two
   * ranges may be the same.
   */
  encryptBlock(src: Uint8Array, dst: Uint8Array, srcOff = 0, dstOff = 0): void {
    if (srcOff < 0 || srcOff + 16 > src.length || dstOff < 0 || dstOff + 16 > dst.length) {
      throw new RangeError("AES block out of bounds");
    }
    const w = this.#words;
    this.encryptWords(
      readWord(src, srcOff),
      readWord(src, srcOff + 4),
      readWord(src, srcOff + 8),
      readWord(src, srcOff + 12),
      w,
    );
    writeWord(dst, dstOff, w[0]!);
    writeWord(dst, dstOff + 4, w[1]!);
    writeWord(dst, dstOff + 8, w[2]!);
    writeWord(dst, dstOff + 12, w[3]!);
  }
}
