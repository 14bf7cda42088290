import { describe, expect, it } from "vitest";
import { MicroBatcher } from "./micro-batcher.js";

/** A runner whose batches finish only when the test says so. */
function heldRunner() {
  const batches: { requests: readonly number[]; finish: (fail?: unknown) => void }[] = [];
  const run = (requests: readonly number[]) =>
    new Promise<PromiseSettledResult<string>[]>((resolve, reject) => {
      batches.push({
        requests,
        finish: (fail) =>
          fail === undefined
            ? resolve(
                requests.map((r) =>
                  r < 0
                    ? { status: "rejected", reason: new Error(`bad ${r}`) }
                    : { status: "fulfilled", value: `r${r}` },
                ),
              )
            : reject(fail),
      });
    });
  return { batches, run };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("MicroBatcher", () => {
  it("sends a lone request at once and gathers what arrives while batches are in flight", async () => {
    const { batches, run } = heldRunner();
    const b = new MicroBatcher(run, { maxBatch: 3, maxInFlight: 1 });
    const first = b.submit(1);
    await turn();
    expect(batches.map((x) => x.requests)).toEqual([[1]]);
    const later = [2, 3, 4, 5].map((n) => b.submit(n));
    await turn();
    // The one slot is taken: nothing else leaves until the first batch is done.
    expect(batches).toHaveLength(1);
    batches[0]!.finish();
    expect(await first).toBe("r1");
    await turn();
    expect(batches.map((x) => x.requests)).toEqual([[1], [2, 3, 4]]);
    batches[1]!.finish();
    await turn();
    expect(batches.map((x) => x.requests)).toEqual([[1], [2, 3, 4], [5]]);
    batches[2]!.finish();
    expect(await Promise.all(later)).toEqual(["r2", "r3", "r4", "r5"]);
  });

  it("runs up to maxInFlight batches at once", async () => {
    const { batches, run } = heldRunner();
    const b = new MicroBatcher(run, { maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => b.submit(n));
    await turn();
    expect(batches.map((x) => x.requests)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    batches[1]!.finish();
    await turn();
    expect(batches.map((x) => x.requests)).toEqual([[1, 2], [3, 4], [5]]);
    batches[0]!.finish();
    batches[2]!.finish();
    expect(await Promise.all(all)).toEqual(["r1", "r2", "r3", "r4", "r5"]);
  });

  it("shares what waits among the free slots instead of sending it as one batch", async () => {
    const { batches, run } = heldRunner();
    const b = new MicroBatcher(run, { maxBatch: 32, maxInFlight: 4 });
    const all = Array.from({ length: 14 }, (_, i) => b.submit(i));
    await turn();
    expect(batches.map((x) => x.requests.length)).toEqual([4, 4, 3, 3]);
    for (const x of batches) x.finish();
    expect(await Promise.all(all)).toEqual(Array.from({ length: 14 }, (_, i) => `r${i}`));
  });

  it("fails one request alone when its outcome is an error, all of a batch when the batch fails", async () => {
    const { batches, run } = heldRunner();
    const b = new MicroBatcher(run, { maxBatch: 4, maxInFlight: 1 });
    const mixed = [1, -2, 3].map((n) => b.submit(n));
    await turn();
    batches[0]!.finish();
    const settled = await Promise.allSettled(mixed);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const doomed = [4, 5].map((n) => b.submit(n));
    await turn();
    batches[1]!.finish(new Error("connection lost"));
    for (const d of doomed) await expect(d).rejects.toThrow("connection lost");
    // A failed batch frees its slot.
    const after = b.submit(6);
    await turn();
    batches[2]!.finish();
    expect(await after).toBe("r6");
  });

  it("refuses options that could never send anything", () => {
    const { run } = heldRunner();
    expect(() => new MicroBatcher(run, { maxBatch: 0, maxInFlight: 1 })).toThrow(RangeError);
    expect(() => new MicroBatcher(run, { maxBatch: 1, maxInFlight: 0 })).toThrow(RangeError);
  });
});
