import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AesBackend } from "./aes-block.js";
import { Ff1 } from "./ff1.js";
import { OnlineCodec, type OnlineVerification } from "./online-code.js";
import { OnlineMac, onlineMac, onlineMacMessage } from "./online-mac.js";
import { composePayload, type ParsedOnlineCode, splitPayload } from "./online-payload.js";
import {
  DEFAULT_ONLINE_PROFILE,
  type OnlineCodeProfile,
  stepOf,
  validateOnlineProfile,
} from "./online-profile.js";

const CODE_KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const SEED = new Uint8Array(32).map((_, i) => 255 - i * 3);
const OTHER_SEED = new Uint8Array(32).map((_, i) => i);
const HANDLE = 0x0abc_def1;
const PROFILE: OnlineCodeProfile = { ...DEFAULT_ONLINE_PROFILE, codeKey: CODE_KEY };
const BACKENDS: readonly AesBackend[] = ["table", "node"];
/** A step whose low 4 bits are 0, far from the epoch (2026-01-01T00:00Z). */
const BASE_STEP = stepOf(1_767_225_600);

describe("stepOf", () => {
  it("floors to 60-second steps", () => {
    expect(stepOf(0)).toBe(0);
    expect(stepOf(59)).toBe(0);
    expect(stepOf(60)).toBe(1);
    expect(stepOf(59.999)).toBe(0);
    expect(stepOf(1_767_225_600)).toBe(29_453_760);
    expect(BASE_STEP % 16).toBe(0);
  });
});

