import { mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "@paycode/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { AuditEvent } from "../issuer/audit-log.js";
import { openStore } from "../store/open-store.js";
import { AuditPipeline, type AuditSink } from "./audit-pipeline.js";
import { FileAuditLog } from "./file-audit-log.js";
import { StoreAuditLog } from "./store-audit-log.js";

const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);

class MemorySink implements AuditSink {
  readonly events: AuditEvent[] = [];
  async write(events: readonly AuditEvent[]): Promise<void> {
    this.events.push(...events);
  }
  async close(): Promise<void> {}
}

const failed = (clock: ManualClock, peer: string, kind = "merchant"): AuditEvent => ({
  type: "auth.failed",
  at: clock.now(),
  detail: { kind, rpc: "paycode.v1.MerchantService.Scan", peer },
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "paycode-audit-"));
  dirs.push(d);
  return d;
}

describe("AuditPipeline", () => {
  it("writes other events as they come, normalised", async () => {
    const clock = new ManualClock(T0);
    const sink = new MemorySink();
    const audit = new AuditPipeline({ sinks: [sink], clock });
    await audit.record({
      type: "wallet.revoked",
      at: T0,
      subject: { kind: "wallet", id: "w_1" },
      detail: {
        reason: "x".repeat(1000),
        n: 2,
        bad: Number.NaN,
        bytes: new Uint8Array([1]) as unknown as string,
      },
    });
    expect(sink.events).toHaveLength(1);
    const d = sink.events[0]!.detail!;
    expect(String(d.reason).length).toBe(256);
    expect(d).toMatchObject({ n: 2 });
    expect("bad" in d || "bytes" in d).toBe(false);
  });

  it("folds failed authentication per kind, RPC and peer per minute, and sums exactly", async () => {
    const clock = new ManualClock(T0);
    const sink = new MemorySink();
    const audit = new AuditPipeline({ sinks: [sink], clock });
    for (let i = 0; i < 1000; i++) {
      await audit.record(failed(clock, "10.0.0.1"));
      clock.advance(10);
    }
    await audit.record(failed(clock, "10.0.0.2"));
    // Within the minute: one line per distinct (kind, RPC, peer), count 1.
    expect(sink.events.map((e) => [e.detail?.peer, e.detail?.count])).toEqual([
      ["10.0.0.1", 1],
      ["10.0.0.2", 1],
    ]);
    clock.advance(60_000);
    await audit.tick();
    expect(sink.events.map((e) => [e.detail?.peer, e.detail?.count])).toEqual([
      ["10.0.0.1", 1],
      ["10.0.0.2", 1],
      ["10.0.0.1", 999],
    ]);
    // The summary carries the time of the last folded failure.
    expect(sink.events[2]!.at).toBe(T0 + 999 * 10);
    // A new minute starts over.
    await audit.record(failed(clock, "10.0.0.1"));
    expect(sink.events.at(-1)?.detail?.count).toBe(1);
  });

  it("bounds the lines of a flood from many peers: overflow folds per kind", async () => {
    const clock = new ManualClock(T0);
    const sink = new MemorySink();
    const audit = new AuditPipeline({ sinks: [sink], clock, maxKeysPerWindow: 10 });
    let sent = 0;
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 0; i < 5000; i++) {
        await audit.record(failed(clock, `2001:db8::${i}`, i % 2 ? "wallet" : "merchant"));
        sent++;
      }
      clock.advance(60_000);
    }
    await audit.close();
    // Per minute: 10 first lines, no repeats (all peers distinct), 2 overflow lines (2 kinds).
    expect(sink.events.length).toBe(3 * (10 + 2));
    const total = sink.events.reduce((n, e) => n + Number(e.detail?.count), 0);
    expect(total).toBe(sent);
    const overflow = sink.events.filter((e) => e.detail?.overflow === true);
    expect(overflow.map((e) => e.detail?.kind).sort()).toEqual(
      ["merchant", "merchant", "merchant", "wallet", "wallet", "wallet"].sort(),
    );
    expect(overflow[0]!.detail).toMatchObject({ peer: "*", rpc: "*" });
  });

  it("bounds the overflow lines too, whatever kinds a caller invents", async () => {
    const clock = new ManualClock(T0);
    const sink = new MemorySink();
    const audit = new AuditPipeline({ sinks: [sink], clock, maxKeysPerWindow: 3 });
    for (let i = 0; i < 1000; i++) await audit.record(failed(clock, `p${i}`, `kind${i}`));
    await audit.close();
    // 3 first lines, then overflow per kind for 3 kinds, then one per type.
    expect(sink.events.length).toBe(3 + 3 + 1);
    expect(sink.events.reduce((n, e) => n + Number(e.detail?.count), 0)).toBe(1000);
    expect(sink.events.at(-1)?.detail).toEqual({ rpc: "*", peer: "*", overflow: true, count: 994 });
  });

  it("keeps recording when a sink fails, and says so", async () => {
    const clock = new ManualClock(T0);
    const good = new MemorySink();
    const errors: string[] = [];
    const broken: AuditSink = {
      write: async () => {
        throw new Error("disk full");
      },
      close: async () => {},
    };
    const audit = new AuditPipeline({
      sinks: [broken, good],
      clock,
      onError: (m) => errors.push(m),
    });
    await audit.record({ type: "server.started", at: T0 });
    expect(good.events).toHaveLength(1);
    expect(errors).toEqual(["writing the audit log failed"]);
  });

  it("writes pending counts at close", async () => {
    const clock = new ManualClock(T0);
    const sink = new MemorySink();
    const audit = new AuditPipeline({ sinks: [sink], clock });
    await audit.record(failed(clock, "p"));
    await audit.record(failed(clock, "p"));
    await audit.close();
    expect(sink.events.map((e) => e.detail?.count)).toEqual([1, 1]);
    await audit.record(failed(clock, "p"));
    expect(sink.events).toHaveLength(2);
  });
});

