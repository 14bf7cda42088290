/**
 * The platform primitives the codecs use, on node:crypto (OpenSSL). The
 * package's `#crypto` import resolves here everywhere except under the
 * "browser" condition (./web.ts). Both modules export the same names with
 * the same behaviour; only the key handle types differ.
 */
import {
  createCipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hash,
  type KeyObject,
  randomFillSync,
  sign,
  verify,
} from "node:crypto";
import type { AesBlockCipher } from "../codes/online/aes-block.js";

/** Which backend this is. */
export const CRYPTO_BACKEND = "node";

/** An Ed25519 private key as this backend holds it: a node:crypto KeyObject. */
export type Ed25519PrivateKey = KeyObject;
/** An Ed25519 public key as this backend holds it: a node:crypto KeyObject. */
export type Ed25519PublicKey = KeyObject;

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return hash("sha256", data, "buffer");
}

/** HMAC-SHA-256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/** `n` bytes from the platform CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  return randomFillSync(new Uint8Array(n));
}

/** bytes[start, end) as a string of one char per byte (a cache key). */
export function byteString(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1");
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

/** The platform AES block cipher (constant-time with AES-NI) for a 16/24/32-byte key. */
export function createPlatformAes(key: Uint8Array): AesBlockCipher {
  return new NodeAes(key);
}

// DER prefixes that turn a raw 32-byte seed / public key into PKCS#8 / SPKI,
// the only raw-key forms node:crypto imports without JWK base64 round trips.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The private key whose RFC 8032 seed is `seed` (32 bytes, checked by the caller). */
export function ed25519PrivateKeyFromSeed(seed: Uint8Array): Ed25519PrivateKey {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
}

/** A public key handle from its raw 32 bytes (length checked by the caller); throws if refused. */
export function ed25519PublicKeyFromBytes(publicKey: Uint8Array): Ed25519PublicKey {
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, publicKey]),
    format: "der",
    type: "spki",
  });
}

/** The raw 32-byte public key of a private or public key handle; throws if not Ed25519. */
export function ed25519RawPublicKey(key: Ed25519PrivateKey | Ed25519PublicKey): Uint8Array {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 key");
  const der = pub.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** Pure Ed25519 (RFC 8032) signature, 64 bytes. */
export function ed25519SignRaw(privateKey: Ed25519PrivateKey, message: Uint8Array): Uint8Array {
  const sig = sign(null, message, privateKey);
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/**
 * node:crypto's Ed25519 verification, the spec's [QR-8] rules (cofactorless,
 * S < L, R compared as bytes). May throw on a bad key or signature; callers
 * turn that into false.
 */
export function ed25519VerifyRaw(
  publicKey: Ed25519PublicKey,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verify(null, message, publicKey, signature);
}
