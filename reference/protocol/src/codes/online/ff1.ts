import { type AesBackend, type AesBlockCipher, createAesBlockCipher } from "./aes-block.js";

/*
 * FF1 format-preserving encryption, NIST SP 800-38G, with a pluggable AES
 * block function (see {@link AesBackend}).
 *
 * Why not @noble/ciphers: its FF1 is correct but runs bigint arithmetic and a
 * JS AES per round (~20k ops/s). The online-code hot path needs one decrypt
 * per scan, so this implementation:
 * - expands the key once and encrypts single blocks: on "node" through one
 *   reused `aes-*-ecb` Cipher, on "table" through JS T-tables;
 * - caches CIPH_K(P), the first CBC-MAC block of the PRF, per (n, t): P
 *   depends only on radix, n and the tweak length, so when Q fits one block a
 *   Feistel round costs exactly one AES call;
 * - runs the Feistel rounds on doubles and 32-bit words when radix^v ≤ 2^37
 *   (e.g. radix 10, 16 numerals: halves < 10^8), allocation-free on "table",
 *   and on bigint otherwise.
 */

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
const TWO_POW_32 = 2 ** 32;
const TWO_POW_MINUS_32 = 2 ** -32;

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
  readonly yP: Uint8Array;
  /** 256^b: [i] sits right above NUM(B) at the end of Q. */
  readonly iScale: number;
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

