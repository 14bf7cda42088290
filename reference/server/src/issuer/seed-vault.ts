import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = 1;
const IV = 12;
const TAG = 16;
const DATA_KEY = 32;
const HEADER = 1 + IV + TAG + DATA_KEY + IV + TAG;

function gcm(key: Uint8Array, iv: Uint8Array, aad: string, plaintext: Uint8Array) {
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(aad, "utf8"));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { ct, tag: c.getAuthTag() };
}

function ungcm(
  key: Uint8Array,
  iv: Uint8Array,
  tag: Uint8Array,
  aad: string,
  ct: Uint8Array,
): Buffer {
  const d = createDecipheriv("aes-256-gcm", key, iv);
  d.setAAD(Buffer.from(aad, "utf8"));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/**
 * Envelope encryption of secrets at rest under a 32-byte master key: each
 * secret gets its own random data key (AES-256-GCM), and the data key is
 * wrapped by the master key (AES-256-GCM). Both layers bind a `context`
 * (e.g. the wallet id) as associated data, so a ciphertext copied onto
 * another row does not decrypt. Re-wrapping data keys under a new master key
 * never touches the secrets.
 *
 * Layout: version(1) | wrapIv(12) | wrapTag(16) | wrappedDataKey(32) | iv(12) | tag(16) | ciphertext.
 */
export class SeedVault {
  private readonly masterKey: Buffer;
  /** Further master keys `open` tries, during a master-key rotation (issue 9 part 3). */
  private readonly extra: SeedVault[];

  /**
   * `masterKey` seals and opens; each of `extraKeys` only opens. A server
   * given the old and the new key keeps opening every secret while
   * `paycode master-key rotate` re-seals them.
   */
  constructor(masterKey: Uint8Array, extraKeys: readonly Uint8Array[] = []) {
    if (masterKey.length !== 32) {
      throw new RangeError(`master key must be 32 bytes (AES-256), got ${masterKey.length}`);
    }
    this.masterKey = Buffer.from(masterKey);
    this.extra = extraKeys.map((k) => new SeedVault(k));
  }

  /** One vault per master key this one holds (its own first), each sealing with its key. */
  keyVaults(): SeedVault[] {
    return [new SeedVault(this.masterKey), ...this.extra];
  }

  seal(secret: Uint8Array, context: string): Uint8Array {
    const dataKey = randomBytes(DATA_KEY);
    const wrapIv = randomBytes(IV);
    const wrapped = gcm(this.masterKey, wrapIv, `paycode/data-key/v1|${context}`, dataKey);
    const iv = randomBytes(IV);
    const sealed = gcm(dataKey, iv, `paycode/secret/v1|${context}`, secret);
    dataKey.fill(0);
    return new Uint8Array(
      Buffer.concat([
        Buffer.of(VERSION),
        wrapIv,
        wrapped.tag,
        wrapped.ct,
        iv,
        sealed.tag,
        sealed.ct,
      ]),
    );
  }

  /** Throws when the envelope was altered, belongs to another context, or was sealed under none of the master keys. */
  open(envelope: Uint8Array, context: string): Uint8Array {
    try {
      return this.openWithOwnKey(envelope, context);
    } catch (e) {
      for (const v of this.extra) {
        try {
          return v.openWithOwnKey(envelope, context);
        } catch {}
      }
      throw e;
    }
  }

  private openWithOwnKey(envelope: Uint8Array, context: string): Uint8Array {
    if (envelope.length < HEADER || envelope[0] !== VERSION) {
      throw new Error("sealed secret has an unknown format");
    }
    let o = 1;
    const take = (n: number) => {
      const part = envelope.subarray(o, o + n);
      o += n;
      return part;
    };
    const wrapIv = take(IV);
    const wrapTag = take(TAG);
    const wrappedKey = take(DATA_KEY);
    const iv = take(IV);
    const tag = take(TAG);
    const ct = envelope.subarray(o);
    try {
      const dataKey = ungcm(
        this.masterKey,
        wrapIv,
        wrapTag,
        `paycode/data-key/v1|${context}`,
        wrappedKey,
      );
      const secret = ungcm(dataKey, iv, tag, `paycode/secret/v1|${context}`, ct);
      dataKey.fill(0);
      return new Uint8Array(secret);
    } catch {
      throw new Error(
        `cannot decrypt sealed secret for ${context}: wrong master key or corrupted data`,
      );
    }
  }
}
