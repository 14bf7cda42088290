import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  IssuerKeySchema,
  WalletCertificateBodySchema,
  WalletCertificateSchema,
} from "../../gen/paycode/v1/offline_code_pb.js";
import {
  decodeCertificate,
  encodeCertificate,
  issueCertificate,
  verifyCertificate,
} from "./certificate.js";
import { ed25519Verify } from "./ed25519.js";
import { IssuerKeySet, issuerKeyEntryFromProto } from "./issuer-keys.js";
import {
  certBody,
  concat,
  issuerKey,
  issuerKeys,
  otherIssuerKey,
  T0,
  walletKey,
} from "./testing.js";

describe("wallet certificates", () => {
  it("signs the exact body bytes it carries", () => {
    const cert = issueCertificate(certBody(), "k1", issuerKey.privateKey);
    expect(cert.body).toEqual(toBinary(WalletCertificateBodySchema, certBody()));
    expect(ed25519Verify(issuerKey.publicKey, cert.body, cert.issuerSignature)).toBe(true);
    expect(verifyCertificate(cert, issuerKeys)).toEqual({ ok: true, body: certBody() });
    expect(verifyCertificate(encodeCertificate(cert), new IssuerKeySet(issuerKeys))).toEqual({
      ok: true,
      body: certBody(),
    });
    const decoded = decodeCertificate(encodeCertificate(cert))!;
    expect(decoded.certificate).toEqual(cert);
    expect(decoded.body).toEqual(certBody());
  });

  it("reports why a certificate fails", () => {
    const wrongKey = issueCertificate(certBody(), "k1", otherIssuerKey.privateKey);
    expect(verifyCertificate(wrongKey, issuerKeys)).toEqual({
      ok: false,
      reason: "ISSUER_SIGNATURE_INVALID",
    });
    const unknown = issueCertificate(certBody(), "nope", issuerKey.privateKey);
    expect(verifyCertificate(unknown, issuerKeys)).toEqual({ ok: false, reason: "KEY_UNKNOWN" });
    const trailing = concat(encodeCertificate(unknown), Uint8Array.of(0x20, 0x01));
    expect(verifyCertificate(trailing, issuerKeys)).toEqual({ ok: false, reason: "MALFORMED" });
    expect(decodeCertificate(trailing)).toBeUndefined();
    expect(decodeCertificate(new Uint8Array(0))).toBeUndefined();
    const unsignedBody = create(WalletCertificateSchema, {
      body: toBinary(WalletCertificateBodySchema, certBody()),
      issuerKeyId: "k1",
    });
    expect(verifyCertificate(unsignedBody, issuerKeys)).toEqual({ ok: false, reason: "MALFORMED" });
  });

  it("refuses to issue certificates verifiers would reject or should not trust", () => {
    const k = issuerKey.privateKey;
    expect(() => issueCertificate(certBody({ walletId: "" }), "k1", k)).toThrow(RangeError);
    expect(() =>
      issueCertificate(certBody({ walletPublicKey: new Uint8Array(31) }), "k1", k),
    ).toThrow(RangeError);
    expect(() =>
      issueCertificate(certBody({ walletPublicKey: new Uint8Array(32) }), "k1", k),
    ).toThrow(/small order/);
    expect(() => issueCertificate(certBody({ currency: "cny" }), "k1", k)).toThrow(RangeError);
    expect(() => issueCertificate(certBody({ notAfter: BigInt(T0 - 300) }), "k1", k)).toThrow(
      RangeError,
    );
    expect(() => issueCertificate(certBody(), "", k)).toThrow(RangeError);
    expect(
      issueCertificate(certBody({ walletPublicKey: walletKey.publicKey }), "k1", k),
    ).toBeDefined();
  });

  it("reads issuer keys from GetIssuerKeys messages", () => {
    const entry = issuerKeyEntryFromProto(
      create(IssuerKeySchema, {
        keyId: "k1",
        publicKey: issuerKey.publicKey,
        notBefore: 10n,
        notAfter: 20n,
      }),
    );
    expect(entry).toEqual({
      keyId: "k1",
      publicKey: issuerKey.publicKey,
      notBefore: 10,
      notAfter: 20,
    });
    const set = new IssuerKeySet([entry]);
    expect(set.keysFor("k1", 10)).toHaveLength(1);
    expect(set.keysFor("k1", 19)).toHaveLength(1);
    expect(set.keysFor("k1", 20)).toHaveLength(0);
    expect(set.keysFor("k1", 9)).toHaveLength(0);
    expect(set.keysFor("k2", 15)).toHaveLength(0);
    expect(() => new IssuerKeySet([{ ...entry, publicKey: new Uint8Array(31) }])).toThrow(
      RangeError,
    );
  });
});
