import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";

/** Length of an Ed25519 public key and of a private seed, in bytes. */
export const ED25519_KEY_LENGTH = 32;
/** Length of an Ed25519 signature, in bytes. */
export const ED25519_SIGNATURE_LENGTH = 64;

/** An Ed25519 key pair: the private key for node:crypto and the raw public key. */
export interface Ed25519KeyPair {
  privateKey: KeyObject;
  /** Raw 32-byte public key (RFC 8032 encoding). */
  publicKey: Uint8Array;
}

// DER prefixes that turn a raw 32-byte seed / public key into PKCS#8 / SPKI,
// the only raw-key forms node:crypto imports without JWK base64 round trips.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** The key pair whose RFC 8032 private seed is `seed` (32 bytes). */
export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== ED25519_KEY_LENGTH) {
    throw new RangeError(`Ed25519 seed must be ${ED25519_KEY_LENGTH} bytes, got ${seed.length}`);
  }
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  return { privateKey, publicKey: ed25519PublicKeyBytes(privateKey) };
}

/** A fresh random key pair. */
export function generateEd25519(): Ed25519KeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey: ed25519PublicKeyBytes(privateKey) };
}

/** The raw 32-byte public key of an Ed25519 private or public KeyObject. */
export function ed25519PublicKeyBytes(key: KeyObject): Uint8Array {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== "ed25519") throw new TypeError("not an Ed25519 key");
  const der = pub.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - ED25519_KEY_LENGTH));
}

/** A node:crypto public KeyObject from a raw 32-byte public key. */
export function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== ED25519_KEY_LENGTH) {
    throw new RangeError(
      `Ed25519 public key must be ${ED25519_KEY_LENGTH} bytes, got ${publicKey.length}`,
    );
  }
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, publicKey]),
    format: "der",
    type: "spki",
  });
}

/** Pure Ed25519 (RFC 8032) signature, 64 bytes. */
export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  const sig = sign(null, message, privateKey);
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}

/**
 * Checks a pure Ed25519 signature with node:crypto, whose rules are the
 * spec's [QR-8] (§5.3): cofactorless [S]B = R + [k]A, S < L, R compared
 * as bytes, A decoded with y reduced mod p. False (never an exception) for any bad
 * key, length or signature. Hot paths should pass a cached KeyObject:
 * building one from raw bytes costs about as much as the check itself.
 */
export function ed25519Verify(
  publicKey: KeyObject | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  try {
    const key = publicKey instanceof Uint8Array ? ed25519PublicKeyObject(publicKey) : publicKey;
    return verify(null, message, key, signature);
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
].map((h) => Buffer.from(h, "hex"));

/** True when `publicKey` encodes a point of small order (see SMALL_ORDER_POINTS). */
export function isSmallOrderEd25519PublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== ED25519_KEY_LENGTH) return false;
  return SMALL_ORDER_POINTS.some((p) => {
    for (let i = 0; i < 31; i++) if (p[i] !== publicKey[i]) return false;
    return p[31] === (publicKey[31]! & 0x7f);
  });
}
