import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  OfflineCodeSchema,
  OfflinePayloadSchema,
  WalletCertificateBodySchema,
  WalletCertificateSchema,
} from "../../gen/paycode/v1/offline_code_pb.js";
import { toBase45 } from "./base45.js";
import { ed25519Sign } from "./ed25519.js";
import { buildOfflineCode, decodeOfflineCode, parseOfflineCodeText } from "./offline-code.js";
import {
  certBody,
  certificate,
  concat,
  editEnvelope,
  envelopeBytes,
  issuerKey,
  makeCode,
  T0,
  textOf,
  WALLET_ID,
  walletKey,
} from "./testing.js";

const UINT64_MAX = (1n << 64n) - 1n;

/** Signs `payload` bytes as the wallet and wraps them with the fixture certificate. */
function codeWithPayload(payload: Uint8Array, cert = certificate): string {
  const envelope = create(OfflineCodeSchema, {
    certificate: cert,
    payload,
    signature: ed25519Sign(walletKey.privateKey, payload),
  });
  return textOf(toBinary(OfflineCodeSchema, envelope));
}

/** A certificate whose body bytes are `body`, correctly signed by the issuer. */
function certWithBody(body: Uint8Array) {
  return create(WalletCertificateSchema, {
    body,
    issuerKeyId: "k1",
    issuerSignature: ed25519Sign(issuerKey.privateKey, body),
  });
}

const payloadBytes = (walletId = WALLET_ID, counter = 1n, issuedAt = BigInt(T0)) =>
  toBinary(OfflinePayloadSchema, create(OfflinePayloadSchema, { walletId, counter, issuedAt }));

describe("buildOfflineCode / decodeOfflineCode", () => {
  it("round-trips any counter and time", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: UINT64_MAX }),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        (counter, issuedAt) => {
          const text = makeCode({ counter, issuedAt });
          expect(text.startsWith("PC1:")).toBe(true);
          expect(text).toMatch(/^[0-9A-Z $%*+\-./:]+$/);
          const d = decodeOfflineCode(text)!;
          expect(d).toBeDefined();
          expect(d.payload.walletId).toBe(WALLET_ID);
          expect(d.payload.counter).toBe(counter);
          expect(d.payload.issuedAt).toBe(BigInt(issuedAt));
          expect(d.body.walletId).toBe(WALLET_ID);
          expect(d.body.walletPublicKey).toEqual(walletKey.publicKey);
          expect(d.envelope.certificate?.issuerKeyId).toBe("k1");
          expect(d.envelope.signature).toHaveLength(64);
          const p = parseOfflineCodeText(text)!;
          expect(p.counter).toBe(counter);
          expect(p.issuedAt).toBe(issuedAt);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("decoded messages do not alias the decoder's buffers", () => {
    const d = decodeOfflineCode(makeCode())!;
    d.body.walletPublicKey[0] ^= 1;
    expect(decodeOfflineCode(makeCode())!.body.walletPublicKey).toEqual(walletKey.publicKey);
  });

  it("makes a typical code of about 330 characters", () => {
    const text = makeCode({ counter: 1234n, issuedAt: T0 });
    expect(text.length).toBeGreaterThan(250);
    expect(text.length).toBeLessThan(400);
  });

  it("refuses arguments that cannot make a valid code", () => {
    const base = {
      certificate,
      walletId: WALLET_ID,
      counter: 1n,
      issuedAt: T0,
      walletPrivateKey: walletKey.privateKey,
    };
    expect(() => buildOfflineCode({ ...base, walletId: "" })).toThrow(RangeError);
    expect(() => buildOfflineCode({ ...base, counter: -1n })).toThrow(RangeError);
    expect(() => buildOfflineCode({ ...base, counter: UINT64_MAX + 1n })).toThrow(RangeError);
    expect(() => buildOfflineCode({ ...base, issuedAt: 1.5 })).toThrow(RangeError);
    const withUnknown = fromBinary(
      WalletCertificateSchema,
      concat(toBinary(WalletCertificateSchema, certificate), Uint8Array.of(0x20, 0x01)),
    );
    expect(withUnknown.$unknown).toBeDefined();
    expect(() => buildOfflineCode({ ...base, certificate: withUnknown })).toThrow(RangeError);
  });

  describe("is strict", () => {
    const good = makeCode();
    const env = envelopeBytes(good);
    const cases: Array<[string, string]> = [
      ["empty string", ""],
      ["prefix only", "PC1:"],
      ["no prefix", good.slice(4)],
      ["lower-case prefix", "pc1:" + good.slice(4)],
      ["other version", "PC2:" + good.slice(4)],
      ["leading space", " " + good],
      ["trailing space char", good + " "],
      ["lower-case base45", good.slice(0, 10) + good.slice(10).toLowerCase()],
      ["triple over 65535", good + ":::"],
      ["length 1 mod 3", good + "0"],
      ["truncated by one byte", textOf(env.subarray(0, env.length - 1))],
      ["truncated into the signature", textOf(env.subarray(0, env.length - 32))],
      ["truncated to half", textOf(env.subarray(0, env.length >> 1))],
      ["one byte", textOf(env.subarray(0, 1))],
      ["no bytes", textOf(new Uint8Array(0))],
      ["trailing NUL", textOf(concat(env, Uint8Array.of(0)))],
      ["trailing unknown varint field", textOf(concat(env, Uint8Array.of(0x20, 0x01)))],
      ["trailing unknown bytes field", textOf(concat(env, Uint8Array.of(0x22, 0x02, 0xab, 0xcd)))],
      [
        "repeated signature field",
        textOf(concat(env, Uint8Array.of(0x1a, 0x40), env.subarray(env.length - 64))),
      ],
      [
        "signature 63 bytes",
        editEnvelope(good, (e) => {
          e.signature = e.signature.subarray(0, 63);
        }),
      ],
      [
        "signature 65 bytes",
        editEnvelope(good, (e) => {
          e.signature = concat(e.signature, Uint8Array.of(0));
        }),
      ],
      [
        "no signature",
        editEnvelope(good, (e) => {
          e.signature = new Uint8Array(0);
        }),
      ],
      [
        "no certificate",
        editEnvelope(good, (e) => {
          e.certificate = undefined;
        }),
      ],
      [
        "no payload",
        editEnvelope(good, (e) => {
          e.payload = new Uint8Array(0);
        }),
      ],
      [
        "issuer signature 63 bytes",
        editEnvelope(good, (e) => {
          e.certificate!.issuerSignature = e.certificate!.issuerSignature.subarray(1);
        }),
      ],
      [
        "no issuer key id",
        editEnvelope(good, (e) => {
          e.certificate!.issuerKeyId = "";
        }),
      ],
      [
        "unknown field in certificate",
        editEnvelope(good, (e) => {
          e.certificate = fromBinary(
            WalletCertificateSchema,
            concat(toBinary(WalletCertificateSchema, e.certificate!), Uint8Array.of(0x20, 0x01)),
          );
        }),
      ],
      [
        "unknown field in payload (signed)",
        codeWithPayload(concat(payloadBytes(), Uint8Array.of(0x20, 0x07))),
      ],
      ["empty wallet id in payload (signed)", codeWithPayload(payloadBytes(""))],
      ["invalid UTF-8 wallet id (signed)", codeWithPayload(Uint8Array.of(0x0a, 0x02, 0xc3, 0x28))],
      [
        "explicit zero counter (signed)",
        codeWithPayload(Uint8Array.of(0x0a, 0x01, 0x41, 0x10, 0x00)),
      ],
      [
        "over-long counter varint (signed)",
        codeWithPayload(Uint8Array.of(0x0a, 0x01, 0x41, 0x10, 0x81, 0x00)),
      ],
      [
        "unknown field in body (issuer-signed)",
        codeWithPayload(
          payloadBytes(),
          certWithBody(
            concat(toBinary(WalletCertificateBodySchema, certBody()), Uint8Array.of(0x40, 0x01)),
          ),
        ),
      ],
      [
        "wallet key 31 bytes (issuer-signed)",
        codeWithPayload(
          payloadBytes(),
          certWithBody(
            toBinary(
              WalletCertificateBodySchema,
              certBody({ walletPublicKey: walletKey.publicKey.subarray(1) }),
            ),
          ),
        ),
      ],
      [
        "empty body wallet id (issuer-signed)",
        codeWithPayload(
          payloadBytes(),
          certWithBody(toBinary(WalletCertificateBodySchema, certBody({ walletId: "" }))),
        ),
      ],
      [
        "over-long envelope length prefix",
        textOf(
          concat(Uint8Array.of(env[0]!, env[1]! | 0x80, env[2]! | 0x80, 0x00), env.subarray(3)),
        ),
      ],
    ];
    it.each(cases)("%s → undefined", (_name, text) => {
      expect(decodeOfflineCode(text)).toBeUndefined();
    });

    it("never throws and rejects non-strings", () => {
      expect(decodeOfflineCode(undefined as unknown as string)).toBeUndefined();
      expect(decodeOfflineCode(42 as unknown as string)).toBeUndefined();
      fc.assert(
        fc.property(fc.string({ maxLength: 400 }), (s) => {
          decodeOfflineCode(s);
          decodeOfflineCode("PC1:" + s);
        }),
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
          expect(decodeOfflineCode("PC1:" + toBase45(b))).toBeUndefined();
        }),
      );
    });
  });
});

