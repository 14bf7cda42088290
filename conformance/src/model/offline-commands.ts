// Commands of the merchant's two offline terminals: accept and upload, upload
// again (by the same terminal or the other one), upload a code a Scan had.
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
      terminal: 0,
    };
    await uploadBatch(m, r, `batch-${r.seq}`, [rec], true);
  }
  toString(): string {
    const who = this.oldWallet === undefined ? "current" : `wallet ${this.oldWallet}`;
    return `Upload(${this.amount}, ${this.sync ? "after sync" : "last sync"}, ${who})`;
  }
}

/**
 * An earlier batch again: the same batch id and records ([SETTLE-5]), its
 * records in a new batch of the same terminal ([SETTLE-14]), or in a new
 * batch of the merchant's other terminal ([SETTLE-20]).
 */
export class UploadAgain implements Cmd {
  constructor(
    readonly pick: number,
    readonly how: "same batch" | "new batch" | "other terminal",
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return m.batches.length > 0;
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const b = m.batches[this.pick % m.batches.length]!;
    if (this.how === "same batch") return uploadBatch(m, r, b.batchId, b.records, false);
    const records = b.records.map((x) => ({
      ...x,
      recordId: `rec-${++r.seq}`,
      terminal: this.how === "other terminal" ? 1 - x.terminal : x.terminal,
    }));
    return uploadBatch(m, r, `batch-${++r.seq}`, records, true);
  }
  toString(): string {
    return `UploadAgain(${this.pick}, ${this.how})`;
  }
}

/** A terminal uploads an offline code that was presented at a Scan before ([SETTLE-20]). */
export class UploadScanned implements Cmd {
  constructor(
    readonly pick: number,
    readonly amount: bigint,
    readonly terminal: number,
  ) {}
  check(m: Readonly<ModelState>): boolean {
    return m.terminalSyncedAtMs !== undefined && m.payments.some((p) => p.kind === "offline-scan");
  }
  async run(m: ModelState, r: Real): Promise<void> {
    const scanned = m.payments.filter((p) => p.kind === "offline-scan");
    const p = scanned[this.pick % scanned.length]!;
    const rec: ModelRecordUpload = {
      recordId: `rec-${++r.seq}`,
      code: p.code,
      wallet: p.wallet,
      amount: this.amount,
      // Accepted when the code was made, as a terminal offline at the time would have.
      acceptedAtMs: p.codeAtMs,
      keysSyncedAtMs: m.terminalSyncedAtMs!,
      terminal: this.terminal,
    };
    await uploadBatch(m, r, `batch-${r.seq}`, [rec], true);
  }
  toString(): string {
    return `UploadScanned(${this.pick}, ${this.amount}, terminal ${this.terminal})`;
  }
}

async function uploadBatch(
  m: ModelState,
  r: Real,
  batchId: string,
  records: ModelRecordUpload[],
  fresh: boolean,
): Promise<void> {
  // A batch is one terminal's; the model's batches never mix terminals.
  const t = records[0]?.terminal === 1 ? r.terminalB! : r.terminal!;
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
    compareField(`${what} result ${i}`, "issuer_liable", g.issuerLiable, w.issuerLiable);
    if (w.payment !== undefined) {
      r.ids.bind("payment", w.payment, g.paymentId, `${what} result ${i}`);
    }
  });
  await after(m, r, `after ${what}`);
}
