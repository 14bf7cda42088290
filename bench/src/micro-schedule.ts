/**
 * The order of the runs in one micro round, and the ratios taken from it.
 *
 * A ratio divides a task's ops/s by its reference's (its floor or its peer).
 * On a shared VM the machine's speed drifts by tens of percent within
 * seconds, so two runs far apart in a round compare two machines: with each
 * task run once per round, the offline verify and its Ed25519 floor stood
 * about 15 s apart and their ratio went 0.72×–1.06× between runs of the same
 * code. So every task with a reference runs right after it (a fresh run of
 * the reference, each time), and each ratio is the median over rounds of
 * the ratios of those adjacent pairs.
 */

/** What the schedule needs of a task. */
export interface Referenced {
  readonly id: string;
  readonly floor?: string;
  readonly peer?: string;
}

/**
 * The runs of one round, by task id: each task with a floor or a peer comes
 * right after a run of them (floor, then peer, then the task); a task that is
 * nobody's neighbour runs once on its own. References that were not selected
 * are skipped (their ratio stays missing).
 */
export function roundOrder(selected: readonly Referenced[]): string[] {
  const ids = new Set(selected.map((t) => t.id));
  const order: string[] = [];
  const ran = new Set<string>();
  for (const t of selected) {
    for (const ref of [t.floor, t.peer]) {
      if (ref !== undefined && ids.has(ref)) {
        order.push(ref);
        ran.add(ref);
      }
    }
    if (t.floor === undefined && t.peer === undefined) continue;
    order.push(t.id);
    ran.add(t.id);
  }
  // Floors and peers come first in the task list; those nobody refers to
  // (or whose dependants were not selected) still get their own run.
  const alone = selected.filter((t) => !ran.has(t.id)).map((t) => t.id);
  return [...alone, ...order];
}

/** One run of a task: its position in the round and its ops/s. */
export interface RoundRun {
  readonly id: string;
  readonly opsPerSec: number;
}

/**
 * The ratio of `task` to `reference` in one round: the task's run divided by
 * the nearest run of the reference before it; undefined when there is none.
 */
export function adjacentRatio(
  round: readonly RoundRun[],
  task: string,
  reference: string,
): number | undefined {
  const at = round.findIndex((r) => r.id === task);
  if (at < 0) return undefined;
  for (let i = at - 1; i >= 0; i--) {
    if (round[i]!.id === reference) return round[at]!.opsPerSec / round[i]!.opsPerSec;
  }
  return undefined;
}

/** The median (the lower middle value for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
