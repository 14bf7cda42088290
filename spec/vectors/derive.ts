import { hkdfSync } from "node:crypto";

/** Input keying material of every test-vector key; public on purpose. */
export const VECTOR_IKM = "paycode test vectors v1";

/**
 * Derives the 32-byte key or seed a test vector names by `label`:
 * HKDF-SHA-256(IKM = VECTOR_IKM, salt = empty, info = label, L = 32).
 */
export function deriveTestKey(label: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", VECTOR_IKM, new Uint8Array(0), label, 32));
}
