/**
 * The platform primitives the codecs use, for browsers (the package's
 * `#crypto` import under the "browser" condition): @noble/hashes for SHA-256
 * and HMAC, @noble/curves for Ed25519, the JS table AES, and the Web Crypto
 * CSPRNG. Same names and results as ./node.ts; see that file.
 *
 * Differences from node:crypto, on purpose:
 * - AES is the table implementation, which is not constant-time
 *   (spec/paycode.md §12.4). A browser wallet holds its issuer's code key
 *   anyway; a server that verifies codes runs on node:crypto.
 * - Ed25519 verification follows node:crypto's (OpenSSL's) rules, which the
 *   spec fixes in §5.3 [QR-8] — cofactorless [S]B − [k]A encoded and compared
 *   to R as bytes, S < L, A decoded with y reduced mod p — rather than
 *   noble's own `verify` (cofactored, and ZIP-215 by default). It is built on
 *   noble's point arithmetic and is variable-time, as every verifier is.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256, sha512 } from "@noble/hashes/sha2.js";
import type { AesBlockCipher } from "../codes/online/aes-block.js";
import { AesTable } from "../codes/online/aes-table.js";

/** Which backend this is. */
export const CRYPTO_BACKEND = "web";

/** An Ed25519 private key as this backend holds it. */
export interface Ed25519PrivateKey {
  readonly type: "private";
  readonly asymmetricKeyType: "ed25519";
  /** RFC 8032 private seed. */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** An Ed25519 public key as this backend holds it. */
export interface Ed25519PublicKey {
  readonly type: "public";
  readonly asymmetricKeyType: "ed25519";
  readonly publicKey: Uint8Array;
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** HMAC-SHA-256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}

/** `n` bytes from the platform CSPRNG (Web Crypto getRandomValues). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65536 bytes per call.
  for (let off = 0; off < n; off += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}

/** bytes[start, end) as a string of one char per byte (a cache key). */
export function byteString(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 8192)));
  }
  return s;
}

/** AES for a 16/24/32-byte key: the JS table implementation (not constant-time). */
export function createPlatformAes(key: Uint8Array): AesBlockCipher {
  return new AesTable(key);
}

/** The private key whose RFC 8032 seed is `seed` (32 bytes, checked by the caller). */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): Ed25519PrivateKey {
  const copy = new Uint8Array(seed);
  return {
    type: "private",
    asymmetricKeyType: "ed25519",
    seed: copy,
    publicKey: ed25519.getPublicKey(copy),
  };
}

/** A public key handle from its raw 32 bytes (length checked by the caller). */
export function ed25519PublicKeyFromBytes(publicKey: Uint8Array): Ed25519PublicKey {
  return { type: "public", asymmetricKeyType: "ed25519", publicKey: new Uint8Array(publicKey) };
}

/** The raw 32-byte public key of a private or public key handle. */
export function ed25519RawPublicKey(key: Ed25519PrivateKey | Ed25519PublicKey): Uint8Array {
  if (key?.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 key");
  return new Uint8Array(key.publicKey);
}

/** Pure Ed25519 (RFC 8032) signature, 64 bytes (deterministic: equal to node:crypto's). */
export function ed25519SignRaw(privateKey: Ed25519PrivateKey, message: Uint8Array): Uint8Array {
  if (privateKey?.type !== "private") throw new TypeError("not an Ed25519 private key");
  return ed25519.sign(message, privateKey.seed);
}

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

function leToBigint(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

/**
 * Ed25519 verification with node:crypto's rules ([QR-8]): S < L; A decoded
 * with y taken mod p (noble's ZIP-215 decoding, which is also what OpenSSL
 * accepts); k = SHA-512(R ‖ A ‖ M) mod L over the bytes as given; valid iff
 * the encoding of [S]B − [k]A equals R byte for byte (no cofactor).
 */
export function ed25519VerifyRaw(
  publicKey: Ed25519PublicKey,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.publicKey.length !== 32) return false;
  const r = signature.subarray(0, 32);
  const s = leToBigint(signature.subarray(32, 64));
  if (s >= L) return false;
  let a: InstanceType<typeof Point>;
  try {
    a = Point.fromBytes(publicKey.publicKey, true);
  } catch {
    return false;
  }
  const digest = sha512(concat(r, publicKey.publicKey, message));
  const k = leToBigint(digest) % L;
  const check = Point.BASE.multiplyUnsafe(s).subtract(a.multiplyUnsafe(k)).toBytes();
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= check[i]! ^ r[i]!;
  return diff === 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
