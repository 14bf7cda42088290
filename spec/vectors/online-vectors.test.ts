import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FF1 } from "@noble/ciphers/ff1.js";
import {
  composePayload,
  Ff1,
  OnlineCodec,
  onlineMac,
  onlineMacMessage,
  type ParsedOnlineCode,
} from "@paycode/protocol";
import { describe, expect, it } from "vitest";
import { deriveTestKey } from "./derive.js";
import { buildFf1Vectors } from "./ff1-vectors.js";
import { buildOnlineVectors } from "./online-vectors.js";

interface OnlineTest {
  tcId: number;
  comment: string;
  code: string;
  nowSeconds: number;
  walletLabel?: string;
  handle?: number;
  step?: number;
  counter?: number;
  verification: "valid" | "expired" | "invalid" | "malformed";
  expectedStep?: number;
  parsed?: ParsedOnlineCode;
  intermediate?: {
    macMessageHex: string;
    hmacSha256Hex: string;
    mac: number;
    step4: number;
    payload: number;
    ff1InputX: string;
    ff1Output: string;
  };
  result: "valid" | "invalid";
  flags: string[];
}

interface OnlineGroup {
  profile: {
    prefix: number;
    windowBackSteps: number;
    windowAheadSteps: number;
    lookbackSteps: number;
    stepSeconds: number;
  };
  codeKeyLabel: string;
  codeKeyHex: string;
  ff1: { radix: number; numerals: number; tweakHex: string };
  wallets: Array<{ label: string; seedHex: string; handle: number }>;
  tests: OnlineTest[];
}

interface OnlineFile {
  numberOfTests: number;
  notes: Record<string, string>;
  testGroups: OnlineGroup[];
}

interface Ff1File {
  numberOfTests: number;
  notes: Record<string, string>;
  testGroups: Array<{
    keySize: number;
    keyLabel: string | null;
    keyHex: string;
    tests: Array<{
      tcId: number;
      radix: number;
      tweakHex: string;
      pt: string;
      ct: string;
      flags: string[];
    }>;
  }>;
}

const here = dirname(fileURLToPath(import.meta.url));
const hexBytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The builders' output, plus the committed JSON file when it exists. */
function sources<T>(file: string, build: () => object): Array<[string, T]> {
  const out: Array<[string, T]> = [["builder", build() as T]];
  const path = join(here, file);
  if (existsSync(path)) out.push([file, JSON.parse(readFileSync(path, "utf8")) as T]);
  return out;
}

function checkIds(all: Array<{ tcId: number; flags: string[] }>, total: number, notes: object) {
  expect(all.length).toBe(total);
  expect(all.map((t) => t.tcId)).toEqual(all.map((_, i) => i + 1));
  for (const t of all) for (const f of t.flags) expect(Object.keys(notes)).toContain(f);
}

