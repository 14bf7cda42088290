// Builds spec/vectors/online-codes.json: online-code (18-digit) verification vectors.
import { createHmac } from "node:crypto";
import {
  composePayload,
  DEFAULT_ONLINE_PROFILE,
  Ff1,
  OnlineCodec,
  type OnlineCodeProfile,
  onlineMac,
  onlineMacMessage,
  type ParsedOnlineCode,
  STEP_SECONDS,
} from "@paycode/protocol";
import { deriveTestKey } from "./derive.js";

/** Bump when the content of the generated vectors changes meaning. */
export const ONLINE_VECTORS_GENERATOR_VERSION = "1";

type Verification = "valid" | "expired" | "invalid" | "malformed";

interface Wallet {
  label: string;
  handle: number;
  seed: Uint8Array;
}

interface OnlineVectorTest {
  tcId: number;
  comment: string;
  code: string;
  nowSeconds: number;
  walletLabel?: string;
  handle?: number;
  step?: number;
  counter?: number;
  verification: Verification;
  expectedStep?: number;
  parsed?: ParsedOnlineCode;
  intermediate?: Record<string, string | number>;
  result: "valid" | "invalid";
  flags: string[];
}

const CODE_KEY_LABEL = "code-key";
/** 2026-01-01T00:00:00Z; its step is a multiple of 16, so step4 = 0 there. */
const BASE_STEP = Math.floor(1_767_225_600 / STEP_SECONDS);

const NOTES: Record<string, string> = {
  Valid: "A code inside the validity window [T−B, T+F] with the right MAC.",
  Intermediate:
    "The test lists intermediate values: the 18-byte MAC message M, the full HMAC, the 18-bit mac, the payload P, the 16-digit FF1 input X and the FF1 output.",
  Counter: "Codes of one wallet and step that differ only by the per-step counter.",
  WindowEdge:
    "The verifier's step T is at an edge of the window: T−B (valid), T−B−1 (expired), T+F (valid), T+F+1 (invalid), at the first or last second of a step.",
  FutureStep: "The code's step is ahead of the verifier's step (wallet clock ahead).",
  Expired:
    "The MAC matches an older step S with T−L ≤ S < T−B: EXPIRED (reported with that S), not INVALID.",
  StepWrap:
    "The 4-bit step field rolls over (15 → 0) between the code's step and the verifier's step.",
  StepAlias:
    "The code is a multiple of 16 steps old, so its step4 equals a step inside the window; the in-window MAC fails and the older candidate matches.",
  Lookback: "The code's step is at or just past the look-back limit T−L.",
  EpochStart: "Steps near the Unix epoch: candidate steps below 0 are never tried.",
  TamperedDigit:
    "One digit of a valid code is changed. The prefix digits give MALFORMED; an FF1 digit decrypts to an unrelated payload (MALFORMED if P ≥ 2^53, else usually an unknown handle).",
  WrongPrefix: "The first two digits are not the verifier's prefix: MALFORMED.",
  WrongLength: "Not exactly 18 characters: MALFORMED.",
  NonDigit: "18 characters but not all ASCII '0'..'9' (letters, spaces, signs, non-ASCII digits).",
  PayloadOverflow: "The 16 digits decrypt to X ≥ 2^53: MALFORMED.",
  MaxPayload:
    "The 16 digits decrypt to an extreme payload below 2^53 (all fields 0 or all fields maximal); the MAC does not match.",
  UnknownHandle: "The handle in the payload belongs to no provisioned wallet: INVALID.",
  WrongSeed: "The code was made with another wallet's seed for a known handle: INVALID.",
  NonDefaultProfile: "A profile other than paycode-default-v1 (other prefix and windows).",
};

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Parse, look the handle up among the group's wallets, verify: what a verifier reports. */
function evaluate(
  codec: OnlineCodec,
  wallets: readonly Wallet[],
  code: string,
  nowSeconds: number,
): { verification: Verification; step?: number; parsed?: ParsedOnlineCode } {
  const parsed = codec.parse(code);
  if (parsed === undefined) return { verification: "malformed" };
  const wallet = wallets.find((w) => w.handle === parsed.handle);
  if (wallet === undefined) return { verification: "invalid", parsed };
  const v = codec.verify(parsed, wallet.seed, nowSeconds);
  return v.result === "invalid"
    ? { verification: "invalid", parsed }
    : { verification: v.result, step: v.step, parsed };
}

