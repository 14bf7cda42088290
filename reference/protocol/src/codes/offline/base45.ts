/**
 * Base45 (RFC 9285). QR alphanumeric mode stores exactly these 45 symbols at
 * 5.5 bits each, so base45 text packs bytes into a QR code more densely than
 * base64 (which needs byte mode).
 */

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** Character code → value, or -1 for characters outside the alphabet. */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

/** Encodes bytes as base45 text. */
export function toBase45(bytes: Uint8Array): string {
  let out = "";
  const pairs = bytes.length - (bytes.length % 2);
  for (let i = 0; i < pairs; i += 2) {
    const n = bytes[i]! * 256 + bytes[i + 1]!;
    const e = Math.floor(n / 2025);
    const rest = n - e * 2025;
    const d = Math.floor(rest / 45);
    out += ALPHABET[rest - d * 45]! + ALPHABET[d]! + ALPHABET[e]!;
  }
  if (pairs < bytes.length) {
    const n = bytes[pairs]!;
    const d = Math.floor(n / 45);
    out += ALPHABET[n - d * 45]! + ALPHABET[d]!;
  }
  return out;
}

/**
 * Decodes base45 text; undefined (never an exception) for a character
 * outside the alphabet, a length ≡ 1 (mod 3), or a group whose value does
 * not fit its bytes (a triple above 65535, a final pair above 255). Those
 * rules make the encoding of any byte string unique.
 */
export function fromBase45(text: string): Uint8Array | undefined {
  return decodeBase45(text, 0);
}

/** Like `fromBase45` on `text.slice(start)`, without making the slice. */
export function decodeBase45(text: string, start: number): Uint8Array | undefined {
  const len = text.length - start;
  if (len < 0) return undefined;
  const tail = len % 3;
  if (tail === 1) return undefined;
  const full = len - tail;
  const out = new Uint8Array((full / 3) * 2 + (tail === 2 ? 1 : 0));
  let o = 0;
  let i = start;
  const fullEnd = start + full;
  while (i < fullEnd) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    // Codes ≥ 128 index past the table and read undefined → rejected below.
    const v0 = VALUES[c0] ?? -1;
    const v1 = VALUES[c1] ?? -1;
    const v2 = VALUES[c2] ?? -1;
    if (v0 < 0 || v1 < 0 || v2 < 0) return undefined;
    const n = v0 + v1 * 45 + v2 * 2025;
    if (n > 0xffff) return undefined;
    out[o++] = n >>> 8;
    out[o++] = n & 0xff;
    i += 3;
  }
  if (tail === 2) {
    const v0 = VALUES[text.charCodeAt(i)] ?? -1;
    const v1 = VALUES[text.charCodeAt(i + 1)] ?? -1;
    if (v0 < 0 || v1 < 0) return undefined;
    const n = v0 + v1 * 45;
    if (n > 0xff) return undefined;
    out[o] = n;
  }
  return out;
}
