import { createCipheriv } from "node:crypto";

/*
 * FF1 format-preserving encryption, NIST SP 800-38G, on node:crypto AES.
 *
 * Why not @noble/ciphers: its FF1 is correct but runs bigint arithmetic and a
 * JS AES per round (~20k ops/s). The online-code hot path needs one decrypt
 * per scan, so this implementation:
 * - keeps one `aes-*-ecb` Cipher per key (no padding, never finalised) and
 *   feeds it single 16-byte blocks through update(): ECB encryption with
 *   padding off emits every full block immediately and keeps no state between
 *   blocks, so repeated update() calls are independent AES-K(block) calls;
 * - caches CIPH_K(P), the first CBC-MAC block of the PRF, per (n, t): P
 *   depends only on radix, n and the tweak length, so when Q fits one block a
 *   Feistel round costs exactly one AES call;
 * - runs the Feistel rounds on doubles when radix^v ≤ 2^37 (e.g. radix 10,
 *   16 numerals: halves < 10^8), and on bigint otherwise.
 */

type EcbCipher = ReturnType<typeof createCipheriv>;

const BLOCK = 16;
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
/**
 * SP 800-38G Rev. 1 raised FF1's minimum domain to one million
 * (radix^minlen ≥ 10^6); the 2016 text allowed 100. We enforce the stricter rule.
 */
const MIN_DOMAIN = 1_000_000;
/** SP 800-38G: maxlen < 2^32. */
const MAX_LEN = 2 ** 32 - 1;
/** Numbers below this leave room for one more 16-bit chunk within 2^53 (y mod radix^m). */
const NUMBER_PATH_LIMIT = 2 ** 37;
/** Bounded so attacker-chosen tweak lengths cannot grow the cache without limit. */
const MAX_CACHED_SHAPES = 64;

/** Per (n, tweak length) constants of FF1 for one key and radix. */
interface Shape {
  readonly n: number;
  readonly t: number;
  readonly u: number;
  readonly v: number;
  /** Bytes of NUM_radix(B) in Q. */
  readonly b: number;
  /** Bytes of S taken as y. */
  readonly d: number;
  /** Bytes of Q, a multiple of 16. */
  readonly qLen: number;
  /** Q blocks before the one holding [i]: they hold only tweak and zero bytes. */
  readonly fixedBlocks: number;
  /** CIPH_K(P): the PRF's state after the constant first block. */
  readonly yP: Buffer;
  readonly numberPath: boolean;
  readonly modU: number;
  readonly modV: number;
  readonly bigModU: bigint;
  readonly bigModV: bigint;
}

/**
 * Output of the half-based fast path: [0] = NUM_radix of the first floor(n/2)
 * numerals, [1] = NUM_radix of the last ceil(n/2) numerals.
 */
export type Ff1Halves = Float64Array | number[];

function checkTweak(tweak: Uint8Array): void {
  if (!(tweak instanceof Uint8Array)) throw new TypeError("FF1 tweak must be a Uint8Array");
  if (tweak.length > MAX_LEN) throw new RangeError("FF1 tweak longer than 2^32 - 1 bytes");
}

/**
 * FF1 (NIST SP 800-38G) with AES-128/192/256 and radix 2..36.
 *
 * Numeral strings are given either as text over "0-9a-z" (lower case, digit
 * value = alphabet index) or as a Uint8Array of numeral values. Instances are
 * not re-entrant, which is safe because every method is synchronous.
 */
export class Ff1 {
  readonly radix: number;
  /** Smallest numeral-string length FF1 allows for this radix. */
  readonly minLength: number;
  readonly #ecb: EcbCipher;
  /** The one block handed to AES; reused by every call. */
  readonly #block = Buffer.alloc(BLOCK);
  readonly #shapes = new Map<string, Shape>();
  #lastShape: Shape | undefined;
  readonly #halves = new Float64Array(2);