describe("FileAuditLog", () => {
  it("creates the file 0600, appends one JSON object per line, reopens after a move", async () => {
    const dir = tempDir();
    const path = join(dir, "audit.jsonl");
    const clock = new ManualClock(T0);
    const file = new FileAuditLog(path, { fsync: true });
    const audit = new AuditPipeline({ sinks: [file], clock });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await audit.record({ type: "server.started", at: T0, detail: { testControl: true } });
    // Written before record resolved: readable now, without close.
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: "2030-01-15T12:00:00.000Z",
      at: T0,
      type: "server.started",
      detail: { testControl: true },
    });
    renameSync(path, `${path}.1`);
    file.reopen();
    await audit.record({
      type: "wallet.revoked",
      at: T0 + 1,
      subject: { kind: "wallet", id: "w" },
    });
    await audit.close();
    expect(readFileSync(`${path}.1`, "utf8").trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ type: "wallet.revoked" });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("appends to an existing file", async () => {
    const path = join(tempDir(), "audit.jsonl");
    for (const type of ["a.one", "a.two"]) {
      const file = new FileAuditLog(path);
      await file.write([{ type, at: T0 }]);
      await file.close();
    }
    expect(
      readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).type),
    ).toEqual(["a.one", "a.two"]);
  });
});

describe("StoreAuditLog", () => {
  it("writes behind the caller, in order, and prunes past the retention", async () => {
    const dir = tempDir();
    const store = await openStore(`sqlite:${join(dir, "p.db")}`);
    try {
      const clock = new ManualClock(T0);
      const sink = new StoreAuditLog(store, { retentionMs: 86_400_000 });
      const audit = new AuditPipeline({ sinks: [sink], clock });
      // Recording from inside a SQLite transaction must not wait for the store (it would wait for itself).
      await store.transaction(async () => {
        await audit.record({ type: "x.old", at: T0 - 2 * 86_400_000 });
        await audit.record({ type: "x.new", at: T0, subject: { kind: "wallet", id: "w" } });
      });
      await sink.flush();
      const rows = await store.read((tx) => tx.listAuditEvents({}));
      expect(rows.map((r) => r.type)).toEqual(["x.old", "x.new"]);
      await audit.tick();
      expect((await store.read((tx) => tx.listAuditEvents({}))).map((r) => r.type)).toEqual([
        "x.new",
      ]);
      await audit.close();
    } finally {
      await store.close();
    }
  });

  it("keeps events while the database fails and records what it had to drop", async () => {
    const dir = tempDir();
    const store = await openStore(`sqlite:${join(dir, "p.db")}`);
    try {
      let down = true;
      const flaky = new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === "transaction" && down) return async () => Promise.reject(new Error("down"));
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      const errors: string[] = [];
      const sink = new StoreAuditLog(flaky, { maxQueued: 3, onError: (m) => errors.push(m) });
      for (let i = 0; i < 5; i++) await sink.write([{ type: `y.${i}`, at: T0 + i }]);
      await sink.flush();
      await sink.flush();
      expect(errors).toHaveLength(1);
      down = false;
      await sink.flush();
      const rows = await store.read((tx) => tx.listAuditEvents({}));
      expect(rows.map((r) => [r.type, r.detail?.count ?? null])).toEqual([
        ["y.0", null],
        ["y.1", null],
        ["y.2", null],
        ["audit.dropped", 2],
      ]);
      expect(rows[3]!.at).toBe(T0 + 4);
    } finally {
      await store.close();
    }
  });
});