describe("online MAC", () => {
  it("builds M = 'PCv1' || prefix || handle u32be || S u64be || ctr", () => {
    const m = onlineMacMessage(62, 0x01020304, 0x0000_0506_0708_090a, 7);
    expect(Buffer.from(m).toString("hex")).toBe(
      "50437631" + "3e" + "01020304" + "00000506" + "0708090a" + "07",
    );
  });

  it("takes the first 18 bits of HMAC-SHA256(seed, M)", () => {
    const m = onlineMacMessage(62, HANDLE, BASE_STEP, 3);
    const h = createHmac("sha256", SEED).update(m).digest();
    const bits = parseInt(
      [...h.subarray(0, 3)]
        .map((x) => x.toString(2).padStart(8, "0"))
        .join("")
        .slice(0, 18),
      2,
    );
    expect(onlineMac(SEED, 62, HANDLE, BASE_STEP, 3)).toBe(bits);
  });

  it("the codec's HMAC built from crypto.hash equals createHmac", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 10, max: 99 }),
        fc.integer({ min: 0, max: 2 ** 28 - 1 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 7 }),
        (seed, prefix, handle, step, counter) => {
          const mac = new OnlineMac(prefix);
          mac.load(seed, handle);
          expect(mac.compute(step, counter)).toBe(onlineMac(seed, prefix, handle, step, counter));
          // A second step with the same loaded seed.
          expect(mac.compute(step >>> 1, 7 - counter)).toBe(
            onlineMac(seed, prefix, handle, step >>> 1, 7 - counter),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("payload layout", () => {
  it("packs handle<<25 | step4<<21 | ctr<<18 | mac", () => {
    const max: ParsedOnlineCode = { handle: 2 ** 28 - 1, step4: 15, counter: 7, mac: 0x3ffff };
    expect(composePayload(max)).toBe(2 ** 53 - 1);
    expect(splitPayload(2 ** 53 - 1)).toEqual(max);
    expect(composePayload({ handle: 1, step4: 0, counter: 0, mac: 0 })).toBe(2 ** 25);
    expect(composePayload({ handle: 0, step4: 1, counter: 1, mac: 1 })).toBe(2 ** 21 + 2 ** 18 + 1);
  });
});

describe("OnlineCodec AES backends", () => {
  it("defaults to the table backend and rejects unknown ones", () => {
    expect(new OnlineCodec(PROFILE).aes).toBe("table");
    expect(new OnlineCodec(PROFILE, {}).aes).toBe("table");
    expect(new OnlineCodec(PROFILE, { aes: "node" }).aes).toBe("node");
    expect(() => new OnlineCodec(PROFILE, { aes: "asm" as AesBackend })).toThrow(RangeError);
  });

  it("node and table make the same codes and parse any code alike", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 2 ** 28 - 1 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 7 }),
        fc.stringMatching(/^62\d{16}$/),
        (codeKey, seed, handle, step, counter, anyCode) => {
          const byNode = new OnlineCodec({ ...PROFILE, codeKey }, { aes: "node" });
          const byTable = new OnlineCodec({ ...PROFILE, codeKey }, { aes: "table" });
          const code = byNode.generate({ handle, seed, step, counter });
          expect(byTable.generate({ handle, seed, step, counter })).toBe(code);
          expect(byTable.parse(code)).toEqual(byNode.parse(code));
          expect(byTable.parse(anyCode)).toEqual(byNode.parse(anyCode));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe.each(BACKENDS)("AES backend %s", (aes) => {
  const codec = new OnlineCodec(PROFILE, { aes });

  /** Parse + look up the one known wallet + verify, as a verifier would. */
  function check(
    code: string,
    nowSeconds: number,
    wallets: ReadonlyMap<number, Uint8Array> = new Map([[HANDLE, SEED]]),
    c: OnlineCodec = codec,
  ): OnlineVerification | "malformed" {
    const parsed = c.parse(code);
    if (parsed === undefined) return "malformed";
    const seed = wallets.get(parsed.handle);
    if (seed === undefined) return { result: "invalid" };
    return c.verify(parsed, seed, nowSeconds);
  }

  const codeAt = (step: number, counter = 0, c: OnlineCodec = codec): string =>
    c.generate({ handle: HANDLE, seed: SEED, step, counter });

  describe("OnlineCodec round trip", () => {
    it("generate → parse → verify is valid for every step in the window", () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.integer({ min: 0, max: 2 ** 28 - 1 }),
          fc.integer({ min: 3, max: 2 ** 40 }),
          fc.integer({ min: 0, max: 7 }),
          fc.integer({ min: -1, max: 2 }),
          fc.integer({ min: 0, max: 59 }),
          (seed, handle, step, counter, lag, second) => {
            const code = codec.generate({ handle, seed, step, counter });
            expect(code).toMatch(/^62\d{16}$/);
            const parsed = codec.parse(code);
            expect(parsed).toEqual({
              handle,
              step4: step % 16,
              counter,
              mac: onlineMac(seed, 62, handle, step, counter),
            });
            const now = (step + lag) * 60 + second;
            expect(codec.verify(parsed!, seed, now)).toEqual({ result: "valid", step });
          },
        ),
        { numRuns: 300 },
      );
    });

    it("is deterministic and the counter changes the code", () => {
      const codes = new Set<string>();
      for (let counter = 0; counter < 8; counter++) {
        expect(codeAt(BASE_STEP, counter)).toBe(codeAt(BASE_STEP, counter));
        codes.add(codeAt(BASE_STEP, counter));
      }
      expect(codes.size).toBe(8);
    });

    it("verifies the same code again: reuse is the store's business, not the codec's", () => {
      const code = codeAt(BASE_STEP);
      expect(check(code, BASE_STEP * 60)).toEqual({ result: "valid", step: BASE_STEP });
      expect(check(code, BASE_STEP * 60 + 1)).toEqual({ result: "valid", step: BASE_STEP });
    });

    it("handles the extreme handles and counters", () => {
      for (const handle of [0, 1, 2 ** 28 - 1]) {
        for (const counter of [0, 7]) {
          const code = codec.generate({ handle, seed: SEED, step: BASE_STEP + 5, counter });
          const parsed = codec.parse(code)!;
          expect(parsed.handle).toBe(handle);
          expect(parsed.counter).toBe(counter);
          expect(codec.verify(parsed, SEED, (BASE_STEP + 5) * 60)).toEqual({
            result: "valid",
            step: BASE_STEP + 5,
          });
        }
      }
    });
  });

  describe("OnlineCodec tampering", () => {
    it("no single changed digit verifies valid", () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.integer({ min: 0, max: 2 ** 28 - 1 }),
          fc.integer({ min: 0, max: 2 ** 36 }),
          fc.integer({ min: 0, max: 7 }),
          (seed, handle, step, counter) => {
            const code = codec.generate({ handle, seed, step, counter });
            const wallets = new Map([[handle, seed]]);
            for (let pos = 0; pos < 18; pos++) {
              for (let digit = 0; digit < 10; digit++) {
                if (String(digit) === code[pos]) continue;
                const tampered = code.slice(0, pos) + digit + code.slice(pos + 1);
                const r = check(tampered, step * 60, wallets);
                expect(r === "malformed" || r.result !== "valid").toBe(true);
              }
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it("a changed prefix digit is malformed; changed FF1 digits decrypt to unrelated payloads", () => {
      const code = codeAt(BASE_STEP, 2);
      const original = codec.parse(code)!;
      for (let pos = 0; pos < 18; pos++) {
        const tampered =
          code.slice(0, pos) + String((Number(code[pos]) + 1) % 10) + code.slice(pos + 1);
        const parsed = codec.parse(tampered);
        if (pos < 2) {
          expect(parsed).toBeUndefined();
        } else if (parsed !== undefined) {
          expect(parsed.handle).not.toBe(original.handle);
        }
      }
    });

    it("a code made with another seed, or read with another counter, is invalid", () => {
      const forged = codec.generate({
        handle: HANDLE,
        seed: OTHER_SEED,
        step: BASE_STEP,
        counter: 0,
      });
      expect(check(forged, BASE_STEP * 60)).toEqual({ result: "invalid" });
      const parsed = codec.parse(codeAt(BASE_STEP, 4))!;
      expect(codec.verify({ ...parsed, counter: 5 }, SEED, BASE_STEP * 60)).toEqual({
        result: "invalid",
      });
    });

    it("an unknown handle is invalid (wallet lookup)", () => {
      expect(check(codeAt(BASE_STEP), BASE_STEP * 60, new Map())).toEqual({ result: "invalid" });
    });
  });

  describe("OnlineCodec.parse never throws", () => {
    const probe = (s: string): void => {
      const r = codec.parse(s);
      if (r !== undefined) {
        expect(Object.keys(r).sort()).toEqual(["counter", "handle", "mac", "step4"]);
        expect(codec.verify(r, SEED, BASE_STEP * 60).result).toMatch(/^(valid|expired|invalid)$/);
      }
    };

    it("on arbitrary strings", () => {
      fc.assert(fc.property(fc.string(), probe), { numRuns: 500 });
      fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 40 }), probe), { numRuns: 500 });
      fc.assert(fc.property(fc.string({ unit: "grapheme", minLength: 18, maxLength: 18 }), probe), {
        numRuns: 300,
      });
    });

    it("on any 18 digits, with or without the right prefix", () => {
      fc.assert(fc.property(fc.stringMatching(/^\d{18}$/), probe), { numRuns: 500 });
      fc.assert(fc.property(fc.stringMatching(/^62\d{16}$/), probe), { numRuns: 1000 });
    });

    it("rejects look-alikes and non-strings", () => {
      const good = codeAt(BASE_STEP);
      const cases = [
        "",
        good.slice(0, 17),
        `${good}0`,
        ` ${good.slice(1)}`,
        `${good.slice(0, 17)}\n`,
        `${good.slice(0, 17)}a`,
        "６２" + good.slice(2), // fullwidth digits
        good.slice(0, 2) + "٣".repeat(16), // Arabic-Indic digits
        `+${good.slice(1)}`,
        `-${good.slice(1)}`,
        `${good.slice(0, 9)}.${good.slice(10)}`,
        `63${good.slice(2)}`,
        `00${good.slice(2)}`,
      ];
      for (const s of cases) expect(codec.parse(s)).toBeUndefined();
      for (const v of [undefined, null, 62, 626262626262626, 62626262626262626262n, {}, [good]]) {
        expect(codec.parse(v as unknown as string)).toBeUndefined();
      }
    });

    it("is malformed when the decrypted payload is 2^53 or more", () => {
      const ff1 = new Ff1(CODE_KEY, 10);
      const tweak = new TextEncoder().encode("62");
      const edge = (x: string): string => `62${ff1.encrypt(tweak, x)}`;
      expect(codec.parse(edge("9007199254740992"))).toBeUndefined();
      expect(codec.parse(edge("9999999999999999"))).toBeUndefined();
      expect(codec.parse(edge("9007199254740991"))).toEqual({
        handle: 2 ** 28 - 1,
        step4: 15,
        counter: 7,
        mac: 0x3ffff,
      });
      expect(codec.parse(edge("0000000000000000"))).toEqual({
        handle: 0,
        step4: 0,
        counter: 0,
        mac: 0,
      });
    });
  });

  describe("OnlineCodec time windows (B=2, F=1, L=60)", () => {
    const S = BASE_STEP + 100;
    const at = (step: number, second = 0): number => step * 60 + second;

    it("valid from T−2 to T+1, both at the first and the last second of a step", () => {
      const code = codeAt(S);
      for (const second of [0, 59]) {
        expect(check(code, at(S + 2, second))).toEqual({ result: "valid", step: S });
        expect(check(code, at(S - 1, second))).toEqual({ result: "valid", step: S });
      }
      expect(check(code, at(S + 3))).toEqual({ result: "expired", step: S });
      expect(check(code, at(S - 1) - 1)).toEqual({ result: "invalid" });
    });

    it("the 4-bit step field wraps 15 → 0 in both directions", () => {
      const s15 = BASE_STEP + 15;
      expect(s15 % 16).toBe(15);
      const code = codeAt(s15);
      expect(check(code, at(s15 + 1))).toEqual({ result: "valid", step: s15 });
      expect(check(code, at(s15 + 2))).toEqual({ result: "valid", step: s15 });
      expect(check(code, at(s15 + 3))).toEqual({ result: "expired", step: s15 });
      const s0 = BASE_STEP + 16;
      expect(check(codeAt(s0), at(s15))).toEqual({ result: "valid", step: s0 });
      expect(check(codeAt(s0 + 1), at(s15))).toEqual({ result: "invalid" });
    });

    it("a code 16 steps old aliases the current step4 and is still expired, not invalid", () => {
      expect(check(codeAt(S), at(S + 16))).toEqual({ result: "expired", step: S });
      expect(check(codeAt(S), at(S + 32, 30))).toEqual({ result: "expired", step: S });
    });

    it("expired back to T−60, invalid from T−61", () => {
      const code = codeAt(S);
      expect(check(code, at(S + 59))).toEqual({ result: "expired", step: S });
      expect(check(code, at(S + 60, 59))).toEqual({ result: "expired", step: S });
      expect(check(code, at(S + 61))).toEqual({ result: "invalid" });
      expect(check(code, at(S + 1000))).toEqual({ result: "invalid" });
    });

    it("never uses candidate steps before the epoch", () => {
      expect(check(codeAt(0), 0)).toEqual({ result: "valid", step: 0 });
      expect(check(codeAt(1), 0)).toEqual({ result: "valid", step: 1 });
      expect(check(codeAt(15), 0)).toEqual({ result: "invalid" });
      expect(check(codeAt(0), at(3))).toEqual({ result: "expired", step: 0 });
      // Times before the epoch still follow the same rule: T = −1 accepts S = 0 as one step ahead.
      expect(check(codeAt(0), -1)).toEqual({ result: "valid", step: 0 });
      expect(check(codeAt(0), -61)).toEqual({ result: "invalid" });
    });

    it("matches the contract's definition for many profiles and every nearby now", () => {
      // Model: valid iff T−B ≤ S ≤ T+F; expired iff max(0, T−L) ≤ S < T−B; else invalid.
      // Fixed seed and key, so a 2^-18 MAC collision on another candidate would show up every run.
      const profiles: Array<[number, number, number]> = [
        [2, 1, 60],
        [0, 0, 0],
        [0, 0, 16],
        [15, 0, 15],
        [0, 15, 40],
        [5, 3, 17],
        [7, 8, 100],
      ];
      for (const [B, F, L] of profiles) {
        const c = new OnlineCodec(
          {
            prefix: 62,
            codeKey: CODE_KEY,
            windowBackSteps: B,
            windowAheadSteps: F,
            lookbackSteps: L,
          },
          { aes },
        );
        for (const s of [S, S + 7, 3]) {
          const code = codeAt(s, 1, c);
          for (let t = s - 20; t <= s + L + 20; t++) {
            const expected =
              t - B <= s && s <= t + F
                ? { result: "valid", step: s }
                : s < t - B && s >= Math.max(0, t - L)
                  ? { result: "expired", step: s }
                  : { result: "invalid" };
            expect(check(code, at(t, 17), undefined, c), `B${B} F${F} L${L} S${s} T${t}`).toEqual(
              expected,
            );
          }
        }
      }
    });
  });

  describe("OnlineCodec input validation", () => {
    it("rejects unusable profiles", () => {
      const bad: Array<Partial<OnlineCodeProfile>> = [
        { prefix: 9 },
        { prefix: 100 },
        { prefix: 62.5 },
        { codeKey: new Uint8Array(16) },
        { windowBackSteps: -1 },
        { windowAheadSteps: 1.5 },
        { windowBackSteps: 10, windowAheadSteps: 6 },
        { windowBackSteps: 5, lookbackSteps: 4 },
      ];
      for (const b of bad) {
        expect(() => new OnlineCodec({ ...PROFILE, ...b })).toThrow(RangeError);
      }
      expect(() =>
        validateOnlineProfile({
          ...PROFILE,
          windowBackSteps: 10,
          windowAheadSteps: 5,
          lookbackSteps: 10,
        }),
      ).not.toThrow();
    });

    it("rejects bad generate inputs with RangeErrors", () => {
      const ok = { handle: HANDLE, seed: SEED, step: BASE_STEP, counter: 0 };
      const bad = [
        { handle: 2 ** 28 },
        { handle: -1 },
        { handle: 1.5 },
        { counter: 8 },
        { counter: -1 },
        { seed: new Uint8Array(31) },
        { seed: new Uint8Array(33) },
        { step: -1 },
        { step: 2 ** 53 },
        { step: Number.NaN },
      ];
      for (const b of bad) expect(() => codec.generate({ ...ok, ...b })).toThrow(RangeError);
      expect(() => codec.generate(ok)).not.toThrow();
    });

    it("rejects bad verify inputs", () => {
      const parsed = codec.parse(codeAt(BASE_STEP))!;
      expect(() => codec.verify(parsed, new Uint8Array(16), 0)).toThrow(RangeError);
      expect(() => codec.verify(parsed, SEED, Number.NaN)).toThrow(RangeError);
      expect(() => codec.verify({ ...parsed, step4: 16 }, SEED, 0)).toThrow(RangeError);
      expect(() => codec.verify({ ...parsed, mac: 2 ** 18 }, SEED, 0)).toThrow(RangeError);
    });

    it("keeps its own copy of the code key", () => {
      const key = Uint8Array.from(CODE_KEY);
      const c = new OnlineCodec({ ...PROFILE, codeKey: key }, { aes });
      const before = c.generate({ handle: HANDLE, seed: SEED, step: BASE_STEP, counter: 0 });
      key.fill(0);
      expect(c.generate({ handle: HANDLE, seed: SEED, step: BASE_STEP, counter: 0 })).toBe(before);
    });
  });
});