for (const [source, file] of sources<OnlineFile>("online-codes.json", buildOnlineVectors)) {
  describe(`online-code vectors (${source})`, () => {
    const all = file.testGroups.flatMap((g) => g.tests);

    it("has at least 60 tests, consecutive tcIds and documented flags", () => {
      expect(all.length).toBeGreaterThanOrEqual(60);
      checkIds(all, file.numberOfTests, file.notes);
    });

    it("covers every required case", () => {
      const flags = new Set(all.flatMap((t) => t.flags));
      for (const f of [
        "Valid",
        "WindowEdge",
        "StepWrap",
        "Lookback",
        "Expired",
        "TamperedDigit",
        "WrongPrefix",
        "WrongLength",
        "NonDigit",
        "PayloadOverflow",
        "UnknownHandle",
        "Intermediate",
      ]) {
        expect(flags, f).toContain(f);
      }
      const tampered = all.filter((t) => t.flags.includes("TamperedDigit"));
      expect(tampered.length).toBeGreaterThanOrEqual(18);
      for (const v of ["valid", "expired", "invalid", "malformed"]) {
        expect(all.some((t) => t.verification === v)).toBe(true);
      }
    });

    for (const group of file.testGroups) {
      describe(`profile prefix ${group.profile.prefix}`, () => {
        const codeKey = hexBytes(group.codeKeyHex);
        const codec = new OnlineCodec({ ...group.profile, codeKey });
        const wallets = new Map(group.wallets.map((w) => [w.handle, hexBytes(w.seedHex)]));

        it("derives its key and seeds from their labels", () => {
          expect(group.codeKeyHex).toBe(hex(deriveTestKey(group.codeKeyLabel)));
          for (const w of group.wallets) expect(w.seedHex).toBe(hex(deriveTestKey(w.label)));
          expect(group.ff1.tweakHex).toBe(
            hex(new TextEncoder().encode(String(group.profile.prefix))),
          );
        });

        for (const t of group.tests) {
          it(`tcId ${t.tcId}: ${t.comment}`, () => {
            expect(t.result).toBe(t.verification === "valid" ? "valid" : "invalid");
            const parsed = codec.parse(t.code);
            if (t.verification === "malformed") {
              expect(parsed).toBeUndefined();
            } else {
              expect(parsed).toEqual(t.parsed);
              const seed = wallets.get(parsed!.handle);
              const v =
                seed === undefined
                  ? { result: "invalid" as const }
                  : codec.verify(parsed!, seed, t.nowSeconds);
              expect(v.result).toBe(t.verification);
              expect("step" in v ? v.step : undefined).toBe(t.expectedStep);
            }
            if (t.walletLabel !== undefined) {
              const seed = deriveTestKey(t.walletLabel);
              const code = codec.generate({
                handle: t.handle!,
                seed,
                step: t.step!,
                counter: t.counter!,
              });
              expect(code).toBe(t.code);
              if (t.intermediate !== undefined) {
                const i = t.intermediate;
                const { prefix } = group.profile;
                const m = onlineMacMessage(prefix, t.handle!, t.step!, t.counter!);
                expect(i.macMessageHex).toBe(hex(m));
                expect(i.mac).toBe(parseInt(i.hmacSha256Hex.slice(0, 6), 16) >>> 6);
                expect(i.mac).toBe(onlineMac(seed, prefix, t.handle!, t.step!, t.counter!));
                expect(i.step4).toBe(t.step! % 16);
                expect(i.payload).toBe(
                  composePayload({
                    handle: t.handle!,
                    step4: i.step4,
                    counter: t.counter!,
                    mac: i.mac,
                  }),
                );
                expect(i.ff1InputX).toBe(String(i.payload).padStart(16, "0"));
                expect(String(prefix) + i.ff1Output).toBe(t.code);
                const ff1 = new Ff1(codeKey, 10);
                expect(ff1.decrypt(hexBytes(group.ff1.tweakHex), i.ff1Output)).toBe(i.ff1InputX);
              }
            }
          });
        }
      });
    }
  });
}

for (const [source, file] of sources<Ff1File>("ff1.json", buildFf1Vectors)) {
  describe(`FF1 vectors (${source})`, () => {
    const all = file.testGroups.flatMap((g) => g.tests);

    it("has the 9 NIST samples, at least 10 online-shape vectors and consecutive tcIds", () => {
      checkIds(all, file.numberOfTests, file.notes);
      expect(all.filter((t) => t.flags.includes("NistSample"))).toHaveLength(9);
      const online = all.filter((t) => t.flags.includes("OnlineCodeShape"));
      expect(online.length).toBeGreaterThanOrEqual(10);
      for (const t of online) {
        expect(t.radix).toBe(10);
        expect(t.pt).toMatch(/^\d{16}$/);
        expect(t.tweakHex).toMatch(/^3[0-9]3[0-9]$/);
      }
    });

    for (const group of file.testGroups) {
      const key = hexBytes(group.keyHex);
      if (group.keyLabel !== null) {
        it(`key ${group.keyLabel} derives from its label`, () => {
          expect(group.keyHex).toBe(hex(deriveTestKey(group.keyLabel!)));
        });
      }
      for (const t of group.tests) {
        it(`tcId ${t.tcId}: AES-${group.keySize} radix ${t.radix}, ${t.pt.length} numerals`, () => {
          expect(key.length * 8).toBe(group.keySize);
          const tweak = hexBytes(t.tweakHex);
          const ff1 = new Ff1(key, t.radix);
          expect(ff1.encrypt(tweak, t.pt)).toBe(t.ct);
          expect(ff1.decrypt(tweak, t.ct)).toBe(t.pt);
          const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
          const noble = FF1(t.radix, key, tweak).encrypt([...t.pt].map((c) => alphabet.indexOf(c)));
          expect(noble.map((d) => alphabet[d]).join("")).toBe(t.ct);
        });
      }
    }
  });
}
