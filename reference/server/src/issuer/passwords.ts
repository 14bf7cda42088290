import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameter N of new hashes (16 MiB of memory with r = 8). */
export const DEFAULT_SCRYPT_N = 2 ** 14;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_LENGTH,
      { N: n, r, p, maxmem: 256 * n * r },
      (e, key) => (e ? reject(e) : resolve(key)),
    );
  });
}

/**
 * Hashes a payment password with scrypt and a fresh 16-byte salt. The result
 * records its parameters (`scrypt$N$r$p$salt$hash`) so the cost can be raised
 * later without invalidating stored hashes.
 */
export async function hashPassword(password: string, n = DEFAULT_SCRYPT_N): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, n, R, P);
  return `scrypt$${n}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** Checks a password against a stored hash in constant time; false for unparseable hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isSafeInteger(x) && x > 0)) return false;
  const expected = Buffer.from(parts[5]!, "base64");
  const key = await derive(password, Buffer.from(parts[4]!, "base64"), n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time of one verification without a real hash, so an unknown
 * account takes as long to refuse as a wrong password.
 */
export async function burnPasswordTime(password: string): Promise<void> {
  dummy ??= hashPassword("paycode-dummy-password");
  await verifyPassword(password, await dummy);
}
