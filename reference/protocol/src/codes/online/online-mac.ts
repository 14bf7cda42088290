import { hmacSha256, sha256 } from "#crypto";

/** Bits of the truncated MAC carried in an online code. */
export const ONLINE_MAC_BITS = 18;
/** Bytes of a wallet seed (the HMAC key). */
export const SEED_BYTES = 32;

const MESSAGE_BYTES = 18;
const HMAC_BLOCK = 64;
const TWO_POW_32 = 2 ** 32;

function writeMessage(
  out: Uint8Array,
  off: number,
  prefix: number,
  handle: number,
  step: number,
  counter: number,
): void {
  // "PCv1"
  out[off] = 0x50;
  out[off + 1] = 0x43;
  out[off + 2] = 0x76;
  out[off + 3] = 0x31;
  out[off + 4] = prefix;
  out[off + 5] = handle >>> 24;
  out[off + 6] = (handle >>> 16) & 255;
  out[off + 7] = (handle >>> 8) & 255;
  out[off + 8] = handle & 255;
  writeStep(out, off + 9, step);
  out[off + 17] = counter;
}

/** S as uint64 big-endian; S < 2^53 so the high word is floor(S / 2^32). */
function writeStep(out: Uint8Array, off: number, step: number): void {
  const hi = Math.floor(step / TWO_POW_32);
  const lo = step - hi * TWO_POW_32;
  out[off] = hi >>> 24;
  out[off + 1] = (hi >>> 16) & 255;
  out[off + 2] = (hi >>> 8) & 255;
  out[off + 3] = hi & 255;
  out[off + 4] = lo >>> 24;
  out[off + 5] = (lo >>> 16) & 255;
  out[off + 6] = (lo >>> 8) & 255;
  out[off + 7] = lo & 255;
}

/** The first 18 bits (big-endian bit order) of a digest. */
function first18Bits(h: Uint8Array): number {
  return (h[0]! << 10) | (h[1]! << 2) | (h[2]! >>> 6);
}

/**
 * M = "PCv1" || prefix (1 byte) || handle (uint32 BE) || S (uint64 BE) || ctr (1 byte).
 * Inputs are not range-checked here; {@link OnlineCodec} validates them.
 */
export function onlineMacMessage(
  prefix: number,
  handle: number,
  step: number,
  counter: number,
): Uint8Array {
  const m = new Uint8Array(MESSAGE_BYTES);
  writeMessage(m, 0, prefix, handle, step, counter);
  return m;
}

/**
 * The 18-bit online-code MAC: first 18 bits of HMAC-SHA256(seed, M).
 * Straightforward HMAC version, for vectors and cross-checks; the codec
 * uses {@link OnlineMac}.
 */
export function onlineMac(
  seed: Uint8Array,
  prefix: number,
  handle: number,
  step: number,
  counter: number,
): number {
  return first18Bits(hmacSha256(seed, onlineMacMessage(prefix, handle, step, counter)));
}

/**
 * HMAC-SHA256 (RFC 2104) for one seed at a time, built from two one-shot
 * SHA-256 calls (`crypto.hash` on Node.js) over preallocated buffers. Why: createHmac allocates an
 * Hmac object and runs three binding calls per MAC; this costs ~15% less, and
 * the key pads are computed once per verification even when the expired
 * search needs several MACs. The seed-derived pads are wiped by {@link clear}.
 */
export class OnlineMac {
  /** (seed ⊕ ipad) || M */
  readonly #inner = new Uint8Array(HMAC_BLOCK + MESSAGE_BYTES);
  /** (seed ⊕ opad) || H(inner) */
  readonly #outer = new Uint8Array(HMAC_BLOCK + 32);

  constructor(prefix: number) {
    writeMessage(this.#inner, HMAC_BLOCK, prefix, 0, 0, 0);
  }

  /** Loads a 32-byte seed and the handle for the following {@link compute} calls. */
  load(seed: Uint8Array, handle: number): void {
    const inner = this.#inner;
    const outer = this.#outer;
    for (let i = 0; i < SEED_BYTES; i++) {
      inner[i] = seed[i]! ^ 0x36;
      outer[i] = seed[i]! ^ 0x5c;
    }
    inner.fill(0x36, SEED_BYTES, HMAC_BLOCK);
    outer.fill(0x5c, SEED_BYTES, HMAC_BLOCK);
    inner[HMAC_BLOCK + 5] = handle >>> 24;
    inner[HMAC_BLOCK + 6] = (handle >>> 16) & 255;
    inner[HMAC_BLOCK + 7] = (handle >>> 8) & 255;
    inner[HMAC_BLOCK + 8] = handle & 255;
  }

  /** The 18-bit MAC for step S and counter with the loaded seed and handle. */
  compute(step: number, counter: number): number {
    const inner = this.#inner;
    writeStep(inner, HMAC_BLOCK + 9, step);
    inner[HMAC_BLOCK + 17] = counter;
    this.#outer.set(sha256(inner), HMAC_BLOCK);
    return first18Bits(sha256(this.#outer));
  }

  /** Wipes the seed-derived pads so no key material stays in long-lived buffers. */
  clear(): void {
    this.#inner.fill(0, 0, HMAC_BLOCK);
    this.#outer.fill(0);
  }
}
