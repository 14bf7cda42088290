import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ManualClock, OffsetClock } from "@paycode/protocol";
import {
  AdvanceClockRequestSchema,
  PaymentStatus,
  SetClockRequestSchema,
} from "@paycode/protocol/v1";
import { afterEach, describe, expect, it } from "vitest";
import { Issuer } from "./issuer.js";
import { IssuerFixture, MASTER_KEY, T0 } from "./testing.js";

const open: IssuerFixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

async function fixture(): Promise<IssuerFixture> {
  const f = await IssuerFixture.open();
  open.push(f);
  return f;
}

const setClock = (f: IssuerFixture, ms: number | undefined, frozen: boolean) =>
  f.issuer.control.setClock(
    create(SetClockRequestSchema, {
      ...(ms === undefined ? {} : { now: timestampFromMs(ms) }),
      frozen,
    }),
  );

async function clockOf(f: IssuerFixture): Promise<{ ms: number; frozen: boolean }> {
  const caps = await f.issuer.control.getCapabilities();
  return { ms: timestampMs(caps.now!), frozen: caps.clockFrozen };
}

describe("test control SetClock (settable-clock)", () => {
  it("claims the feature and reports the clock running", async () => {
    const f = await fixture();
    const caps = await f.issuer.control.getCapabilities();
    expect(caps.features).toContain("settable-clock");
    expect(caps.clockFrozen).toBe(false);
  });

  it("freezes the clock exactly, for test control and payments, and AdvanceClock keeps it frozen", async () => {
    const f = await fixture();
    const t = f.clock.now() + 86_400_000 + 123;
    const r = await setClock(f, t, true);
    expect([timestampMs(r.now!), r.frozen]).toEqual([t, true]);
    f.clock.advance(10_000);
    expect(await clockOf(f)).toEqual({ ms: t, frozen: true });
    const m = await f.merchant();
    const w = await f.payer(1_000);
    f.clock.set(t); // codes for the frozen clock's step
    const p = await f.scan(m, f.onlineCode(w), 100);
    expect(p.status).toBe(PaymentStatus.SUCCEEDED);
    expect(timestampMs(p.createdAt!)).toBe(t);
    await f.issuer.control.advanceClock(create(AdvanceClockRequestSchema, { seconds: 5 }));
    expect(await clockOf(f)).toEqual({ ms: t + 5_000, frozen: true });
  });

  it("runs on from the time set when not frozen, backwards included", async () => {
    const f = await fixture();
    const t = f.clock.now() - 3_600_000;
    expect((await setClock(f, t, false)).frozen).toBe(false);
    f.clock.advance(2_000);
    expect(await clockOf(f)).toEqual({ ms: t + 2_000, frozen: false });
  });

  it("refuses a request without now", async () => {
    const f = await fixture();
    await expect(setClock(f, undefined, true)).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    expect(await clockOf(f)).toMatchObject({ frozen: false });
  });

  it("is unimplemented without a settable clock", async () => {
    const dir = mkdtempSync(join(tmpdir(), "paycode-issuer-"));
    const issuer = await Issuer.open({
      store: `sqlite:${join(dir, "issuer.db")}`,
      clock: new ManualClock(T0),
      masterKey: MASTER_KEY,
      advanceClock: () => {},
    });
    try {
      const caps = await issuer.control.getCapabilities();
      expect(caps.features).toContain("controllable-clock");
      expect(caps.features).not.toContain("settable-clock");
      expect(caps.clockFrozen).toBe(false);
      const err = await issuer.control
        .setClock(create(SetClockRequestSchema, { now: timestampFromMs(T0), frozen: true }))
        .catch((e: unknown) => e);
      expect(ConnectError.from(err).code).toBe(Code.Unimplemented);
    } finally {
      await issuer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("OffsetClock", () => {
  it("starts where told, runs with its base, freezes and unfreezes", () => {
    const base = new ManualClock(1_000_000);
    const c = new OffsetClock(base, 5_000_000);
    expect(c.now()).toBe(5_000_000);
    base.advance(1_000);
    expect(c.now()).toBe(5_001_000);
    c.set(42_000, true);
    base.advance(1_000);
    expect([c.now(), c.frozen]).toEqual([42_000, true]);
    c.advance(500);
    expect(c.now()).toBe(42_500);
    c.set(7_000, false);
    base.advance(250);
    expect([c.now(), c.frozen]).toEqual([7_250, false]);
  });
});
