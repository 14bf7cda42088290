import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  watch,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { MerchantService, WalletService } from "@paycode/protocol/v1";
import { testTransport } from "@paycode/server/testing";
import { afterAll, describe, expect, it } from "vitest";
import { parseAuditTime } from "./commands/audit.js";
import { runPaycode, startServe } from "./testing/spawn-cli.js";

const dir = mkdtempSync(join(tmpdir(), "paycode-audit-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PAYCODE_MASTER_KEY: randomBytes(32).toString("hex") };

async function unauthenticated(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(Code.Unauthenticated);
}

const lines = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown> & { detail?: Record<string, unknown> });

describe("paycode serve --audit-log and paycode audit", () => {
  it("writes the file (0600) and the table, and the query filters them", async () => {
    const store = `sqlite:${join(dir, "a.db")}`;
    const file = join(dir, "audit.jsonl");
    const proc = await startServe(
      ["--store", store, "--port", "0", "--enable-test-control", "--audit-log", file],
      { env },
    );
    const t = testTransport(proc.url, "connect-h1");
    try {
      await unauthenticated(
        t
          .client(MerchantService, "pk_merchant_nope")
          .getPayment({ lookup: { case: "paymentId", value: "p" } }),
      );
      await unauthenticated(t.client(WalletService).getWallet({}));
    } finally {
      t.close();
      proc.child.kill("SIGTERM");
      expect((await proc.exited).code).toBe(0);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const fromFile = lines(readFileSync(file, "utf8"));
    expect(fromFile.map((e) => e.type)).toEqual([
      "server.started",
      "server.test_control_enabled",
      "auth.failed",
      "auth.failed",
      "server.stopped",
    ]);
    expect(fromFile[0]!.detail).toMatchObject({ testControl: true, tls: false });
    expect(fromFile[2]!.detail).toMatchObject({
      kind: "merchant",
      rpc: "paycode.v1.MerchantService.GetPayment",
      credential: "invalid",
      count: 1,
    });
    expect(String(fromFile[2]!.detail?.peer)).toMatch(/127\.0\.0\.1$/);

    const all = await runPaycode(["audit", "--store", store]);
    expect(all.code, all.stderr).toBe(0);
    const rows = lines(all.stdout);
    // The table holds the same events, with ids.
    expect(rows.map((e) => e.type)).toEqual(fromFile.map((e) => e.type));
    expect(rows.map(({ id: _, ...rest }) => rest)).toEqual(fromFile);
    expect(rows.every((r) => typeof r.id === "number")).toBe(true);

    const failed = await runPaycode(["audit", "--store", store, "--type", "auth.failed"]);
    expect(lines(failed.stdout).map((e) => e.detail?.kind)).toEqual(["merchant", "wallet"]);
    const family = await runPaycode([
      "audit",
      "--store",
      store,
      "--type",
      "server.",
      "--limit",
      "2",
    ]);
    expect(lines(family.stdout).map((e) => e.type)).toEqual([
      "server.started",
      "server.test_control_enabled",
    ]);
    const after = await runPaycode(["audit", "--store", store, "--after-id", String(rows[3]!.id)]);
    expect(lines(after.stdout).map((e) => e.type)).toEqual(["server.stopped"]);
    const future = await runPaycode(["audit", "--store", store, "--since", "2999-01-01"]);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe("");
    const recent = await runPaycode(["audit", "--store", store, "--since", "1h", "--until", "0s"]);
    expect(lines(recent.stdout)).toHaveLength(rows.length);
  });

  it("reopens the file on SIGHUP (logrotate), and --no-audit-store keeps the table empty", async () => {
    const store = `sqlite:${join(dir, "b.db")}`;
    const file = join(dir, "rotated.jsonl");
    const proc = await startServe(
      ["--store", store, "--port", "0", "--audit-log", file, "--no-audit-store"],
      { env },
    );
    const t = testTransport(proc.url, "connect-h1");
    try {
      renameSync(file, `${file}.1`);
      // The reopened file exists once the signal was handled; a call made after that lands in it.
      const watcher = watch(dir);
      const reopened = new Promise<void>((resolve) => {
        watcher.on("change", () => {
          if (existsSync(file)) resolve();
        });
      });
      proc.child.kill("SIGHUP");
      if (!existsSync(file)) await reopened;
      watcher.close();
      await unauthenticated(t.client(WalletService, "wt_nope").getWallet({}));
    } finally {
      t.close();
      proc.child.kill("SIGTERM");
      expect((await proc.exited).code).toBe(0);
    }
    expect(lines(readFileSync(`${file}.1`, "utf8")).map((e) => e.type)).toEqual(["server.started"]);
    expect(lines(readFileSync(file, "utf8")).map((e) => e.type)).toEqual([
      "auth.failed",
      "server.stopped",
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const rows = await runPaycode(["audit", "--store", store]);
    expect(rows.code).toBe(0);
    expect(rows.stdout).toBe("");
  });

  it("exits 2 on a bad command line and 1 without a store", async () => {
    const bad = await runPaycode([
      "audit",
      "--store",
      `sqlite:${join(dir, "a.db")}`,
      "--since",
      "yesterday",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^paycode: bad time "yesterday"/);
    const badLimit = await runPaycode(["audit", "--limit", "-3"]);
    expect(badLimit.code).toBe(2);
    const none = await runPaycode(["audit", "--store", `sqlite:${join(dir, "missing.db")}`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^paycode: no store at /);
    const help = await runPaycode(["audit", "--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--store", "--since", "--until", "--type", "--subject", "--limit"]) {
      expect(help.stdout).toContain(flag);
    }
    const fsyncAlone = await runPaycode(["serve", "--audit-fsync", "--port", "0"]);
    expect(fsyncAlone.code).toBe(2);
    expect(fsyncAlone.stderr).toMatch(/--audit-fsync needs --audit-log/);
  });

  it("reads times as ISO 8601 with a zone, a UTC day, or an age", () => {
    const now = Date.UTC(2030, 0, 2, 12);
    expect(parseAuditTime("2030-01-01", now)).toBe(Date.UTC(2030, 0, 1));
    expect(parseAuditTime("2030-01-01T10:00:00+02:00", now)).toBe(Date.UTC(2030, 0, 1, 8));
    expect(parseAuditTime("90m", now)).toBe(now - 90 * 60_000);
    expect(parseAuditTime("7d", now)).toBe(now - 7 * 86_400_000);
    expect(() => parseAuditTime("2030-01-01T10:00", now)).toThrow(/bad time/);
  });
});
