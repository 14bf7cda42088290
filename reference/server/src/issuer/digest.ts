import { createHash } from "node:crypto";

export function sha256(data: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

export function bytesEqual(
  a: Uint8Array | null | undefined,
  b: Uint8Array | null | undefined,
): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return Buffer.compare(a, b) === 0;
}