/** Options of {@link Ff1}. */
export interface Ff1Options {
  /** AES block function; default "node" (constant-time). See {@link AesBackend}. */
  aes?: AesBackend;
}

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
  /** Which AES block function this instance uses. */
  readonly aes: AesBackend;
  readonly #cipher: AesBlockCipher;
  /** AES input block; reused by every call. */
  readonly #block = new Uint8Array(BLOCK);
  /** PRF state after the constant Q blocks ({@link Ff1.#chain}). */
  readonly #state = new Uint8Array(BLOCK);
  /** R of the current round on the bigint path. */
  readonly #r = new Uint8Array(BLOCK);
  /** AES output words of the current round on the number path. */
  readonly #words = new Int32Array(4);
  readonly #shapes = new Map<string, Shape>();
  #lastShape: Shape | undefined;
  readonly #halves = new Float64Array(2);

  constructor(key: Uint8Array, radix: number, options: Ff1Options = {}) {
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
    this.aes = options.aes ?? "node";
    this.#cipher = createAesBlockCipher(key, this.aes);
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
    const p = new Uint8Array(BLOCK);
    p[0] = 1;
    p[1] = 2;
    p[2] = 1;
    p[5] = radix; // radix ≤ 36: the upper two bytes of [radix]3 are zero
    p[6] = 10;
    p[7] = u % 256;
    writeWord(p, 8, n);
    writeWord(p, 12, t);
    const yP = new Uint8Array(BLOCK);
    this.#cipher.encryptBlock(p, yP);
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
      iScale: 256 ** b,
      numberPath,
      modU: numberPath ? Number(bigModU) : 0,
      modV: numberPath ? Number(bigModV) : 0,
      bigModU,
      bigModV,
    };
  }

  /**
   * The PRF state after P and the constant Q blocks (tweak and padding only),
   * so that each round only processes the block(s) holding [i] || NUM(B).
   * Returns shape.yP or this.#state; valid until the next #chain call.
   */
  #chain(shape: Shape, tweak: Uint8Array): Uint8Array {
    let y = shape.yP;
    const blk = this.#block;
    for (let k = 0; k < shape.fixedBlocks; k++) {
      const off = k * BLOCK;
      for (let j = 0; j < BLOCK; j++) {
        const q = off + j < tweak.length ? tweak[off + j]! : 0;
        blk[j] = y[j]! ^ q;
      }
      this.#cipher.encryptBlock(blk, this.#state);
      y = this.#state;
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
   * The Feistel rounds on doubles and 32-bit words; allocates nothing beyond
   * what the AES backend does ("table": nothing). Here b ≤ 5 and d ≤ 12, so
   * [i] || NUM(B) and R's first d bytes lie in the last Q block: a round is
   * one AES call on that block ⊕ the chained PRF state, then y mod radix^m.
   */
  #numberRounds(
    shape: Shape,
    tweak: Uint8Array,
    a: number,
    b: number,
    decrypt: boolean,
    out: Ff1Halves,
  ): void {
    const { d, modU, modV, iScale } = shape;
    const aes = this.#cipher;
    const w = this.#words;
    // The last Q block ⊕ the chain state, with [i] and NUM(B) still zero.
    const blk = this.#block;
    const chain = shape.fixedBlocks === 0 ? shape.yP : this.#chain(shape, tweak);
    const tailStart = shape.fixedBlocks * BLOCK;
    const tweakLen = tweak.length;
    for (let j = 0; j < BLOCK; j++) {
      const pos = tailStart + j;
      blk[j] = chain[j]! ^ (pos < tweakLen ? tweak[pos]! : 0);
    }
    const c0 = readWord(blk, 0);
    const c1 = readWord(blk, 4);
    const c2 = readWord(blk, 8);
    const c3 = readWord(blk, 12);
    let A = a;
    let B = b;
    for (let r = 0; r < 10; r++) {
      const i = decrypt ? 9 - r : r;
      // Encrypt feeds NUM(B) into the PRF; decrypt feeds NUM(A). [i] || NUM
      // read as one big-endian integer is i·256^b + NUM < 10·2^40, exact in a
      // double, and spans the block's last two words.
      const tail = i * iScale + (decrypt ? A : B);
      const hi = Math.floor(tail * TWO_POW_MINUS_32);
      aes.encryptWords(c0, c1, c2 ^ hi, c3 ^ (tail - hi * TWO_POW_32), w);
      const m = (i & 1) === 0 ? modU : modV;
      // y = NUM(R[0..d)) mod radix^m, fed 16 bits at a time.
      let y = modSmall((w[0]! >>> 0) * 65536 + (w[1]! >>> 16), m);
      y = modSmall(y * 65536 + (w[1]! & 0xffff), m);
      if (d > 8) {
        y = modSmall(y * 65536 + (w[2]! >>> 16), m);
        y = modSmall(y * 65536 + (w[2]! & 0xffff), m);
      }
      // A, B, y < m: one conditional correction instead of another %.
      if (decrypt) {
        let c = B - y;
        if (c < 0) c += m;
        B = A;
        A = c;
      } else {
        let c = A + y;
        if (c >= m) c -= m;
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
    const aes = this.#cipher;
    const chain = this.#chain(shape, tweak);
    const tailStart = fixedBlocks * BLOCK;
    const tail = new Uint8Array(qLen - tailStart);
    for (let j = tailStart; j < tweak.length; j++) tail[j - tailStart] = tweak[j]!;
    const iPos = tail.length - nb - 1;
    const blk = this.#block;
    const R = this.#r;
    let A = numToBigint(x, 0, u, radix);
    let B = numToBigint(x, u, x.length, radix);
    const s = new Uint8Array(Math.ceil(d / BLOCK) * BLOCK);
    for (let r = 0; r < 10; r++) {
      const i = decrypt ? 9 - r : r;
      tail[iPos] = i;
      let num = decrypt ? A : B;
      for (let k = tail.length - 1; k > iPos; k--) {
        tail[k] = Number(num & 255n);
        num >>= 8n;
      }
      // The tail holds at least one block, so R is always written.
      let y = chain;
      for (let off = 0; off < tail.length; off += BLOCK) {
        for (let j = 0; j < BLOCK; j++) blk[j] = y[j]! ^ tail[off + j]!;
        aes.encryptBlock(blk, R);
        y = R;
      }
      // S = R || CIPH(R ⊕ [1]16) || CIPH(R ⊕ [2]16) || …, first d bytes.
      s.set(R, 0);
      for (let j = 1; j * BLOCK < d; j++) {
        blk.set(R);
        writeWord(blk, 12, readWord(blk, 12) ^ j);
        aes.encryptBlock(blk, s, 0, j * BLOCK);
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

/**
 * x mod m for integers 0 ≤ x, 1 ≤ m with x < 65536·m ≤ 2^53 (or x < 2^48).
 * Why not %: on doubles beyond int32 V8 compiles % to a call of C fmod,
 * several times slower than a division. The correctly rounded x / m can only
 * round up across an integer, so q is exact or one too large; q·m ≤ x + m
 * stays exact, and one correction fixes r.
 */
function modSmall(x: number, m: number): number {
  const r = x - Math.floor(x / m) * m;
  return r < 0 ? r + m : r;
}

/** Big-endian 32-bit word at b[off..off+4), as a signed int32. */
function readWord(b: Uint8Array, off: number): number {
  return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
}

function writeWord(b: Uint8Array, off: number, w: number): void {
  b[off] = w >>> 24;
  b[off + 1] = w >>> 16;
  b[off + 2] = w >>> 8;
  b[off + 3] = w;
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
