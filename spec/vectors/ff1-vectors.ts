// Builds spec/vectors/ff1.json: FF1 (NIST SP 800-38G) vectors.
import { Ff1 } from "@paycode/protocol";
import { deriveTestKey } from "./derive.js";

/** Bump when the content of the generated vectors changes meaning. */
export const FF1_VECTORS_GENERATOR_VERSION = "1";

interface Ff1VectorTest {
  tcId: number;
  comment: string;
  radix: number;
  tweakHex: string;
  pt: string;
  ct: string;
  result: "valid";
  flags: string[];
}

const NIST_KEY_128 = "2b7e151628aed2a6abf7158809cf4f3c";
const NIST_KEY_192 = `${NIST_KEY_128}ef4359d8d580aa4f`;
const NIST_KEY_256 = `${NIST_KEY_192}7f036d6f04fc6a94`;
const NIST_TWEAK_10 = "39383736353433323130";
const NIST_TWEAK_11 = "3737373770717273373737";

/** NIST's published FF1 examples ("FF1samples.pdf"), sample number → expected values. */
const NIST_SAMPLES: ReadonlyArray<{
  sample: number;
  keyHex: string;
  radix: number;
  tweakHex: string;
  pt: string;
  ct: string;
}> = [
  { sample: 1, keyHex: NIST_KEY_128, radix: 10, tweakHex: "", pt: "0123456789", ct: "2433477484" },
  {
    sample: 2,
    keyHex: NIST_KEY_128,
    radix: 10,
    tweakHex: NIST_TWEAK_10,
    pt: "0123456789",
    ct: "6124200773",
  },
  {
    sample: 3,
    keyHex: NIST_KEY_128,
    radix: 36,
    tweakHex: NIST_TWEAK_11,
    pt: "0123456789abcdefghi",
    ct: "a9tv40mll9kdu509eum",
  },
  { sample: 4, keyHex: NIST_KEY_192, radix: 10, tweakHex: "", pt: "0123456789", ct: "2830668132" },
  {
    sample: 5,
    keyHex: NIST_KEY_192,
    radix: 10,
    tweakHex: NIST_TWEAK_10,
    pt: "0123456789",
    ct: "2496655549",
  },
  {
    sample: 6,
    keyHex: NIST_KEY_192,
    radix: 36,
    tweakHex: NIST_TWEAK_11,
    pt: "0123456789abcdefghi",
    ct: "xbj3kv35jrawxv32ysr",
  },
  { sample: 7, keyHex: NIST_KEY_256, radix: 10, tweakHex: "", pt: "0123456789", ct: "6657667009" },
  {
    sample: 8,
    keyHex: NIST_KEY_256,
    radix: 10,
    tweakHex: NIST_TWEAK_10,
    pt: "0123456789",
    ct: "1001623463",
  },
  {
    sample: 9,
    keyHex: NIST_KEY_256,
    radix: 36,
    tweakHex: NIST_TWEAK_11,
    pt: "0123456789abcdefghi",
    ct: "xs8a0azh2avyalyzuwd",
  },
];

/** Online-code shape: 16 decimal digits, tweak = two ASCII prefix digits. */
const ONLINE_SHAPE_CASES: ReadonlyArray<[tweak: string, pt: string, comment: string]> = [
  ["62", "0000000000000000", "all zeros (P = 0)"],
  ["62", "0000000000000001", "P = 1"],
  ["62", "9007199254740991", "P = 2^53-1, the largest online payload"],
  ["62", "9007199254740992", "X = 2^53, the smallest malformed payload"],
  ["62", "9999999999999999", "all nines"],
  ["62", "4503599627370496", "2^52"],
  ["62", "0123456789012345", "counting digits"],
  ["10", "0123456789012345", "same plaintext, tweak 10"],
  ["99", "0123456789012345", "same plaintext, tweak 99"],
  ["45", "1234567890123456", "tweak 45"],
  ["10", "5555555555555555", "repeated digit"],
  ["99", "8000000000000000", "high half only"],
  ["62", "0000000099999999", "low half only"],
];

/** Other shapes: minimum length, odd lengths, the bigint path, long tweaks, other radixes. */
const OTHER_SHAPE_CASES: ReadonlyArray<
  [radix: number, tweakHex: string, pt: string, comment: string]
