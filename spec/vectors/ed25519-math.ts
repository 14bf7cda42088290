// Independent Ed25519 arithmetic (RFC 8032 §5.1) in BigInt, for the vectors
// only: it makes signatures node:crypto cannot (chosen R, S ≥ L, torsion
// components) and cross-checks node:crypto's verification with both
// verification equations. Not constant time; never use it for real keys.
import { createHash } from "node:crypto";

/** The field prime p = 2^255 − 19. */
export const P = (1n << 255n) - 19n;
/** The prime order L of the base point. */
export const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}
function pow(b: bigint, e: bigint, m = P): bigint {
  let r = 1n;
  let x = mod(b, m);
  let k = e;
  while (k > 0n) {
    if (k & 1n) r = (r * x) % m;
    x = (x * x) % m;
    k >>= 1n;
  }
  return r;
}
function inv(a: bigint): bigint {
  return pow(a, P - 2n);
}

/** A point in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z. */
export interface Point {
  X: bigint;
  Y: bigint;
  Z: bigint;
  T: bigint;
}

export const IDENTITY: Point = { X: 0n, Y: 1n, Z: 1n, T: 0n };
const BY = mod(4n * inv(5n));
export const BASE: Point = affine(recoverX(BY, 0)!, BY);

function affine(x: bigint, y: bigint): Point {
  return { X: x, Y: y, Z: 1n, T: mod(x * y) };
}

/** x with x² = (y² − 1)/(d y² + 1) and the given sign bit, or undefined (RFC 8032 §5.1.3 steps 2–4). */
function recoverX(y: bigint, sign: number): bigint | undefined {
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  if (mod(v * x * x) !== u) {
    if (mod(v * x * x) !== mod(-u)) return undefined;
    x = mod(x * SQRT_M1);
  }
  if (x === 0n && sign === 1) return undefined;
  if (Number(x & 1n) !== sign) x = P - x;
  return x;
}

export function add(a: Point, b: Point): Point {
  const A = mod((a.Y - a.X) * (b.Y - b.X));
  const B = mod((a.Y + a.X) * (b.Y + b.X));
  const C = mod(2n * D * a.T * b.T);
  const Dd = mod(2n * a.Z * b.Z);
  const E = B - A;
  const F = Dd - C;
  const G = Dd + C;
  const H = B + A;
  return { X: mod(E * F), Y: mod(G * H), Z: mod(F * G), T: mod(E * H) };
}

export function negate(a: Point): Point {
  return { X: mod(-a.X), Y: a.Y, Z: a.Z, T: mod(-a.T) };
}

export function multiply(a: Point, k: bigint): Point {
  let r = IDENTITY;
  let q = a;
  let n = k;
  while (n > 0n) {
    if (n & 1n) r = add(r, q);
    q = add(q, q);
    n >>= 1n;
  }
  return r;
}

export function equals(a: Point, b: Point): boolean {
  return mod(a.X * b.Z) === mod(b.X * a.Z) && mod(a.Y * b.Z) === mod(b.Y * a.Z);
}

/** The canonical 32-byte encoding (RFC 8032 §5.1.2). */
export function encode(a: Point): Uint8Array {
  const zi = inv(a.Z);
  const x = mod(a.X * zi);
  const y = mod(a.Y * zi);
  const out = leBytes(y, 32);
  out[31]! |= Number(x & 1n) << 7;
  return out;
}

/**
 * Decodes 32 bytes to a point. `strict`: RFC 8032 §5.1.3 (y ≥ p is an
 * error). Otherwise y is reduced mod p, as ref10 and OpenSSL do.
 */
export function decode(bytes: Uint8Array, strict: boolean): Point | undefined {
  if (bytes.length !== 32) return undefined;
  const sign = bytes[31]! >> 7;
  const yb = bytes.slice();
  yb[31]! &= 0x7f;
  let y = leInt(yb);
  if (y >= P) {
    if (strict) return undefined;
    y -= P;
  }
  const x = recoverX(y, sign);
  if (x === undefined) {
    // ref10 accepts x = 0 with the sign bit set (it negates zero).
    if (!strict && sign === 1 && recoverX(y, 0) === 0n) return affine(0n, y);
    return undefined;
  }
  return affine(x, y);
}

