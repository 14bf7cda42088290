// Commands of an offline terminal: accept and upload, upload again.
import { RecordOutcome } from "@paycode/protocol/v1";
import { after, type Cmd } from "./command-support.js";
import { compareField, compareTime } from "./compare.js";
import type { Real } from "./real.js";
import { settleRecord } from "./settlement-rules.js";
import type { ModelRecordUpload, ModelState } from "./state.js";

/** A terminal accepts a fresh offline code now and uploads it, after a key sync or on its last one. */
export class Upload implements Cmd {
  constructor(
    readonly amount: bigint,
    readonly sync: boolean,
    readonly oldWallet: number | undefined,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return this.sync || m.terminalSyncedAtMs !== undefined;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const t = r.terminal!;
    if (this.sync) {
      const keys = await t.sync();
      compareTime("GetIssuerKeys", "generated_at", keys.generatedAt, [m.nowMs]);
      m.terminalSyncedAtMs = m.nowMs;
    }
    const wi = this.oldWallet === undefined ? m.current : this.oldWallet % m.wallets.length;
    const code = r.wallets[wi]!.offlineCode();
    const rec: ModelRecordUpload = {
      recordId: `rec-${++r.seq}`,
      code,
      wallet: wi,
      amount: this.amount,
      acceptedAtMs: m.nowMs,
      keysSyncedAtMs: m.terminalSyncedAtMs!,
    };
    await uploadBatch(m, r, `batch-${r.seq}`, [rec], true);
  }
  toString(): string {
    const who = this.oldWallet === undefined ? "current" : `wallet ${this.oldWallet}`;
    return `Upload(${this.amount}, ${this.sync ? "after sync" : "last sync"}, ${who})`;
  }
}

/** An earlier batch again: the same batch id and records ([SETTLE-5]), or its records in a new batch. */
export class UploadAgain implements Cmd {
  constructor(
    readonly pick: number,
    readonly sameBatch: boolean,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return m.batches.length > 0;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const b = m.batches[this.pick % m.batches.length]!;
    if (this.sameBatch) return uploadBatch(m, r, b.batchId, b.records, false);
    const records = b.records.map((x) => ({ ...x, recordId: `rec-${++r.seq}` }));
    return uploadBatch(m, r, `batch-${++r.seq}`, records, true);
  }
  toString(): string {
    return `UploadAgain(${this.pick}, ${this.sameBatch ? "same batch" : "new batch"})`;
  }
}

async function uploadBatch(
  m: ModelState,
  r: Real,
  batchId: string,
  records: ModelRecordUpload[],
  fresh: boolean,
): Promise<void> {
  const t = r.terminal!;
  const got = await t.upload(
    records.map((x) =>
      t.record(x.code, x.amount, {
        recordId: x.recordId,
        acceptedAtMs: x.acceptedAtMs,
        keysSyncedAtMs: x.keysSyncedAtMs,
      }),
    ),
    batchId,
  );
  const what = `UploadOfflineBatch(${batchId})`;
  const want = fresh
    ? records.map((x) => settleRecord(m, x))
    : m.batches.find((b) => b.batchId === batchId)!.results;
  if (fresh) m.batches.push({ batchId, records, results: want });
  want.forEach((w, i) => {
    const g = got.results[i]!;
    compareField(`${what} result ${i}`, "outcome", RecordOutcome[g.outcome], w.outcome);
    if (w.payment !== undefined) {
      r.ids.bind("payment", w.payment, g.paymentId, `${what} result ${i}`);
    }
  });
  await after(m, r, `after ${what}`);
}
