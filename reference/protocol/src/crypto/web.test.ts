// The browser crypto backend gives node:crypto's results, input for input.
import { describe, expect, it } from "vitest";
import * as node from "./node.js";
import * as web from "./web.js";

const rnd = (n: number) => node.randomBytes(n);

describe("crypto backends agree", () => {
  it("SHA-256 and HMAC-SHA-256", () => {
    for (const n of [0, 1, 18, 55, 56, 64, 82, 96, 1000]) {
      const data = rnd(n);
      expect(web.sha256(data)).toEqual(new Uint8Array(node.sha256(data)));
      const key = rnd(n % 3 === 0 ? 32 : 100);
      expect(web.hmacSha256(key, data)).toEqual(new Uint8Array(node.hmacSha256(key, data)));
    }
  });

  it("AES-256 blocks", () => {
    for (let i = 0; i < 20; i++) {
      const key = rnd(32);
      const block = rnd(16);
      const a = new Uint8Array(16);
      const b = new Uint8Array(16);
      web.createPlatformAes(key).encryptBlock(block, a);
      node.createPlatformAes(key).encryptBlock(block, b);
      expect(a).toEqual(b);
    }
  });

  it("random bytes and byte strings", () => {
    expect(web.randomBytes(70_000).length).toBe(70_000);
    expect(web.randomBytes(32)).not.toEqual(web.randomBytes(32));
    const b = rnd(20_000);
    expect(web.byteString(b, 3, 19_000)).toBe(node.byteString(b, 3, 19_000));
  });

  it("Ed25519 keys, signatures and verification", () => {
    for (let i = 0; i < 20; i++) {
      const seed = rnd(32);
      const msg = rnd(i * 7);
      const wk = web.ed25519PrivateKeyFromSeed(seed);
      const nk = node.ed25519PrivateKeyFromSeed(seed);
      const pub = node.ed25519RawPublicKey(nk);
      expect(web.ed25519RawPublicKey(wk)).toEqual(pub);
      const sig = web.ed25519SignRaw(wk, msg);
      expect(sig).toEqual(node.ed25519SignRaw(nk, msg));
      const wp = web.ed25519PublicKeyFromBytes(pub);
      const np = node.ed25519PublicKeyFromBytes(pub);
      expect(web.ed25519VerifyRaw(wp, msg, sig)).toBe(true);
      const bad = sig.slice();
      bad[i % 64]! ^= 1 << (i % 8);
      expect(web.ed25519VerifyRaw(wp, msg, bad)).toBe(node.ed25519VerifyRaw(np, msg, bad));
      expect(web.ed25519VerifyRaw(wp, rnd(5), sig)).toBe(false);
    }
  });
});
