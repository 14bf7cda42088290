import { BinaryReader } from "@bufbuild/protobuf/wire";

/**
 * Byte-level edits of protobuf encodings for the offline-code cases: the
 * non-canonical forms of §5.2 that a stock protobuf parser accepts and a
 * Paycode verifier must refuse, and the malleated signatures of §5.3.
 */

/** The fields of an encoding, each as its raw bytes (tag, length, value). */
export function rawFields(bytes: Uint8Array): Uint8Array[] {
  const r = new BinaryReader(bytes);
  const out: Uint8Array[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const [, wireType] = r.tag();
    r.skip(wireType);
    out.push(bytes.slice(start, r.pos));
  }
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** The same fields in reverse order: the same values, not the canonical encoding. */
export function reversedFields(bytes: Uint8Array): Uint8Array {
  return concat(rawFields(bytes).reverse());
}

/** A LEN field (one-byte tag) whose length is a varint with a redundant final 0x00 group. */
export function overlongLenField(tag: number, value: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = value.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n | 0x80, 0x00);
  return concat([new Uint8Array([tag, ...len]), value]);
}

/** A LEN field (one-byte tag) in its canonical form. */
export function lenField(tag: number, value: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = value.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return concat([new Uint8Array([tag, ...len]), value]);
}

/** L, the order of the Ed25519 base point (§5.3). */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** An Ed25519 signature with S replaced by S + L: the same point, but S ≥ L (§5.3 step 1). */
export function withSPlusL(sig: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i] ?? 0);
  s += ED25519_L;
  const out = sig.slice();
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}
