import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ManualClock } from "@paycode/protocol";
import {
  AdvanceClockRequestSchema,
  DeclineReason,
  PaymentStatus,
  ScanRequestSchema,
} from "@paycode/protocol/v1";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../store/open-store.js";
import { Issuer } from "./issuer.js";
import type { MutantName } from "./mutants.js";
import { cny, IssuerFixture, MASTER_KEY, T0 } from "./testing.js";

const dirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "paycode-persist-"));
  dirs.push(dir);
  return join(dir, "issuer.db");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("issuer persistence", () => {
  it("after a restart, codes of earlier wallets verify (seed decrypted from the store) and nothing is paid twice", async () => {
    const file = tempDb();
    const f = await IssuerFixture.open({ url: `sqlite:${file}` });
    const m = await f.merchant();
    const w = await f.payer(10_000);
    const used = f.onlineCode(w);
    expect((await f.scan(m, used, 100)).status).toBe(PaymentStatus.SUCCEEDED);
    const fresh = f.onlineCode(w);
    await f.close();

    const store = await openStore(file);
    const issuer = await Issuer.open({ store, clock: new ManualClock(T0), masterKey: MASTER_KEY });
    try {
      const merchant = await issuer.authenticateMerchant(m.apiKey);
      const scan = (code: string, outTradeNo: string) =>
        issuer.scan(merchant, create(ScanRequestSchema, { outTradeNo, code, amount: cny(100) }));
      expect((await scan(fresh, "after-restart")).payment?.status).toBe(PaymentStatus.SUCCEEDED);
      expect((await scan(used, "reuse-after-restart")).payment?.declineReason).toBe(
        DeclineReason.CODE_REUSED,
      );
    } finally {
      await issuer.close();
      await store.close();
    }
  });

  it("stores no seed and no issuer private key in clear", async () => {
    const file = tempDb();
    const f = await IssuerFixture.open({ url: `sqlite:${file}` });
    const wallets = [await f.payer(0), await f.payer(0)];
    await f.close();
    const bytes = Buffer.concat(
      [file, `${file}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)),
    );
    for (const w of wallets) {
      expect(bytes.includes(Buffer.from(w.provision.seed))).toBe(false);
      expect(bytes.includes(Buffer.from(w.provision.walletToken))).toBe(false);
    }
  });

  it("refuses to open with another master key, or a code key other than the stored one", async () => {
    const file = tempDb();
    const first = await Issuer.open({
      store: `sqlite:${file}`,
      clock: new ManualClock(T0),
      masterKey: MASTER_KEY,
    });
    await first.close();
    await expect(
      Issuer.open({
        store: `sqlite:${file}`,
        clock: new ManualClock(T0),
        masterKey: new Uint8Array(32),
      }),
    ).rejects.toThrow(/wrong master key/);
    await expect(
      Issuer.open({
        store: `sqlite:${file}`,
        clock: new ManualClock(T0),
        masterKey: MASTER_KEY,
        codeKey: new Uint8Array(32).fill(3),
      }),
    ).rejects.toThrow(/codeKey differs/);
    await expect(
      Issuer.open({
        store: `sqlite:${file}`,
        clock: new ManualClock(T0),
        masterKey: MASTER_KEY,
        mutant: "nope" as MutantName,
      }),
    ).rejects.toThrow(/unknown mutant/);
  });

  it("a given code key is used, and kept on reopen", async () => {
    const file = tempDb();
    const codeKey = new Uint8Array(32).fill(9);
    for (let i = 0; i < 2; i++) {
      const issuer = await Issuer.open({
        store: `sqlite:${file}`,
        clock: new ManualClock(T0),
        masterKey: MASTER_KEY,
        codeKey,
      });
      expect((await issuer.control.getCapabilities()).profile?.codeKey).toEqual(codeKey);
      await issuer.close();
    }
  });

  it("without an advanceable clock: no controllable-clock feature, AdvanceClock → unimplemented", async () => {
    const issuer = await Issuer.open({
      store: `sqlite:${tempDb()}`,
      clock: new ManualClock(T0),
      masterKey: MASTER_KEY,
    });
    try {
      expect((await issuer.control.getCapabilities()).features).not.toContain("controllable-clock");
      await expect(
        issuer.control.advanceClock(create(AdvanceClockRequestSchema, { seconds: 1 })),
      ).rejects.toMatchObject({ code: Code.Unimplemented });
    } finally {
      await issuer.close();
    }
  });
});
