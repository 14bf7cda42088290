import { randomFillSync } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** Lower-case RFC 4648 base32 without padding. */
function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

const ID_BYTES = 10;
// One randomFillSync per 256 ids: each call into OpenSSL costs ~6 µs on the
// benchmark VM whatever its size, and a Scan takes two ids (payment, transfer).
const pool = Buffer.allocUnsafe(ID_BYTES * 256);
let used = pool.length;

function randomIdBytes(): Uint8Array {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += ID_BYTES;
  return pool.subarray(used - ID_BYTES, used);
}

/**
 * A random identifier `prefix_xxxxxxxxxxxxxxxx` (80 bits). Short on purpose:
 * wallet ids travel inside every offline QR code. Ids are not secrets;
 * every lookup is also checked against the caller.
 */
export function newId(prefix: string): string {
  return `${prefix}_${base32(randomIdBytes())}`;
}
