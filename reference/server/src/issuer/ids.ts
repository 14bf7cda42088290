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

/** Crockford's base32 digits, lower case: in ASCII order, so encoded times sort as they count. */
const ORDERED = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * `prefix_` + the creation time (ms, 10 digits that sort in time order) +
 * the 80 random bits of `newId`: for rows inserted on every payment
 * (payments, transfers). Their primary-key index then grows at one end, so
 * the ids of one commit group share B-tree pages instead of each dirtying a
 * random one: fewer WAL frames per Scan, and fewer pages to checkpoint.
 */
export function newTimeOrderedId(prefix: string, now: number = Date.now()): string {
  let time = "";
  for (let t = Math.max(0, Math.floor(now)), i = 0; i < 10; i++, t = Math.floor(t / 32)) {
    time = ORDERED[t % 32] + time;
  }
  return `${prefix}_${time}${base32(randomIdBytes())}`;
}
