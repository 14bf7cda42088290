import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OfflinePayloadSchema } from "../../gen/paycode/v1/offline_code_pb.js";
import { FieldScan, LEN, readUtf8, scanCanonical, VARINT } from "./canonical-wire.js";

const payloadScan = () => new FieldScan([LEN, VARINT, VARINT]);
const scan = (bytes: number[] | Uint8Array, s = payloadScan()) =>
  scanCanonical(Uint8Array.from(bytes), 0, bytes.length, s) ? s : undefined;

describe("canonical protobuf scanner", () => {
  it("reads what protobuf-es writes", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
        (walletId, counter, issuedAt) => {
          const bytes = toBinary(
            OfflinePayloadSchema,
            create(OfflinePayloadSchema, { walletId, counter, issuedAt }),
          );
          const s = scan(bytes);
          expect(s).toBeDefined();
          expect(readUtf8(bytes, s!.start[0]!, s!.start[0]! < 0 ? 0 : s!.end[0]!) ?? "").toBe(
            walletId,
          );
          expect(s!.uint64(2)).toBe(counter);
          expect(s!.int64(3)).toBe(issuedAt);
          expect(s!.int64Number(3)).toBe(Number(issuedAt));
        },
      ),
    );
  });

  it.each([
    ["empty message", [], true],
    ["one field", [0x0a, 0x01, 0x41], true],
    ["fields out of order", [0x10, 0x01, 0x0a, 0x01, 0x41], false],
    ["field repeated", [0x10, 0x01, 0x10, 0x02], false],
    ["unknown field 4", [0x20, 0x01], false],
    ["unknown field 16 (two-byte tag)", [0x80, 0x01, 0x00], false],
    ["field number 0", [0x00, 0x01], false],
    ["wrong wire type", [0x12, 0x01, 0x00], false],
    ["fixed64 wire type", [0x11, 1, 2, 3, 4, 5, 6, 7, 8], false],
    ["explicit zero varint", [0x10, 0x00], false],
    ["explicit empty string", [0x0a, 0x00], false],
    ["over-long varint", [0x10, 0x81, 0x00], false],
    ["over-long length", [0x0a, 0x81, 0x00, 0x41], false],
    ["length past the end", [0x0a, 0x02, 0x41], false],
    ["varint cut short", [0x10, 0x81], false],
    ["tag without value", [0x10], false],
    ["11-byte varint", [0x10, ...Array(10).fill(0xff), 0x01], false],
    ["10th varint byte > 1", [0x10, ...Array(9).fill(0xff), 0x02], false],
    ["10-byte varint, max uint64", [0x10, ...Array(9).fill(0xff), 0x01], true],
  ])("%s → %s", (_name, bytes, ok) => {
    expect(scan(bytes as number[]) !== undefined).toBe(ok);
  });

  it("decodes 64-bit extremes", () => {
    const s = scan([0x10, ...Array(9).fill(0xff), 0x01, 0x18, ...Array(9).fill(0xff), 0x01])!;
    expect(s.uint64(2)).toBe((1n << 64n) - 1n);
    expect(s.int64(3)).toBe(-1n);
    expect(s.int64Number(3)).toBe(-1);
  });

  it("agrees with 'protobuf-es parses it without unknown fields and re-encodes it identically'", () => {
    const field = fc.oneof(
      fc.tuple(fc.constantFrom(1, 2, 3, 4), fc.constant(0), fc.bigInt({ min: 0n, max: 1n << 64n })),
      fc.tuple(fc.constantFrom(1, 2, 3, 4), fc.constant(2), fc.uint8Array({ maxLength: 4 })),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 5 }), fc.boolean(), (fields, overlong) => {
        const parts: number[] = [];
        for (const [no, wt, v] of fields) {
          parts.push((no << 3) | wt);
          if (wt === 0) parts.push(...varint(v as bigint, overlong));
          else {
            const b = v as Uint8Array;
            parts.push(...varint(BigInt(b.length), false), ...b);
          }
        }
        const bytes = Uint8Array.from(parts);
        let reference = false;
        try {
          const m = fromBinary(OfflinePayloadSchema, bytes);
          reference =
            m.$unknown === undefined &&
            Buffer.from(toBinary(OfflinePayloadSchema, m)).equals(Buffer.from(bytes)) &&
            (m.walletId === "" ||
              readUtf8(bytes, 2, 2 + new TextEncoder().encode(m.walletId).length) !== undefined);
        } catch {
          reference = false;
        }
        const s = scan(bytes);
        const ours =
          s !== undefined && (!s.has(1) || readUtf8(bytes, s.start[0]!, s.end[0]!) !== undefined);
        expect(ours).toBe(reference);
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects invalid UTF-8 and keeps a leading BOM", () => {
    expect(readUtf8(Uint8Array.of(0xc3, 0x28), 0, 2)).toBeUndefined();
    expect(readUtf8(Uint8Array.of(0xed, 0xa0, 0x80), 0, 3)).toBeUndefined();
    expect(readUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41), 0, 4)).toBe("\ufeffA");
    expect(readUtf8(Uint8Array.of(0x41, 0x42), 0, 2)).toBe("AB");
  });
});

function varint(v: bigint, overlong: boolean): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n || overlong) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  if (overlong) out.push(0);
  return out;
}