  constructor(key: Uint8Array, radix: number) {
    if (!(key instanceof Uint8Array)) throw new TypeError("FF1 key must be a Uint8Array");
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new RangeError(`FF1 key must be 16, 24 or 32 bytes, got ${key.length}`);
    }
    if (!Number.isInteger(radix) || radix < 2 || radix > ALPHABET.length) {
      throw new RangeError(`FF1 radix must be an integer in 2..36, got ${radix}`);
    }
    this.radix = radix;
    let minLength = 0;
    for (let domain = 1; domain < MIN_DOMAIN; domain *= radix) minLength++;
    this.minLength = Math.max(2, minLength);
    this.#ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.#ecb.setAutoPadding(false);
  }

  /** FF1.Encrypt of a numeral string; returns the same format as text. */
  encrypt(tweak: Uint8Array, digits: Uint8Array | string): string {
    return this.#toText(this.#crypt(tweak, this.#numerals(digits), false));
  }

  /** FF1.Decrypt of a numeral string; returns the same format as text. */
  decrypt(tweak: Uint8Array, digits: Uint8Array | string): string {
    return this.#toText(this.#crypt(tweak, this.#numerals(digits), true));
  }

  /** FF1.Encrypt on numeral values (each < radix); returns a new array. */
  encryptNumerals(tweak: Uint8Array, numerals: Uint8Array): Uint8Array {
    return this.#crypt(tweak, this.#numerals(numerals), false);
  }

  /** FF1.Decrypt on numeral values (each < radix); returns a new array. */
  decryptNumerals(tweak: Uint8Array, numerals: Uint8Array): Uint8Array {
    return this.#crypt(tweak, this.#numerals(numerals), true);
  }

  /**
   * Allocation-free FF1.Encrypt of an n-numeral string given as the integer
   * values of its halves: `a` = NUM(X[0..u)), `b` = NUM(X[u..n)) with
   * u = floor(n/2). Writes the result's halves to `out`. Only for shapes with
   * radix^ceil(n/2) ≤ 2^37 (e.g. radix 10 up to 22 numerals).
   */
  encryptHalves(tweak: Uint8Array, n: number, a: number, b: number, out: Ff1Halves): void {
    this.#halvesPath(tweak, n, a, b, out, false);
  }

  /** Allocation-free FF1.Decrypt; see {@link Ff1.encryptHalves}. */
  decryptHalves(tweak: Uint8Array, n: number, a: number, b: number, out: Ff1Halves): void {
    this.#halvesPath(tweak, n, a, b, out, true);
  }

  /** True when {@link Ff1.encryptHalves} supports n numerals. */
  supportsHalves(n: number): boolean {
    return (
      Number.isInteger(n) &&
      n >= this.minLength &&
      n <= MAX_LEN &&
      this.radix ** (n - Math.floor(n / 2)) <= NUMBER_PATH_LIMIT
    );
  }

  #halvesPath(
    tweak: Uint8Array,
    n: number,
    a: number,
    b: number,
    out: Ff1Halves,
    decrypt: boolean,
  ): void {
    checkTweak(tweak);
    const shape = this.#shape(n, tweak.length);
    if (!shape.numberPath) {
      throw new RangeError(
        `FF1 halves path needs radix^ceil(n/2) <= 2^37 (radix ${this.radix}, n ${n})`,
      );
    }
    if (!(Number.isInteger(a) && a >= 0 && a < shape.modU)) {
      throw new RangeError("FF1 first half out of range");
    }
    if (!(Number.isInteger(b) && b >= 0 && b < shape.modV)) {
      throw new RangeError("FF1 second half out of range");
    }
    this.#numberRounds(shape, tweak, a, b, decrypt, out);
  }

  #numerals(digits: Uint8Array | string): Uint8Array {
    const radix = this.radix;
    if (typeof digits === "string") {
      const out = new Uint8Array(digits.length);
      for (let i = 0; i < digits.length; i++) {
        const c = digits.charCodeAt(i);
        // '0'..'9' → 0..9, 'a'..'z' → 10..35; anything else maps to ≥ radix.
        const value = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : 255;
        if (value >= radix) {
          throw new RangeError(`FF1 input has a character outside radix ${radix} at index ${i}`);
        }
        out[i] = value;
      }
      return out;
    }
    if (!(digits instanceof Uint8Array)) {
      throw new TypeError("FF1 input must be a string or Uint8Array");
    }
    for (let i = 0; i < digits.length; i++) {
      if (digits[i]! >= radix) {
        throw new RangeError(`FF1 numeral ${digits[i]} at index ${i} is not below radix ${radix}`);
      }
    }
    return digits;
  }

  #toText(numerals: Uint8Array): string {
    let s = "";
    for (let i = 0; i < numerals.length; i++) s += ALPHABET[numerals[i]!];
    return s;
  }

  #shape(n: number, t: number): Shape {
    const last = this.#lastShape;
    if (last !== undefined && last.n === n && last.t === t) return last;
    if (!Number.isInteger(n) || n < this.minLength || n > MAX_LEN) {
      throw new RangeError(
        `FF1 input length must be ${this.minLength}..${MAX_LEN} for radix ${this.radix}, got ${n}`,
      );
    }
    const key = `${n},${t}`;
    let shape = this.#shapes.get(key);
    if (shape === undefined) {
      shape = this.#makeShape(n, t);
      if (this.#shapes.size >= MAX_CACHED_SHAPES) this.#shapes.clear();
      this.#shapes.set(key, shape);
    }
    this.#lastShape = shape;
    return shape;
  }

  #makeShape(n: number, t: number): Shape {
    const radix = this.radix;
    const u = Math.floor(n / 2);
    const v = n - u;
    const bigRadix = BigInt(radix);
    const bigModU = bigRadix ** BigInt(u);
    const bigModV = bigRadix ** BigInt(v);
    // b = ceil(ceil(v·log2(radix)) / 8) = bytes of radix^v − 1, computed exactly.
    const b = Math.ceil((bigModV - 1n).toString(2).length / 8);
    const d = 4 * Math.ceil(b / 4) + 4;
    const pad = (((-t - b - 1) % BLOCK) + BLOCK) % BLOCK;
    const qLen = t + pad + 1 + b;
    const fixedBlocks = Math.floor((qLen - b - 1) / BLOCK);
    // P = [1]1 || [2]1 || [1]1 || [radix]3 || [10]1 || [u mod 256]1 || [n]4 || [t]4
    const p = Buffer.alloc(BLOCK);
    p[0] = 1;
    p[1] = 2;
    p[2] = 1;
    p.writeUIntBE(radix, 3, 3);
    p[6] = 10;
    p[7] = u % 256;
    p.writeUInt32BE(n, 8);
    p.writeUInt32BE(t, 12);
    const yP = Buffer.from(this.#aes(p));
    const numberPath = bigModV <= BigInt(NUMBER_PATH_LIMIT);
    return {
      n,
      t,
      u,
      v,
      b,
      d,
      qLen,
      fixedBlocks,
      yP,
      numberPath,
      modU: numberPath ? Number(bigModU) : 0,
      modV: numberPath ? Number(bigModV) : 0,
      bigModU,
      bigModV,
    };
  }

  /** One AES block. Returns a fresh Buffer; `block` may be reused by the caller. */
  #aes(block: Buffer): Buffer {
    return this.#ecb.update(block);
  }

  /**
   * The PRF state after P and the constant Q blocks (tweak and padding only),
   * so that each round only processes the block(s) holding [i] || NUM(B).
   */
  #chain(shape: Shape, tweak: Uint8Array): Buffer {
    let y = shape.yP;
    const blk = this.#block;
    for (let k = 0; k < shape.fixedBlocks; k++) {
      const off = k * BLOCK;
      for (let j = 0; j < BLOCK; j++) {
        const q = off + j < tweak.length ? tweak[off + j]! : 0;
        blk[j] = y[j]! ^ q;
      }
      y = this.#aes(blk);
    }
    return y;
  }

  #crypt(tweak: Uint8Array, x: Uint8Array, decrypt: boolean): Uint8Array {
    checkTweak(tweak);
    const shape = this.#shape(x.length, tweak.length);
    if (shape.numberPath) {
      const a = numToNumber(x, 0, shape.u, this.radix);
      const b = numToNumber(x, shape.u, x.length, this.radix);
      const out = this.#halves;
      this.#numberRounds(shape, tweak, a, b, decrypt, out);
      const res = new Uint8Array(x.length);
      numberToNumerals(out[0]!, res, 0, shape.u, this.radix);
      numberToNumerals(out[1]!, res, shape.u, x.length, this.radix);
      return res;
    }
    return this.#bigintRounds(shape, tweak, x, decrypt);
  }

  /**
   * The Feistel rounds on doubles. Q lies in one block here (b ≤ 5), so a
   * round is: fill [i] || NUM(B) into the block, one AES call, y mod radix^m.
   */
  #numberRounds(
    shape: Shape,
    tweak: Uint8Array,
    a: number,
    b: number,
    decrypt: boolean,
    out: Ff1Halves,
  ): void {
    const { b: nb, d, modU, modV } = shape;
    const blk = this.#block;
    const chain = shape.fixedBlocks === 0 ? shape.yP : this.#chain(shape, tweak);
    // The last Q block XOR the chain state, with [i] and NUM(B) still zero.
    const tailStart = shape.fixedBlocks * BLOCK;
    const tweakLen = tweak.length;
    for (let j = 0; j < BLOCK; j++) {
      const pos = tailStart + j;
      blk[j] = chain[j]! ^ (pos < tweakLen ? tweak[pos]! : 0);
    }
    const iPos = BLOCK - nb - 1;
    const iBase = blk[iPos]!;
    // Saved so each round can XOR in a fresh NUM(B) (at most 5 bytes).
    const n0 = blk[11]!;
    const n1 = blk[12]!;
    const n2 = blk[13]!;
    const n3 = blk[14]!;
    const n4 = blk[15]!;
    let A = a;
    let B = b;
    for (let r = 0; r < 10; r++) {
      const i = decrypt ? 9 - r : r;
      // Encrypt feeds NUM(B) into the PRF; decrypt feeds NUM(A).
      let num = decrypt ? A : B;
      blk[iPos] = iBase ^ i;
      // Low bytes first; `num & 255` is exact for num < 2^37 (ToInt32 keeps the low 32 bits).
      let low = num & 255;
      blk[15] = n4 ^ low;
      num = (num - low) / 256;
      if (nb >= 2) {
        low = num & 255;
        blk[14] = n3 ^ low;
        num = (num - low) / 256;
      }
      if (nb >= 3) {
        low = num & 255;
        blk[13] = n2 ^ low;
        num = (num - low) / 256;
      }
      if (nb >= 4) {
        low = num & 255;
        blk[12] = n1 ^ low;
        num = (num - low) / 256;
      }
      if (nb >= 5) blk[11] = n0 ^ (num & 255);
      const R = this.#aes(blk);
      const m = (i & 1) === 0 ? modU : modV;
      // y mod radix^m over 16-bit chunks: y·65536 + 65535 < 2^53 since m-modulus ≤ 2^37.
      let y = 0;
      for (let k = 0; k < d; k += 2) y = (y * 65536 + ((R[k]! << 8) | R[k + 1]!)) % m;
      if (decrypt) {
        const c = (B - y + m) % m;
        B = A;
        A = c;
      } else {
        const c = (A + y) % m;
        A = B;
        B = c;
      }
    }
    out[0] = A;
    out[1] = B;
  }

  /** The general Feistel rounds on bigint, with a full CBC-MAC over the varying Q blocks. */
  #bigintRounds(shape: Shape, tweak: Uint8Array, x: Uint8Array, decrypt: boolean): Uint8Array {
    const { u, b: nb, d, qLen, fixedBlocks, bigModU, bigModV } = shape;
    const radix = this.radix;
    const chain = this.#chain(shape, tweak);
    const tailStart = fixedBlocks * BLOCK;
    const tail = Buffer.alloc(qLen - tailStart);
    for (let j = tailStart; j < tweak.length; j++) tail[j - tailStart] = tweak[j]!;
    const iPos = tail.length - nb - 1;
    const blk = this.#block;
    let A = numToBigint(x, 0, u, radix);
    let B = numToBigint(x, u, x.length, radix);
    const s = Buffer.alloc(Math.ceil(d / BLOCK) * BLOCK);
    for (let r = 0; r < 10; r++) {
      const i = decrypt ? 9 - r : r;
      tail[iPos] = i;
      let num = decrypt ? A : B;
      for (let k = tail.length - 1; k > iPos; k--) {
        tail[k] = Number(num & 255n);
        num >>= 8n;
      }
      let y = chain;
      for (let off = 0; off < tail.length; off += BLOCK) {
        for (let j = 0; j < BLOCK; j++) blk[j] = y[j]! ^ tail[off + j]!;
        y = this.#aes(blk);
      }
      // S = R || CIPH(R ⊕ [1]16) || CIPH(R ⊕ [2]16) || …, first d bytes.
      y.copy(s, 0);
      for (let j = 1; j * BLOCK < d; j++) {
        y.copy(blk, 0);
        blk.writeUInt32BE((blk.readUInt32BE(12) ^ j) >>> 0, 12);
        this.#aes(blk).copy(s, j * BLOCK);
      }
      let yNum = 0n;
      for (let k = 0; k < d; k++) yNum = (yNum << 8n) | BigInt(s[k]!);
      const m = (i & 1) === 0 ? bigModU : bigModV;
      if (decrypt) {
        const c = (((B - yNum) % m) + m) % m;
        B = A;
        A = c;
      } else {
        const c = (A + yNum) % m;
        A = B;
        B = c;
      }
    }
    const res = new Uint8Array(x.length);
    bigintToNumerals(A, res, 0, u, radix);
    bigintToNumerals(B, res, u, x.length, radix);
    return res;
  }
}