class GroupBuilder {
  readonly tests: OnlineVectorTest[] = [];
  readonly codec: OnlineCodec;
  readonly ff1: Ff1;
  readonly tweak: Uint8Array;

  constructor(
    readonly profile: OnlineCodeProfile,
    readonly wallets: readonly Wallet[],
    private readonly nextId: () => number,
  ) {
    this.codec = new OnlineCodec(profile);
    this.ff1 = new Ff1(profile.codeKey, 10);
    this.tweak = new TextEncoder().encode(String(profile.prefix));
  }

  generate(wallet: Wallet, step: number, counter: number): string {
    return this.codec.generate({ handle: wallet.handle, seed: wallet.seed, step, counter });
  }

  /** The code whose FF1 layer decrypts to the 16-digit X. */
  codeForPayloadDigits(x: string): string {
    return String(this.profile.prefix) + this.ff1.encrypt(this.tweak, x);
  }

  /**
   * Adds a test. `intent` is the outcome the test was designed for; the
   * builder refuses to emit a vector whose computed outcome differs.
   */
  add(a: {
    comment: string;
    code: string;
    nowSeconds: number;
    flags: string[];
    intent?: Verification;
    generatedBy?: { wallet: Wallet; step: number; counter: number };
    withIntermediate?: boolean;
  }): OnlineVectorTest {
    const r = evaluate(this.codec, this.wallets, a.code, a.nowSeconds);
    if (a.intent !== undefined && r.verification !== a.intent) {
      throw new Error(`vector "${a.comment}": intended ${a.intent}, codec gives ${r.verification}`);
    }
    const g = a.generatedBy;
    const test: OnlineVectorTest = {
      tcId: this.nextId(),
      comment: a.comment,
      code: a.code,
      nowSeconds: a.nowSeconds,
      ...(g === undefined
        ? {}
        : {
            walletLabel: g.wallet.label,
            handle: g.wallet.handle,
            step: g.step,
            counter: g.counter,
          }),
      verification: r.verification,
      ...(r.step === undefined ? {} : { expectedStep: r.step }),
      ...(r.parsed === undefined ? {} : { parsed: r.parsed }),
      ...(a.withIntermediate && g !== undefined
        ? { intermediate: this.intermediate(g.wallet, g.step, g.counter) }
        : {}),
      result: r.verification === "valid" ? "valid" : "invalid",
      flags: a.withIntermediate ? [...a.flags, "Intermediate"] : a.flags,
    };
    this.tests.push(test);
    return test;
  }

  intermediate(wallet: Wallet, step: number, counter: number): Record<string, string | number> {
    const { prefix } = this.profile;
    const message = onlineMacMessage(prefix, wallet.handle, step, counter);
    const hmac = createHmac("sha256", wallet.seed).update(message).digest();
    const mac = onlineMac(wallet.seed, prefix, wallet.handle, step, counter);
    const payload = composePayload({ handle: wallet.handle, step4: step % 16, counter, mac });
    const x = String(payload).padStart(16, "0");
    return {
      macMessageHex: hex(message),
      hmacSha256Hex: hmac.toString("hex"),
      mac,
      step4: step % 16,
      payload,
      ff1InputX: x,
      ff1Output: this.ff1.encrypt(this.tweak, x),
    };
  }

  toJson(name: string, codeKeyLabel: string): object {
    const p = this.profile;
    return {
      type: "OnlineCodeVerify",
      profile: {
        name,
        prefix: p.prefix,
        windowBackSteps: p.windowBackSteps,
        windowAheadSteps: p.windowAheadSteps,
        lookbackSteps: p.lookbackSteps,
        stepSeconds: STEP_SECONDS,
      },
      codeKeyLabel,
      codeKeyHex: hex(p.codeKey),
      ff1: { cipher: "AES-256", radix: 10, numerals: 16, tweakHex: hex(this.tweak) },
      wallets: this.wallets.map((w) => ({
        label: w.label,
        seedHex: hex(w.seed),
        handle: w.handle,
      })),
      tests: this.tests,
    };
  }
}

function wallet(n: number, handle: number): Wallet {
  const label = `wallet-seed/${n}`;
  return { label, handle, seed: deriveTestKey(label) };
}

const at = (step: number, second = 0): number => step * STEP_SECONDS + second;