export function leInt(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

export function leBytes(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = n;
  for (let i = 0; i < len; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** k = SHA-512(R || A || M) mod L, over the bytes as carried. */
export function challenge(r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint {
  return mod(leInt(sha512(r, a, m)), L);
}

/** The secret scalar and nonce prefix of an RFC 8032 private seed. */
export function expandSeed(seed: Uint8Array): { scalar: bigint; prefix: Uint8Array } {
  const h = sha512(seed);
  const s = h.slice(0, 32);
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  return { scalar: leInt(s), prefix: h.slice(32) };
}

/** The public key of an RFC 8032 private seed. */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  return encode(multiply(BASE, expandSeed(seed).scalar));
}

/**
 * A signature with a chosen R encoding under secret scalar `scalar` and the
 * public key bytes `publicKey` (which may carry a torsion component):
 * S = r + k·scalar mod L, where `rScalar` is the discrete log of R's
 * prime-order part, then `sAdd` is added (for S ≥ L).
 */
export function signWithR(
  scalar: bigint,
  publicKey: Uint8Array,
  message: Uint8Array,
  rBytes: Uint8Array,
  rScalar: bigint,
  sAdd = 0n,
): Uint8Array {
  const k = challenge(rBytes, publicKey, message);
  const s = mod(rScalar + k * scalar, L) + sAdd;
  const out = new Uint8Array(64);
  out.set(rBytes, 0);
  out.set(leBytes(s, 32), 32);
  return out;
}

/** The signature `signature` with L added to its S (same equation, S ≥ L). */
export function addLToS(signature: Uint8Array): Uint8Array {
  const out = signature.slice();
  out.set(leBytes(leInt(signature.subarray(32)) + L, 32), 32);
  return out;
}

/** The verification equations and encoding rules a verifier may choose from. */
export interface Ed25519Rules {
  /** Cofactored [8][S]B = [8]R + [8][k]A, else cofactorless [S]B = R + [k]A. */
  cofactored: boolean;
  /** Reject S ≥ L (else S is reduced mod L). */
  canonicalS: boolean;
  /**
   * R is never decoded: the encoding of [S]B − [k]A must equal R's 32 bytes
   * (so a non-canonical R never verifies). Else R is decoded (leniently) and
   * compared as a point.
   */
  rByteCompare: boolean;
  /** A with y ≥ p is rejected (RFC 8032 strict); else y is reduced mod p. */
  strictA: boolean;
}

/** node:crypto / OpenSSL: cofactorless, S < L, R compared as bytes, A decoded leniently. */
export const OPENSSL_RULES: Ed25519Rules = {
  cofactored: false,
  canonicalS: true,
  rByteCompare: true,
  strictA: false,
};

/** Verifies a pure Ed25519 signature under the given rules. */
export function verifyWith(
  rules: Ed25519Rules,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const rBytes = signature.subarray(0, 32);
  let s = leInt(signature.subarray(32));
  if (s >= L) {
    if (rules.canonicalS) return false;
    s = mod(s, L);
  }
  const A = decode(publicKey, rules.strictA);
  if (A === undefined) return false;
  const k = challenge(rBytes, publicKey, message);
  // Q = [S]B − [k]A, which must equal R.
  const Q = add(multiply(BASE, s), negate(multiply(A, k)));
  if (rules.rByteCompare && !rules.cofactored) {
    const enc = encode(Q);
    return enc.every((b, i) => b === rBytes[i]);
  }
  const R = decode(rBytes, false);
  if (R === undefined) return false;
  if (rules.cofactored) {
    return equals(multiply(Q, 8n), multiply(R, 8n));
  }
  return equals(Q, R);
}

/** A point of order 8 (encoding c7176a…037a, one of the small-order keys of §6.2). */
export function torsionPoint(): Point {
  // The point with this encoding has order 8.
  const t = decode(
    Uint8Array.from(
      Buffer.from("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", "hex"),
    ),
    true,
  );
  if (t === undefined) throw new Error("torsion point does not decode");
  return t;
}