function numToNumber(x: Uint8Array, from: number, to: number, radix: number): number {
  let acc = 0;
  for (let i = from; i < to; i++) acc = acc * radix + x[i]!;
  return acc;
}

function numberToNumerals(
  value: number,
  out: Uint8Array,
  from: number,
  to: number,
  radix: number,
): void {
  let rest = value;
  for (let i = to - 1; i >= from; i--) {
    const digit = rest % radix;
    out[i] = digit;
    rest = (rest - digit) / radix;
  }
}

/** Numerals per double-precision chunk: radix^k must stay below 2^53. */
function chunkDigits(radix: number): number {
  let k = 0;
  for (let p = 1; p * radix <= 2 ** 53; p *= radix) k++;
  return k;
}

function numToBigint(x: Uint8Array, from: number, to: number, radix: number): bigint {
  const k = chunkDigits(radix);
  const bigChunk = BigInt(radix) ** BigInt(k);
  let acc = 0n;
  let i = from;
  const head = (to - from) % k;
  if (head > 0) {
    acc = BigInt(numToNumber(x, i, i + head, radix));
    i += head;
  }
  for (; i < to; i += k) acc = acc * bigChunk + BigInt(numToNumber(x, i, i + k, radix));
  return acc;
}

function bigintToNumerals(
  value: bigint,
  out: Uint8Array,
  from: number,
  to: number,
  radix: number,
): void {
  const k = chunkDigits(radix);
  const bigChunk = BigInt(radix) ** BigInt(k);
  let rest = value;
  let i = to;
  while (i > from) {
    const width = Math.min(k, i - from);
    const chunk = Number(rest % bigChunk);
    rest /= bigChunk;
    numberToNumerals(chunk, out, i - width, i, radix);
    i -= width;
  }
}
