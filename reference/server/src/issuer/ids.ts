import { randomBytes, randomFillSync } from "node:crypto";
import { ulid } from "ulid";

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

/**
 * A random identifier `prefix_xxxxxxxxxxxxxxxx` (80 bits). Short on purpose:
 * wallet ids travel inside every offline QR code. Ids are not secrets;
 * every lookup is also checked against the caller.
 */
export function newId(prefix: string): string {
  return `${prefix}_${base32(randomBytes(10))}`;
}

/**
 * An identifier `prefix_<ulid>` (lower case) whose first 48 bits are `at`
 * (Unix ms) and the other 80 random, for rows written on every payment
 * (payments, transfers, refunds): ids made close in time sort close, so
 * their primary-key inserts land on the same few B-tree pages instead of
 * dirtying a random page each (fewer pages per commit, fewer full-page
 * images in PostgreSQL's WAL after a checkpoint).
 */
export function newTimeOrderedId(prefix: string, at: number): string {
  return `${prefix}_${ulid(at, pooledRandom).toLowerCase()}`;
}

/**
 * Uniform in [0, 1) in steps of 1/256, from a pool of CSPRNG bytes. ulid's
 * own source asks the CSPRNG once per character (~100 µs an id here, as
 * much as the rest of a Scan); it takes floor(x · 32), so one byte a
 * character is exactly uniform.
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function pooledRandom(): number {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++]! / 256;
}
