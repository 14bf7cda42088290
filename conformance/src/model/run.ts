import fc from "fast-check";
import type { CaseContext } from "../case.js";
import { CaseFailure } from "../expect.js";
import { utcDayStartMs } from "../target-clock.js";
import { commandArbitraries } from "./commands.js";
import { finalAudit } from "./invariants.js";
import { type Real, setUpRun } from "./real.js";
import type { ModelState } from "./state.js";

/** Environment variables that replay or widen a model-based run (docs/certification.md). */
export const MODEL_ENV = {
  seed: "PAYCODE_MODEL_SEED",
  path: "PAYCODE_MODEL_PATH",
  /** fast-check's replayPath of the command sequence (which commands ran), printed with a failure. */
  replay: "PAYCODE_MODEL_REPLAY",
  runs: "PAYCODE_MODEL_RUNS",
  /** Re-runs spent shrinking a failure; 0 reports the first failing sequence as found (mutant matrices). */
  shrinks: "PAYCODE_MODEL_SHRINKS",
} as const;

export interface ModelRunOptions {
  /** The case, named in the replay line of a failure. */
  readonly caseId: string;
  /** The case's fixed seed: a certification run is deterministic. */
  readonly seed: number;
  /** Runs (command sequences) per case. */
  readonly numRuns: number;
  /** Longest command sequence. */
  readonly maxCommands: number;
  /** Adds offline codes, uploads and re-uploads to the commands. */
  readonly offline: boolean;
  /** Runs of a failing sequence spent on shrinking it, at most. */
  readonly maxShrinkRuns?: number;
}

function envInt(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n))
    throw new CaseFailure(`${name}=${JSON.stringify(v)} is not an integer`);
  return n;
}

/** Seed, path and number of runs: the case's defaults unless the environment replays a failure. */
export function modelRunSettings(
  o: ModelRunOptions,
  env: NodeJS.ProcessEnv = process.env,
): {
  seed: number;
  path: string | undefined;
  replay: string | undefined;
  numRuns: number;
  maxShrinkRuns: number;
} {
  return {
    maxShrinkRuns: envInt(MODEL_ENV.shrinks, env) ?? o.maxShrinkRuns ?? 20,
    seed: envInt(MODEL_ENV.seed, env) ?? o.seed,
    path: env[MODEL_ENV.path] || undefined,
    replay: env[MODEL_ENV.replay] || undefined,
    numRuns: envInt(MODEL_ENV.runs, env) ?? o.numRuns,
  };
}

/**
 * Drives random command sequences against the target and the model side by
 * side (fast-check `commands` + `asyncModelRun`), every response compared
 * field by field, then audits the whole state. Each run starts from fresh
 * fixtures with the issuer clock frozen at noon UTC of the next day, so
 * nothing depends on when the run happens. A failure is shrunk (a bounded
 * number of re-runs) and reported with its seed, path and the shrunk
 * command list, which replay it exactly.
 */
export async function runModel(ctx: CaseContext, o: ModelRunOptions): Promise<void> {
  const { seed, path, replay, numRuns, maxShrinkRuns } = modelRunSettings(o);
  await ctx.clock.sync();
  const startMs = utcDayStartMs(ctx.clock.nowMs()) + 86_400_000 + 12 * 3_600_000;
  let failures = 0;
  let shrinkRuns = 0;
  const property = fc.asyncProperty(
    fc.commands(commandArbitraries(o.offline), {
      maxCommands: o.maxCommands,
      size: "max",
      ...(replay !== undefined ? { replayPath: replay } : {}),
    }),
    async (cmds) => {
      // Shrinking re-runs against the target; past the cap the remaining
      // candidates are passed over, so the smallest failure found so far is
      // the one reported.
      if (failures > 0 && ++shrinkRuns > maxShrinkRuns) return true;
      let state: { model: ModelState; real: Real } | undefined;
      try {
        await fc.asyncModelRun(async () => {
          state = await setUpRun(ctx, startMs, o.offline);
          return state;
        }, cmds);
        if (state) await finalAudit(state.model, state.real);
      } catch (e) {
        failures++;
        throw e;
      }
      return true;
    },
  );
  // Clock moves may leave the issuer near a midnight or days ahead; the
  // run goes on from noon, where it was before this case.
  const details = await fc
    .check(property, {
      seed,
      numRuns,
      ...(path !== undefined ? { path } : {}),
      endOnFailure: false,
    })
    .finally(() => ctx.clock.set(startMs));
  if (!details.failed) {
    ctx.log(`model-based: ${details.numRuns} runs passed (seed ${seed})`);
    return;
  }
  const err = details.errorInstance;
  const message =
    err instanceof Error ? err.message : err === null ? "no counterexample" : String(err);
  const shown = details.counterexample ? String(details.counterexample[0]) : "(none)";
  // fast-check appends /*replayPath="..."*/: which commands of the sequence ran.
  const replayPath = /replayPath="([^"]*)"/.exec(shown)?.[1] ?? "";
  const commands = shown.replace(/\s*\/\*replayPath=.*\*\/\s*$/, "");
  throw new CaseFailure(
    [
      message,
      `  seed ${details.seed}, path ${details.counterexamplePath}; shrunk command sequence: ${commands}`,
      `  replay: ${MODEL_ENV.seed}=${details.seed} ${MODEL_ENV.path}=${details.counterexamplePath ?? ""} ${MODEL_ENV.replay}='${replayPath}' paycode-conformance run --target <url> --run ${o.caseId}`,
    ].join("\n"),
  );
}