function defaultGroup(codeKey: Uint8Array, nextId: () => number): GroupBuilder {
  const w1 = wallet(1, 0x0abc_def);
  const w2 = wallet(2, 2 ** 28 - 1);
  const w3 = wallet(3, 0);
  const g = new GroupBuilder({ ...DEFAULT_ONLINE_PROFILE, codeKey }, [w1, w2, w3], nextId);
  const gen = (w: Wallet, step: number, counter: number) => ({
    code: g.generate(w, step, counter),
    generatedBy: { wallet: w, step, counter },
  });

  // Valid codes at several times, wallets and counters.
  const S0 = BASE_STEP + 5;
  g.add({
    comment: "valid, first second of the step",
    ...gen(w1, S0, 0),
    nowSeconds: at(S0),
    flags: ["Valid"],
    intent: "valid",
    withIntermediate: true,
  });
  g.add({
    comment: "valid, mid-step, counter 1",
    ...gen(w1, S0, 1),
    nowSeconds: at(S0, 30),
    flags: ["Valid"],
    intent: "valid",
    withIntermediate: true,
  });
  g.add({
    comment: "valid, last second of the step, counter 7",
    ...gen(w1, S0, 7),
    nowSeconds: at(S0, 59),
    flags: ["Valid", "Counter"],
    intent: "valid",
    withIntermediate: true,
  });
  g.add({
    comment: "valid, largest handle 2^28-1",
    ...gen(w2, BASE_STEP + 9, 3),
    nowSeconds: at(BASE_STEP + 9, 30),
    flags: ["Valid"],
    intent: "valid",
    withIntermediate: true,
  });
  g.add({
    comment: "valid, handle 0",
    ...gen(w3, BASE_STEP + 9, 5),
    nowSeconds: at(BASE_STEP + 9, 1),
    flags: ["Valid"],
    intent: "valid",
    withIntermediate: true,
  });
  g.add({
    comment: "valid, a later day",
    ...gen(w1, BASE_STEP + 1000, 2),
    nowSeconds: at(BASE_STEP + 1000, 59),
    flags: ["Valid"],
    intent: "valid",
  });
  g.add({
    comment: "valid, code one step old",
    ...gen(w2, BASE_STEP + 3, 0),
    nowSeconds: at(BASE_STEP + 4, 10),
    flags: ["Valid"],
    intent: "valid",
  });

  // Window edges around one code.
  const S1 = BASE_STEP + 100;
  const c1 = gen(w1, S1, 0);
  const base = g.add({
    comment: "verifier at the code's step",
    ...c1,
    nowSeconds: at(S1),
    flags: ["Valid"],
    intent: "valid",
  });
  g.add({
    comment: "code at T-1",
    ...c1,
    nowSeconds: at(S1 + 1, 30),
    flags: ["Valid"],
    intent: "valid",
  });
  g.add({
    comment: "code at T-2 (first second of T): last valid step back",
    ...c1,
    nowSeconds: at(S1 + 2),
    flags: ["WindowEdge"],
    intent: "valid",
  });
  g.add({
    comment: "code at T-2 (last second of T)",
    ...c1,
    nowSeconds: at(S1 + 2, 59),
    flags: ["WindowEdge"],
    intent: "valid",
  });
  g.add({
    comment: "code at T-3: one second after the window closed",
    ...c1,
    nowSeconds: at(S1 + 3),
    flags: ["WindowEdge", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "code at T+1 (first second of T): wallet clock ahead",
    ...c1,
    nowSeconds: at(S1 - 1),
    flags: ["WindowEdge", "FutureStep"],
    intent: "valid",
  });
  g.add({
    comment: "code at T+1 (last second of T)",
    ...c1,
    nowSeconds: at(S1 - 1, 59),
    flags: ["WindowEdge", "FutureStep"],
    intent: "valid",
  });
  g.add({
    comment: "code at T+2 (last second of T): too far ahead",
    ...c1,
    nowSeconds: at(S1 - 2, 59),
    flags: ["WindowEdge", "FutureStep"],
    intent: "invalid",
  });
  g.add({
    comment: "code at T+2 (first second of T)",
    ...c1,
    nowSeconds: at(S1 - 2),
    flags: ["WindowEdge", "FutureStep"],
    intent: "invalid",
  });

  // The 4-bit step field rolling over.
  const s15 = BASE_STEP + 15;
  const c15 = gen(w1, s15, 4);
  g.add({
    comment: "step4 15 read at a step with step4 0 (T-1)",
    ...c15,
    nowSeconds: at(s15 + 1),
    flags: ["StepWrap"],
    intent: "valid",
  });
  g.add({
    comment: "step4 15 read at step4 1 (T-2)",
    ...c15,
    nowSeconds: at(s15 + 2, 59),
    flags: ["StepWrap", "WindowEdge"],
    intent: "valid",
  });
  g.add({
    comment: "step4 15 read at step4 2 (T-3)",
    ...c15,
    nowSeconds: at(s15 + 3),
    flags: ["StepWrap", "WindowEdge", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "step4 0 read at step4 15 (T+1)",
    ...gen(w1, s15 + 1, 4),
    nowSeconds: at(s15, 59),
    flags: ["StepWrap", "FutureStep"],
    intent: "valid",
  });
  g.add({
    comment: "step4 1 read at step4 15 (T+2)",
    ...gen(w1, s15 + 2, 4),
    nowSeconds: at(s15),
    flags: ["StepWrap", "FutureStep"],
    intent: "invalid",
  });
  g.add({
    comment: "step4 14 read at step4 0 (T-2)",
    ...gen(w2, s15 - 1, 6),
    nowSeconds: at(s15 + 1),
    flags: ["StepWrap", "WindowEdge"],
    intent: "valid",
  });
  g.add({
    comment: "step4 13 read at step4 0 (T-3)",
    ...gen(w2, s15 - 2, 6),
    nowSeconds: at(s15 + 1),
    flags: ["StepWrap", "Expired"],
    intent: "expired",
  });

  // Codes a multiple of 16 steps old.
  g.add({
    comment: "16 steps old: same step4 as T, expired at S",
    ...c1,
    nowSeconds: at(S1 + 16),
    flags: ["StepAlias", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "32 steps old",
    ...c1,
    nowSeconds: at(S1 + 32, 30),
    flags: ["StepAlias", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "48 steps old",
    ...c1,
    nowSeconds: at(S1 + 48, 59),
    flags: ["StepAlias", "Expired"],
    intent: "expired",
  });

  // The look-back limit L = 60.
  g.add({
    comment: "T-59: expired",
    ...c1,
    nowSeconds: at(S1 + 59),
    flags: ["Lookback", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "T-60 (first second of T): oldest expired step",
    ...c1,
    nowSeconds: at(S1 + 60),
    flags: ["Lookback", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "T-60 (last second of T)",
    ...c1,
    nowSeconds: at(S1 + 60, 59),
    flags: ["Lookback", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "T-61: beyond the look-back, invalid",
    ...c1,
    nowSeconds: at(S1 + 61),
    flags: ["Lookback"],
    intent: "invalid",
  });
  g.add({
    comment: "T-200: long gone, invalid",
    ...c1,
    nowSeconds: at(S1 + 200),
    flags: ["Lookback"],
    intent: "invalid",
  });

  // Near the epoch.
  g.add({
    comment: "step 0 at time 0",
    ...gen(w1, 0, 0),
    nowSeconds: 0,
    flags: ["EpochStart", "Valid"],
    intent: "valid",
  });
  g.add({
    comment: "step 1 at time 0 (T+1)",
    ...gen(w1, 1, 0),
    nowSeconds: 0,
    flags: ["EpochStart", "FutureStep"],
    intent: "valid",
  });
  g.add({
    comment: "step 2 at time 59 (T+2)",
    ...gen(w1, 2, 0),
    nowSeconds: 59,
    flags: ["EpochStart", "FutureStep"],
    intent: "invalid",
  });
  g.add({
    comment: "step 15 at time 0: only candidate would be step -1",
    ...gen(w1, 15, 0),
    nowSeconds: 0,
    flags: ["EpochStart", "FutureStep"],
    intent: "invalid",
  });
  g.add({
    comment: "step 0 at time 180 (T-3)",
    ...gen(w1, 0, 0),
    nowSeconds: 180,
    flags: ["EpochStart", "Expired"],
    intent: "expired",
  });

  // Every counter of one step.
  for (let counter = 1; counter < 8; counter++) {
    g.add({
      comment: `counter ${counter} at the code's step`,
      ...gen(w3, S1, counter),
      nowSeconds: at(S1, 15),
      flags: ["Counter", "Valid"],
      intent: "valid",
    });
  }

  // One changed digit at each position of c1.
  for (let pos = 0; pos < 18; pos++) {
    const old = Number(c1.code[pos]);
    const digit = (old + 1 + (pos % 9)) % 10;
    const code = c1.code.slice(0, pos) + digit + c1.code.slice(pos + 1);
    g.add({
      comment: `code of tcId ${base.tcId} with digit ${pos} changed ${old} → ${digit}`,
      code,
      nowSeconds: at(S1),
      flags: pos < 2 ? ["TamperedDigit", "WrongPrefix"] : ["TamperedDigit"],
      ...(pos < 2 ? { intent: "malformed" as const } : {}),
    });
  }

  // Wrong prefix.
  const other = new OnlineCodec({ ...DEFAULT_ONLINE_PROFILE, prefix: 63, codeKey });
  g.add({
    comment: "valid code of an issuer with prefix 63 (same key)",
    code: other.generate({ handle: w1.handle, seed: w1.seed, step: S1, counter: 0 }),
    nowSeconds: at(S1),
    flags: ["WrongPrefix"],
    intent: "malformed",
  });
  g.add({
    comment: "prefix 00",
    code: `00${c1.code.slice(2)}`,
    nowSeconds: at(S1),
    flags: ["WrongPrefix"],
    intent: "malformed",
  });
  g.add({
    comment: "prefix 99",
    code: `99${c1.code.slice(2)}`,
    nowSeconds: at(S1),
    flags: ["WrongPrefix"],
    intent: "malformed",
  });
  g.add({
    comment: "prefix digits swapped (26)",
    code: `26${c1.code.slice(2)}`,
    nowSeconds: at(S1),
    flags: ["WrongPrefix"],
    intent: "malformed",
  });

  // Wrong length.
  g.add({
    comment: "17 digits (last dropped)",
    code: c1.code.slice(0, 17),
    nowSeconds: at(S1),
    flags: ["WrongLength"],
    intent: "malformed",
  });
  g.add({
    comment: "19 digits (0 appended)",
    code: `${c1.code}0`,
    nowSeconds: at(S1),
    flags: ["WrongLength"],
    intent: "malformed",
  });
  g.add({
    comment: "16 digits (prefix missing)",
    code: c1.code.slice(2),
    nowSeconds: at(S1),
    flags: ["WrongLength"],
    intent: "malformed",
  });
  g.add({
    comment: "empty string",
    code: "",
    nowSeconds: at(S1),
    flags: ["WrongLength"],
    intent: "malformed",
  });
  g.add({
    comment: "two codes concatenated",
    code: c1.code + c1.code,
    nowSeconds: at(S1),
    flags: ["WrongLength"],
    intent: "malformed",
  });
  g.add({
    comment: "18 digits plus a trailing newline",
    code: `${c1.code}\n`,
    nowSeconds: at(S1),
    flags: ["WrongLength"],
    intent: "malformed",
  });

  // Not all ASCII digits.
  const nonDigit: Array<[string, string]> = [
    ["letter in the FF1 digits", `${c1.code.slice(0, 10)}a${c1.code.slice(11)}`],
    ["leading space", ` ${c1.code.slice(1)}`],
    ["trailing newline in place of the last digit", `${c1.code.slice(0, 17)}\n`],
    ["minus sign", `${c1.code.slice(0, 9)}-${c1.code.slice(10)}`],
    ["plus sign first", `+${c1.code.slice(1)}`],
    [
      "fullwidth digits (U+FF10..)",
      [...c1.code].map((c) => String.fromCharCode(0xff10 + Number(c))).join(""),
    ],
    [
      "Arabic-Indic digits (U+0660..) after the prefix",
      c1.code.slice(0, 2) +
        [...c1.code.slice(2)].map((c) => String.fromCharCode(0x660 + Number(c))).join(""),
    ],
  ];
  for (const [comment, code] of nonDigit) {
    g.add({ comment, code, nowSeconds: at(S1), flags: ["NonDigit"], intent: "malformed" });
  }

  // Payloads at and beyond 2^53.
  for (const x of ["9007199254740992", "9007199254740993", "9999999999999999"]) {
    g.add({
      comment: `FF1 digits decrypt to X = ${x} ≥ 2^53`,
      code: g.codeForPayloadDigits(x),
      nowSeconds: at(S1),
      flags: ["PayloadOverflow"],
      intent: "malformed",
    });
  }
  g.add({
    comment: "X = 2^53-1: handle 2^28-1 (a known wallet), step4 15, counter 7, mac 0x3ffff",
    code: g.codeForPayloadDigits("9007199254740991"),
    nowSeconds: at(BASE_STEP + 15),
    flags: ["MaxPayload"],
    intent: "invalid",
  });
  g.add({
    comment: "X = 0: handle 0 (a known wallet), step4 0, counter 0, mac 0",
    code: g.codeForPayloadDigits("0000000000000000"),
    nowSeconds: at(BASE_STEP),
    flags: ["MaxPayload"],
    intent: "invalid",
  });

  // Unknown handle and wrong seed.
  const stranger = wallet(99, 4242);
  g.add({
    comment: `well-formed code for handle ${stranger.handle}, which no wallet has`,
    ...gen(stranger, S1, 0),
    nowSeconds: at(S1),
    flags: ["UnknownHandle"],
    intent: "invalid",
  });
  g.add({
    comment: `${w1.label}'s handle with ${w2.label}'s seed`,
    ...gen({ ...w2, handle: w1.handle }, S1, 0),
    nowSeconds: at(S1),
    flags: ["WrongSeed"],
    intent: "invalid",
  });
  return g;
}

function narrowGroup(codeKey: Uint8Array, nextId: () => number): GroupBuilder {
  const w1 = wallet(1, 0x0abc_def);
  const profile = {
    prefix: 10,
    codeKey,
    windowBackSteps: 0,
    windowAheadSteps: 0,
    lookbackSteps: 16,
  };
  const g = new GroupBuilder(profile, [w1], nextId);
  const S = BASE_STEP + 7;
  const c = { code: g.generate(w1, S, 2), generatedBy: { wallet: w1, step: S, counter: 2 } };
  const flags = ["NonDefaultProfile"];
  g.add({
    comment: "B=F=0: valid only in its own step",
    ...c,
    nowSeconds: at(S, 59),
    flags: [...flags, "Valid"],
    intent: "valid",
    withIntermediate: true,
  });
  g.add({
    comment: "B=F=0: one step ahead is invalid",
    ...c,
    nowSeconds: at(S - 1, 59),
    flags: [...flags, "FutureStep", "WindowEdge"],
    intent: "invalid",
  });
  g.add({
    comment: "B=F=0: one step old is expired",
    ...c,
    nowSeconds: at(S + 1),
    flags: [...flags, "WindowEdge", "Expired"],
    intent: "expired",
  });
  g.add({
    comment: "L=16: 16 steps old is expired",
    ...c,
    nowSeconds: at(S + 16, 59),
    flags: [...flags, "Lookback", "StepAlias"],
    intent: "expired",
  });
  g.add({
    comment: "L=16: 17 steps old is invalid",
    ...c,
    nowSeconds: at(S + 17),
    flags: [...flags, "Lookback"],
    intent: "invalid",
  });
  const defaultCodec = new OnlineCodec({ ...DEFAULT_ONLINE_PROFILE, codeKey });
  g.add({
    comment: "a prefix-62 code at a prefix-10 verifier",
    code: defaultCodec.generate({ handle: w1.handle, seed: w1.seed, step: S, counter: 2 }),
    nowSeconds: at(S),
    flags: [...flags, "WrongPrefix"],
    intent: "malformed",
  });
  return g;
}

/** The online-code vector file (contract §1, §3), deterministic. */
export function buildOnlineVectors(): object {
  const codeKey = deriveTestKey(CODE_KEY_LABEL);
  let id = 0;
  const nextId = () => ++id;
  const groups = [
    defaultGroup(codeKey, nextId).toJson("paycode-default-v1", CODE_KEY_LABEL),
    narrowGroup(codeKey, nextId).toJson("narrow-window-test", CODE_KEY_LABEL),
  ];
  return {
    algorithm: "PAYCODE-ONLINE-CODE-V1",
    schema: "paycode_online_code_test_schema_v1.json",
    generatorVersion: ONLINE_VECTORS_GENERATOR_VERSION,
    numberOfTests: id,
    header: [
      "Paycode v1 online codes: PP || FF1-AES-256(K_code, tweak = ASCII PP, radix 10, 16 digits of P),",
      "P = handle<<25 | step4<<21 | ctr<<18 | mac, mac = first 18 bits of HMAC-SHA256(seed, 'PCv1' || PP || handle u32be || S u64be || ctr).",
      "Keys and seeds are HKDF-SHA-256(IKM = 'paycode test vectors v1', salt = empty, info = label, L = 32).",
      "A verifier parses the code, looks the handle up among the group's wallets (none: invalid) and verifies at nowSeconds.",
      "verification is one of valid | expired | invalid | malformed; expectedStep is the full step S for valid and expired.",
      "walletLabel/handle/step/counter, when present, generate exactly `code`; parsed lists the payload fields of every non-malformed code.",
    ],
    notes: NOTES,
    testGroups: groups,
  };
}
