import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ed25519FromSeed,
  ed25519PublicKeyBytes,
  ed25519PublicKeyObject,
  ed25519Sign,
  ed25519Verify,
  generateEd25519,
  isSmallOrderEd25519PublicKey,
} from "./ed25519.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

describe("Ed25519", () => {
  // RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
  it.each([
    [
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      "",
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ],
    [
      "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
      "72",
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ],
  ])("matches RFC 8032 for seed %s", (seed, pub, msg, sig) => {
    const pair = ed25519FromSeed(unhex(seed));
    expect(hex(pair.publicKey)).toBe(pub);
    expect(hex(ed25519Sign(pair.privateKey, unhex(msg)))).toBe(sig);
    expect(ed25519Verify(unhex(pub), unhex(msg), unhex(sig))).toBe(true);
    expect(ed25519Verify(ed25519PublicKeyObject(unhex(pub)), unhex(msg), unhex(sig))).toBe(true);
  });

  it("exports the same raw key as JWK x", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const x = createPublicKey(privateKey).export({ format: "jwk" }).x!;
    expect(Buffer.from(ed25519PublicKeyBytes(privateKey)).toString("base64url")).toBe(x);
  });

  it("generates working random pairs", () => {
    const a = generateEd25519();
    const b = generateEd25519();
    expect(a.publicKey).toHaveLength(32);
    expect(hex(a.publicKey)).not.toBe(hex(b.publicKey));
    const sig = ed25519Sign(a.privateKey, Uint8Array.of(1, 2, 3));
    expect(sig).toHaveLength(64);
    expect(ed25519Verify(a.publicKey, Uint8Array.of(1, 2, 3), sig)).toBe(true);
    expect(ed25519Verify(b.publicKey, Uint8Array.of(1, 2, 3), sig)).toBe(false);
    expect(ed25519Verify(a.publicKey, Uint8Array.of(1, 2, 4), sig)).toBe(false);
  });

  it("returns false instead of throwing on bad keys and signatures", () => {
    const a = generateEd25519();
    const sig = ed25519Sign(a.privateKey, Uint8Array.of(1));
    expect(ed25519Verify(a.publicKey.subarray(1), Uint8Array.of(1), sig)).toBe(false);
    expect(ed25519Verify(a.publicKey, Uint8Array.of(1), sig.subarray(1))).toBe(false);
    expect(ed25519Verify(a.publicKey, Uint8Array.of(1), new Uint8Array(64))).toBe(false);
  });

  it("rejects seeds and keys of the wrong length", () => {
    expect(() => ed25519FromSeed(new Uint8Array(31))).toThrow(RangeError);
    expect(() => ed25519PublicKeyObject(new Uint8Array(33))).toThrow(RangeError);
  });

  it("flags small-order keys, under which signatures need no private key", () => {
    const zero = new Uint8Array(32);
    const identity = unhex(`01${"00".repeat(31)}`);
    expect(isSmallOrderEd25519PublicKey(zero)).toBe(true);
    expect(isSmallOrderEd25519PublicKey(identity)).toBe(true);
    const signBit = zero.slice();
    signBit[31] = 0x80;
    expect(isSmallOrderEd25519PublicKey(signBit)).toBe(true);
    expect(isSmallOrderEd25519PublicKey(generateEd25519().publicKey)).toBe(false);
    // Why it matters: R = identity, S = 0 verifies under the identity key
    // for every message, and node:crypto accepts it.
    const forged = Buffer.concat([identity, new Uint8Array(32)]);
    const key = ed25519PublicKeyObject(identity);
    expect(verify(null, Buffer.from("anything"), key, forged)).toBe(true);
  });
});
