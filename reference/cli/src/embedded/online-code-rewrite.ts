import { randomBytes } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { OnlineCodec } from "@paycode/protocol";
import type { IssuerProfile } from "@paycode/protocol/v1";
import type { IssuerApi } from "@paycode/server";
import { override } from "./api-override.js";

/** A wallet as the issuer made it, and the handle and seed a mutant showed it. */
export interface ShownWallet {
  readonly walletId: string;
  readonly accountId: string;
  readonly handle: number;
  readonly seed: Uint8Array;
  readonly shownHandle: number;
  readonly shownSeed: Uint8Array;
}

/** What a mutant's verifier concludes about an online code; undefined: pass it on unchanged. */
export type MutantVerdict =
  | { result: "valid" | "expired"; wallet: ShownWallet; step: number; counter: number }
  | { result: "invalid"; wallet: ShownWallet }
  | undefined;

export interface OnlineRewriteOptions {
  /** Handle and seed ProvisionSeed hands out (default: the issuer's own); `earlier` are the account's previous wallets. */
  show?(
    w: { walletId: string; accountId: string; handle: number; seed: Uint8Array },
    earlier: readonly ShownWallet[],
  ): {
    handle: number;
    seed: Uint8Array;
  };
  /** The mutant's verdict on a parsed code at issuer time `nowSeconds`; the default verifies by §6.1 with what was shown. */
  judge?(
    code: NonNullable<ReturnType<OnlineCodec["parse"]>>,
    nowSeconds: number,
    holders: readonly ShownWallet[],
    codec: OnlineCodec,
  ): MutantVerdict;
}

const stepOf = (s: number) => Math.floor(s / 60);

/**
 * `issuer` behind a mutant's own online-code verifier: ProvisionSeed shows
 * wallets the handle and seed `show` picks, and each 18-digit code is judged
 * by `judge`, then re-made with the issuer's real handle and seed so the
 * reference reaches the same verdict (VALID at a step in its window, EXPIRED
 * at one past it, INVALID with a MAC of no seed). The reference keeps the
 * store decisions: burning, revocation, limits, money.
 */
export function rewriteOnlineCodes(issuer: IssuerApi, o: OnlineRewriteOptions = {}): IssuerApi {
  const wallets: ShownWallet[] = [];
  let codec: OnlineCodec | undefined;
  let profile: IssuerProfile | undefined;
  const codecOf = (p: IssuerProfile) => {
    profile = p;
    codec = new OnlineCodec({
      prefix: p.issuerPrefix,
      codeKey: p.codeKey,
      windowBackSteps: p.windowBackSteps,
      windowAheadSteps: p.windowAheadSteps,
      lookbackSteps: p.lookbackSteps,
    });
    return codec;
  };
  const judge =
    o.judge ??
    ((code, nowSeconds, holders, c): MutantVerdict => {
      // The store finds one wallet per handle: the newest that was shown it.
      const w = holders.at(-1);
      if (!w) return undefined;
      const v = c.verify(code, w.shownSeed, nowSeconds);
      return v.result === "invalid"
        ? { result: "invalid", wallet: w }
        : { result: v.result, wallet: w, step: v.step, counter: code.counter };
    });
  return override(issuer, {
    provisionSeed: async (req) => {
      const r = await issuer.provisionSeed(req);
      if (r.profile && !codec) codecOf(r.profile);
      const real = {
        walletId: r.walletId,
        accountId: req.accountId,
        handle: r.handle,
        seed: r.seed,
      };
      const earlier = wallets.filter((w) => w.accountId === req.accountId);
      const shown = o.show?.(real, earlier) ?? { handle: r.handle, seed: r.seed };
      wallets.push({ ...real, shownHandle: shown.handle, shownSeed: shown.seed });
      r.handle = shown.handle;
      r.seed = shown.seed;
      return r;
    },
    scan: async (m, req) => {
      if (/^\d{18}$/.test(req.code)) {
        const caps = await issuer.control.getCapabilities();
        const c = codec ?? codecOf(caps.profile!);
        const parsed = c.parse(req.code);
        if (parsed) {
          const nowSeconds = Math.floor(timestampMs(caps.now!) / 1000);
          const holders = wallets.filter((w) => w.shownHandle === parsed.handle);
          const v = judge(parsed, nowSeconds, holders, c);
          if (v) req.code = remint(c, profile!, v, stepOf(nowSeconds));
        }
      }
      return issuer.scan(m, req);
    },
  });
}

/** A code the reference judges as `v` says, made with the wallet's real handle and seed. */
function remint(
  c: OnlineCodec,
  p: IssuerProfile,
  v: NonNullable<MutantVerdict>,
  now: number,
): string {
  const { handle, seed } = v.wallet;
  if (v.result === "invalid") {
    return c.generate({ handle, seed: new Uint8Array(randomBytes(32)), step: now, counter: 0 });
  }
  const inWindow = v.step >= now - p.windowBackSteps && v.step <= now + p.windowAheadSteps;
  const inLookback = v.step >= now - p.lookbackSteps && v.step < now - p.windowBackSteps;
  const step =
    v.result === "valid"
      ? inWindow
        ? v.step
        : now
      : inLookback
        ? v.step
        : now - p.windowBackSteps - 1;
  return c.generate({ handle, seed, step, counter: v.counter });
}
