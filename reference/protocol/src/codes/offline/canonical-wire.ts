/**
 * A strict reader for the canonical protobuf encoding of the four small
 * offline-code messages.
 *
 * Why not only `fromBinary`: protobuf parsers accept many encodings of one
 * message (fields repeated or out of order, over-long varints, zero values
 * written out, unknown fields). Accepting only the one encoding a proto3
 * serializer produces — fields in ascending number order, each at most once,
 * default values omitted, minimal varints, valid UTF-8 strings, no unknown
 * fields — gives every code exactly one QR text, rejects truncation and
 * trailing bytes, and is what "re-serializing yields the same bytes" means
 * for these messages. The reader also hands out byte ranges, so the verifier
 * can key its certificate cache and check signatures without re-serializing.
 *
 * Only field numbers 1..15 are used, so every valid tag is one byte.
 */

/** Wire type of a varint field (int64, uint64). */
export const VARINT = 0;
/** Wire type of a length-delimited field (bytes, string, message). */
export const LEN = 2;

/**
 * The fields one scan found, indexed by field number − 1. A field that is
 * absent keeps `start = -1`. For LEN fields, `start`/`end` bound the value;
 * for VARINT fields, `lo`/`hi` hold the low and high 32 bits of the value.
 */
export class FieldScan {
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;

  constructor(readonly wireTypes: readonly number[]) {
    const n = wireTypes.length;
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
    this.lo = new Uint32Array(n);
    this.hi = new Uint32Array(n);
  }

  has(fieldNo: number): boolean {
    return this.start[fieldNo - 1]! >= 0;
  }

  /** Length of a LEN field's value; 0 when absent. */
  length(fieldNo: number): number {
    const i = fieldNo - 1;
    return this.start[i]! < 0 ? 0 : this.end[i]! - this.start[i]!;
  }

  /** A VARINT field as an unsigned 64-bit integer (uint64); 0n when absent. */
  uint64(fieldNo: number): bigint {
    const i = fieldNo - 1;
    if (this.start[i]! < 0) return 0n;
    const hi = this.hi[i]!;
    const lo = this.lo[i]!;
    return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A VARINT field as a two's-complement signed 64-bit integer (int64); 0n when absent. */
  int64(fieldNo: number): bigint {
    const i = fieldNo - 1;
    if (this.start[i]! < 0) return 0n;
    const hi = this.hi[i]!;
    const lo = this.lo[i]!;
    if (hi === 0) return BigInt(lo);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  /**
   * A VARINT int64 field as a JavaScript number; exact within ±2^53 and
   * order-preserving beyond, which is all time comparisons need.
   */
  int64Number(fieldNo: number): number {
    const i = fieldNo - 1;
    if (this.start[i]! < 0) return 0;
    return (this.hi[i]! | 0) * 4294967296 + this.lo[i]!;
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes a UTF-8 string field; undefined when the bytes are not valid UTF-8. */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (start >= end) return "";
  // Short ASCII strings (wallet ids, key ids, currencies) skip TextDecoder.
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, end) as never);
  }
  try {
    return strictUtf8.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}

/**
 * Scans `bytes[start, end)` as the canonical encoding of a message whose
 * field `n` has wire type `out.wireTypes[n - 1]`. Fills `out` and returns
 * true, or returns false on anything non-canonical. String fields are not
 * checked for UTF-8 here; callers decode them with `readUtf8`.
 */
export function scanCanonical(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: FieldScan,
): boolean {
  const types = out.wireTypes;
  const count = types.length;
  out.start.fill(-1);
  let pos = start;
  let lastField = 0;
  while (pos < end) {
    const tag = bytes[pos++]!;
    // A tag byte ≥ 0x80 starts a multi-byte tag: field number ≥ 16, unknown.
    const fieldNo = tag >>> 3;
    const wireType = tag & 7;
    // Ascending field numbers, each at most once (field 0 is below them all).
    if (fieldNo <= lastField) return false;
    // No unknown field number, no known one with another wire type.
    if (fieldNo > count) return false;
    if (types[fieldNo - 1] !== wireType) return false;
    lastField = fieldNo;
    const i = fieldNo - 1;
    // Inline minimal-varint read: at most 10 bytes, no trailing zero byte,
    // a 10th byte may only carry bit 63.
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let n = 0;
    let b = 0;
    do {
      if (pos >= end) return false;
      if (n === 10) return false;
      b = bytes[pos++]!;
      const v = b & 0x7f;
      if (shift < 28) lo |= v << shift;
      else if (shift === 28) {
        lo |= (v & 0x0f) << 28;
        hi = v >>> 4;
      } else hi |= v << (shift - 32);
      shift += 7;
      n++;
    } while (b & 0x80);
    if (n > 1 && b === 0) return false;
    if (n === 10 && b !== 1) return false;
    lo >>>= 0;
    hi >>>= 0;
    if (wireType === VARINT) {
      // proto3 omits zero values, so an encoded zero is not canonical.
      if (lo === 0 && hi === 0) return false;
      out.start[i] = pos;
      out.end[i] = pos;
      out.lo[i] = lo;
      out.hi[i] = hi;
    } else {
      // LEN: the varint is the length; empty values are omitted in proto3.
      if (hi !== 0 || lo > end - pos) return false;
      if (lo === 0) return false;
      out.start[i] = pos;
      pos += lo;
      out.end[i] = pos;
    }
  }
  return pos === end;
}