> = [
  [10, "", "000000", "radix 10 at the minimum length 6 (10^6 domain), empty tweak"],
  [10, "3632", "1234567", "radix 10, odd length 7 (u=3, v=4)"],
  [
    10,
    "3632",
    "12345678901234567890123",
    "radix 10, 23 digits (v=12: beyond the double-precision path)",
  ],
  [36, "", "0123abcd", "radix 36, 8 numerals"],
  [2, "00", "10110011100011110000", "radix 2 at the minimum length 20"],
  [
    16,
    "000102030405060708090a0b0c0d0e0f1011121314",
    "0123456789abcdef0123456789abcdef",
    "radix 16, 32 numerals, 21-byte tweak (Q spans two blocks)",
  ],
];

const hexBytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

/** The FF1 vector file: NIST samples plus HKDF-keyed vectors, deterministic. */
export function buildFf1Vectors(): object {
  let id = 0;
  const groups: object[] = [];

  for (const [bits, keyHex] of [
    [128, NIST_KEY_128],
    [192, NIST_KEY_192],
    [256, NIST_KEY_256],
  ] as const) {
    const tests: Ff1VectorTest[] = [];
    for (const s of NIST_SAMPLES.filter((x) => x.keyHex === keyHex)) {
      const computed = new Ff1(hexBytes(keyHex), s.radix).encrypt(hexBytes(s.tweakHex), s.pt);
      if (computed !== s.ct) throw new Error(`NIST FF1 sample ${s.sample} does not reproduce`);
      tests.push({
        tcId: ++id,
        comment: `NIST SP 800-38G FF1 sample ${s.sample}`,
        radix: s.radix,
        tweakHex: s.tweakHex,
        pt: s.pt,
        ct: s.ct,
        result: "valid",
        flags: ["NistSample"],
      });
    }
    groups.push({ type: "Ff1Test", keySize: bits, keyLabel: null, keyHex, tests });
  }

  const codeKey = deriveTestKey("code-key");
  const keyHex = Buffer.from(codeKey).toString("hex");
  const tests: Ff1VectorTest[] = [];
  const ff1Decimal = new Ff1(codeKey, 10);
  for (const [tweak, pt, comment] of ONLINE_SHAPE_CASES) {
    const tweakBytes = new TextEncoder().encode(tweak);
    tests.push({
      tcId: ++id,
      comment: `${comment}; tweak "${tweak}"`,
      radix: 10,
      tweakHex: Buffer.from(tweakBytes).toString("hex"),
      pt,
      ct: ff1Decimal.encrypt(tweakBytes, pt),
      result: "valid",
      flags: ["OnlineCodeShape"],
    });
  }
  for (const [radix, tweakHex, pt, comment] of OTHER_SHAPE_CASES) {
    tests.push({
      tcId: ++id,
      comment,
      radix,
      tweakHex,
      pt,
      ct: new Ff1(codeKey, radix).encrypt(hexBytes(tweakHex), pt),
      result: "valid",
      flags: ["OtherShape"],
    });
  }
  groups.push({ type: "Ff1Test", keySize: 256, keyLabel: "code-key", keyHex, tests });

  return {
    algorithm: "FF1",
    schema: "paycode_ff1_test_schema_v1.json",
    generatorVersion: FF1_VECTORS_GENERATOR_VERSION,
    numberOfTests: id,
    header: [
      "FF1 format-preserving encryption (NIST SP 800-38G) with AES; numerals are written over 0-9a-z.",
      "keyLabel names the HKDF-SHA-256 derivation (IKM 'paycode test vectors v1', empty salt, info = label, 32 bytes); null for NIST's keys.",
      "Every test is valid: encrypt(key, tweak, pt) = ct and decrypt(key, tweak, ct) = pt.",
    ],
    notes: {
      NistSample: "One of the nine FF1 examples NIST published for SP 800-38G.",
      OnlineCodeShape:
        "AES-256, radix 10, 16 digits, tweak = two ASCII digits: exactly the FF1 layer of Paycode online codes.",
      OtherShape: "Another radix, length or tweak size, for general FF1 implementations.",
    },
    testGroups: groups,
  };
}
