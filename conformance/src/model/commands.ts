import fc from "fast-check";
import { GetWallet, MoveClock, Report, Reprovision, Revoke } from "./account-commands.js";
import type { Cmd } from "./command-support.js";
import { Upload, UploadAgain, UploadScanned } from "./offline-commands.js";
import {
  Cancel,
  Confirm,
  GetPayment,
  Refund,
  type RefundKind,
  ScanAgain,
  ScanNew,
  ScanRetry,
} from "./payment-commands.js";
import { DAY_MS } from "./state.js";

const amounts = fc.constantFrom(500n, 1_000n, 2_500n, 3_000n, 3_001n, 4_000n, 4_001n, 7_000n);
const pick = fc.nat({ max: 40 });
/** Mostly the current wallet; sometimes an older (revoked) one. */
const walletChoice = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.nat({ max: 3 }) },
);
/** Clock moves: within a step, across steps and the confirmation deadline, hours, and a day. */
const moves = fc.constantFrom(20_000, 59_000, 61_000, 180_000, 3 * 3_600_000, DAY_MS + 1_000);

/** `arbitrary` listed `weight` times: fast-check's commands picks among the list uniformly. */
function weighted(entries: [number, fc.Arbitrary<Cmd>][]): fc.Arbitrary<Cmd>[] {
  return entries.flatMap(([w, a]) => Array.from({ length: w }, () => a));
}

/** The command arbitraries of a run; `offline` adds offline codes, uploads and re-uploads. */
export function commandArbitraries(offline: boolean): fc.Arbitrary<Cmd>[] {
  const online: [number, fc.Arbitrary<Cmd>][] = [
    [5, fc.tuple(amounts, walletChoice).map(([a, w]) => new ScanNew(a, w, false))],
    [1, pick.map((p) => new ScanRetry(p))],
    [1, fc.tuple(pick, amounts).map(([p, a]) => new ScanAgain(p, a))],
    [3, fc.tuple(pick, fc.boolean()).map(([p, ok]) => new Confirm(p, ok))],
    [2, fc.tuple(pick, fc.boolean()).map(([p, b]) => new Cancel(p, b))],
    [
      4,
      fc
        .tuple(
          pick,
          fc.constantFrom<RefundKind>("part", "part", "rest", "over", "retry", "conflict"),
        )
        .map(([p, k]) => new Refund(p, k)),
    ],
    [1, fc.tuple(pick, fc.boolean()).map(([p, b]) => new GetPayment(p, b))],
    [1, fc.option(fc.nat({ max: 3 }), { nil: undefined }).map((w) => new GetWallet(w))],
    [1, fc.constant(new Reprovision())],
    [1, fc.constant(new Revoke())],
    [2, moves.map((ms) => new MoveClock(ms))],
    [2, fc.constantFrom(0, 0, -1, 1).map((d) => new Report(d))],
  ];
  if (!offline) return weighted(online);
  return weighted([
    ...online,
    [2, fc.tuple(amounts, walletChoice).map(([a, w]) => new ScanNew(a, w, true))],
    [4, fc.tuple(amounts, fc.boolean(), walletChoice).map(([a, s, w]) => new Upload(a, s, w))],
    [
      1,
      fc
        .tuple(
          pick,
          fc.constantFrom("same batch" as const, "new batch" as const, "other terminal" as const),
        )
        .map(([p, how]) => new UploadAgain(p, how)),
    ],
    [1, fc.tuple(pick, amounts, fc.nat({ max: 1 })).map(([p, a, t]) => new UploadScanned(p, a, t))],
  ]);
}