/**
 * The strictness rule stated with protobuf-es alone: every level parses with
 * no unknown fields and re-serializes to exactly its input, and the required
 * parts have their lengths.
 */
function referenceDecode(bytes: Uint8Array): boolean {
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
  try {
    const env = fromBinary(OfflineCodeSchema, bytes);
    const cert = env.certificate;
    if (env.$unknown || !cert || cert.$unknown || !same(toBinary(OfflineCodeSchema, env), bytes)) {
      return false;
    }
    const body = fromBinary(WalletCertificateBodySchema, cert.body);
    if (body.$unknown || !same(toBinary(WalletCertificateBodySchema, body), cert.body))
      return false;
    const payload = fromBinary(OfflinePayloadSchema, env.payload);
    if (payload.$unknown || !same(toBinary(OfflinePayloadSchema, payload), env.payload))
      return false;
    return (
      env.signature.length === 64 &&
      cert.issuerSignature.length === 64 &&
      cert.issuerKeyId !== "" &&
      body.walletPublicKey.length === 32 &&
      body.walletId !== "" &&
      payload.walletId !== ""
    );
  } catch {
    return false;
  }
}

describe("strict decoding matches the protobuf-es statement of the rule", () => {
  it("on random edits of a valid envelope", () => {
    const env = envelopeBytes(makeCode());
    const edit = fc.oneof(
      fc.record({
        kind: fc.constant("set" as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let b = Array.from(env);
        for (const e of edits) {
          const at = e.at % (b.length + 1);
          if (e.kind === "set" && at < b.length) b[at] = e.value;
          else if (e.kind === "insert") b = [...b.slice(0, at), e.value, ...b.slice(at)];
          else if (e.kind === "delete") b = [...b.slice(0, at), ...b.slice(at + 1)];
        }
        const bytes = Uint8Array.from(b);
        expect(decodeOfflineCode(textOf(bytes)) !== undefined).toBe(referenceDecode(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("on the valid envelope itself", () => {
    expect(referenceDecode(envelopeBytes(makeCode()))).toBe(true);
  });
});
