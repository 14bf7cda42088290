import {
  type Ed25519PrivateKey,
  type Ed25519PublicKey,
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyFromBytes,
  ed25519RawPublicKey,
  ed25519SignRaw,
  ed25519VerifyRaw,
  randomBytes,
} from "#crypto";

export type { Ed25519PrivateKey, Ed25519PublicKey };

/** Length of an Ed25519 public key and of a private seed, in bytes. */
export const ED25519_KEY_LENGTH = 32;
/** Length of an Ed25519 signature, in bytes. */
export const ED25519_SIGNATURE_LENGTH = 64;

/**
 * An Ed25519 key pair: the private key as the crypto backend holds it (a
 * node:crypto KeyObject on Node.js) and the raw public key.
 */
export interface Ed25519KeyPair {
  privateKey: Ed25519PrivateKey;
  /** Raw 32-byte public key (RFC 8032 encoding). */
  publicKey: Uint8Array;
}

/** The key pair whose RFC 8032 private seed is `seed` (32 bytes). */
export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== ED25519_KEY_LENGTH) {
    throw new RangeError(`Ed25519 seed must be ${ED25519_KEY_LENGTH} bytes, got ${seed.length}`);
  }
  const privateKey = ed25519PrivateKeyFromSeed(seed);
  return { privateKey, publicKey: ed25519PublicKeyBytes(privateKey) };
}

/** A fresh random key pair. */
export function generateEd25519(): Ed25519KeyPair {
  return ed25519FromSeed(randomBytes(ED25519_KEY_LENGTH));
}

/** The raw 32-byte public key of an Ed25519 private or public key. */
export function ed25519PublicKeyBytes(key: Ed25519PrivateKey | Ed25519PublicKey): Uint8Array {
  return ed25519RawPublicKey(key);
}

/** A backend public key (node:crypto KeyObject on Node.js) from a raw 32-byte public key. */
export function ed25519PublicKeyObject(publicKey: Uint8Array): Ed25519PublicKey {
  if (publicKey.length !== ED25519_KEY_LENGTH) {
    throw new RangeError(
      `Ed25519 public key must be ${ED25519_KEY_LENGTH} bytes, got ${publicKey.length}`,
    );
  }
  return ed25519PublicKeyFromBytes(publicKey);
}

/** Pure Ed25519 (RFC 8032) signature, 64 bytes. */
export function ed25519Sign(privateKey: Ed25519PrivateKey, message: Uint8Array): Uint8Array {
  return ed25519SignRaw(privateKey, message);
}

/**
 * Checks a pure Ed25519 signature with node:crypto (or the browser
 * backend's equivalent), whose rules are the spec's [QR-8] (§5.3): cofactorless [S]B = R + [k]A, S < L, R compared
 * as bytes, A decoded with y reduced mod p. False (never an exception) for any bad
 * key, length or signature. Hot paths should pass a cached key object:
 * building one from raw bytes costs about as much as the check itself.
 */
export function ed25519Verify(
  publicKey: Ed25519PublicKey | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  try {
    const key = publicKey instanceof Uint8Array ? ed25519PublicKeyObject(publicKey) : publicKey;
    return ed25519VerifyRaw(key, message, signature);
  } catch {
    return false;
  }
}

/**
 * Encodings of the small-order points (and their non-canonical aliases),
 * ignoring the sign bit — the libsodium block list. Under such a public key
 * signatures can be made without any private key (for a share of messages,
 * or all of them for the identity), so an issuer must never certify one.
 */
const SMALL_ORDER_POINTS = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((h) => Uint8Array.from(h.match(/../g)!, (b) => Number.parseInt(b, 16)));

/** True when `publicKey` encodes a point of small order (see SMALL_ORDER_POINTS). */
export function isSmallOrderEd25519PublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== ED25519_KEY_LENGTH) return false;
  return SMALL_ORDER_POINTS.some((p) => {
    for (let i = 0; i < 31; i++) if (p[i] !== publicKey[i]) return false;
    return p[31] === (publicKey[31]! & 0x7f);
  });
}
