import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export type BearerKind = "merchant" | "terminal" | "wallet";

const PREFIX: Record<BearerKind, string> = {
  merchant: "pk_live_",
  terminal: "tk_",
  wallet: "wt_",
};

/** [AUTH-6] A new random bearer secret (256 bits), shown once to its owner; only its hash is stored. */
export function newBearerKey(kind: BearerKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

/** [AUTH-5] SHA-256 of a bearer key: the stored form. A fast hash suffices for 256-bit random keys. */
export function hashBearerKey(key: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(key, "utf8").digest());
}

/** Constant-time comparison of two key hashes. */
export function bearerHashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
