/** Largest wallet handle (28 bits). */
export const MAX_HANDLE = 2 ** 28 - 1;
/** Largest per-step counter (3 bits). */
export const MAX_COUNTER = 7;
/** Online codes a wallet can make per time step (§4.3): counters 0..MAX_COUNTER. */
export const CODES_PER_STEP = MAX_COUNTER + 1;

const HANDLE_SHIFT = 2 ** 25;

/** The fields of the 53-bit payload P inside an online code. */
export interface ParsedOnlineCode {
  /** Wallet handle, 28 bits. */
  handle: number;
  /** Low 4 bits of the step S the code was made for. */
  step4: number;
  /** Per-step counter, 0..7. */
  counter: number;
  /** 18-bit truncated HMAC. */
  mac: number;
}

/** P = handle << 25 | step4 << 21 | ctr << 18 | mac, as an integer below 2^53. */
export function composePayload(p: ParsedOnlineCode): number {
  // The handle part exceeds 32 bits, so it is scaled instead of shifted.
  return p.handle * HANDLE_SHIFT + ((p.step4 << 21) | (p.counter << 18) | p.mac);
}

/** Splits P (an integer below 2^53) into its fields. */
export function splitPayload(payload: number): ParsedOnlineCode {
  const handle = Math.floor(payload / HANDLE_SHIFT);
  const low = payload - handle * HANDLE_SHIFT;
  return { handle, step4: low >>> 21, counter: (low >>> 18) & 7, mac: low & 0x3ffff };
}
