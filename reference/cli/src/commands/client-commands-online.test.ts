import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonFileWalletStateStore, WalletClient } from "@paycode/sdk";
import { PASSWORD, TestServer } from "@paycode/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paycodeInProcess as paycode } from "../testing/in-process-cli.js";

let ts: TestServer;
let dir: string;
beforeAll(async () => {
  // The CLI runs on the system clock, so the issuer's (manual) clock starts at real time.
  ts = await TestServer.start({ clockStartMs: Date.now() });
  dir = mkdtempSync(join(tmpdir(), "paycode-cli-online-"));
});
afterAll(async () => {
  await ts.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("paycode client commands against the reference server", () => {
  it("provision → code → scan (success, then a clearly printed decline) → report", async () => {
    const accountId = await ts.account(10_000n);
    const { apiKey } = await ts.merchant();
    const state = join(dir, "wallet.json");
    const prov = await paycode(
      "wallet",
      "provision",
      "--server",
      ts.url,
      "--account",
      accountId,
      "--password",
      PASSWORD,
      "--state",
      state,
    );
    expect(prov.stderr).toBe("");
    expect(prov.stdout).toMatch(/^wallet \S+ provisioned \(handle \d+\)/);
    expect(prov.stdout).toMatch(
      /offline certificate: 50\.00 CNY per payment, 200\.00 CNY in total/,
    );

    const code = (await paycode("wallet", "code", "--plain", "--state", state)).stdout;
    expect(code).toMatch(/^62\d{16}$/);
    const ok = await paycode(
      "scan",
      "--server",
      ts.url,
      "--api-key",
      apiKey,
      "--amount",
      "12.34",
      "--code",
      code,
      "--out-trade-no",
      "cli-1",
    );
    expect(ok).toMatchObject({ status: 0, stderr: "" });
    expect(ok.stdout).toMatch(/^SUCCEEDED {2}payment \S+ {2}12\.34 CNY {2}order cli-1$/);

    const reused = await paycode(
      "scan",
      "--server",
      ts.url,
      "--api-key",
      apiKey,
      "--amount-minor",
      "100",
      "--code",
      code,
      "--out-trade-no",
      "cli-2",
    );
    expect(reused.status).toBe(0);
    expect(reused.stdout).toMatch(/^DECLINED .*\ndeclined: CODE_REUSED$/);

    const conflict = await paycode(
      "scan",
      "--server",
      ts.url,
      "--api-key",
      apiKey,
      "--amount",
      "1",
      "--code",
      code,
      "--out-trade-no",
      "cli-1",
    );
    expect(conflict.status).toBe(1);
    expect(conflict.stderr).toMatch(/^paycode: already_exists: /);

    const info = await paycode("wallet", "info", "--state", state);
    expect(info.stdout).toMatch(/balance: 87\.66 CNY/);

    const day = new Date(ts.clock.now()).toISOString().slice(0, 10);
    const report = await paycode("report", "--server", ts.url, "--api-key", apiKey, "--date", day);
    expect(report.stdout).toMatch(/online payments +1 +12\.34 CNY/);
    expect(report.stdout).toMatch(/net +12\.34 CNY/);
    expect(report.stdout).toMatch(/refunds +0 +0\.00 CNY/);
    expect(report.stdout).not.toContain("-0.00");
  });

  it("terminal sync → accept → upload → status", async () => {
    const accountId = await ts.account(10_000n);
    const { merchantId } = await ts.merchant();
    const key = await ts.terminalKey(merchantId);
    const state = join(dir, "wallet-t.json");
    const journal = join(dir, "terminal.db");
    await paycode(
      "wallet",
      "provision",
      "--server",
      ts.url,
      "--account",
      accountId,
      "--password",
      PASSWORD,
      "--state",
      state,
    );
    const sync = await paycode(
      "terminal",
      "sync",
      "--server",
      ts.url,
      "--api-key",
      key,
      "--journal",
      journal,
    );
    expect(sync.stdout).toMatch(/^synced: revocation list v\d+/);
    const qr = (await paycode("wallet", "code", "--offline", "--plain", "--state", state)).stdout;
    const accepted = await paycode("terminal", "accept", qr, "--journal", journal, "--amount", "2");
    expect(accepted.stdout).toMatch(/^ACCEPTED {2}2\.00 CNY/);
    const over = await paycode(
      "terminal",
      "accept",
      (await paycode("wallet", "code", "--offline", "--plain", "--state", state)).stdout,
      "--journal",
      journal,
      "--amount",
      "50.01",
    );
    expect(over).toMatchObject({ status: 0 });
    expect(over.stdout).toMatch(/^REFUSED {2}OVER_LIMIT/);
    const up = await paycode(
      "terminal",
      "upload",
      "--server",
      ts.url,
      "--api-key",
      key,
      "--journal",
      journal,
    );
    expect(up.stdout).toBe("uploaded 1 records: SETTLED 1");
    expect(up.stderr).toMatch(/uploaded 1\/1 records in 1 batch\(es\)/);
    const st = await paycode("terminal", "status", "--journal", journal);
    expect(st.stdout).toMatch(
      /records: 1 journaled, 0 not yet uploaded, 0 batch\(es\) awaiting an answer\nsettled: SETTLED 1/,
    );
    expect(await ts.balance({ merchantId })).toBe(200n);
  });

  it("wallet provision says in words when wrong passwords throttle the account [SEC-15]", async () => {
    const accountId = await ts.account(1000n);
    const state = join(dir, "wallet-throttled.json");
    const provision = (password: string) =>
      paycode(
        "wallet",
        "provision",
        "--server",
        ts.url,
        "--account",
        accountId,
        "--password",
        password,
        "--state",
        state,
      );
    for (let i = 0; i < 5; i++) {
      const wrong = await provision("wrong");
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toMatch(/unauthenticated/);
    }
    const refused = await provision(PASSWORD);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /^paycode: too many wrong payment passwords: the issuer refuses further attempts for 60 s without checking them/,
    );
  });

  it("the paycode binary provisions with --password-stdin and reports errors in one line", async () => {
    const accountId = await ts.account(1000n);
    const state = join(dir, "wallet-bin.json");
    const prov = await runBinary(
      [
        "wallet",
        "provision",
        "--server",
        ts.url,
        "--account",
        accountId,
        "--password-stdin",
        "--state",
        state,
      ],
      `${PASSWORD}\n`,
    );
    expect(prov).toMatchObject({ status: 0, stderr: "" });
    const code = new WalletClient({ store: new JsonFileWalletStateStore(state) }).onlineCode();
    const bad = await runBinary([
      "scan",
      "--server",
      ts.url,
      "--api-key",
      "nope",
      "--amount",
      "1",
      "--code",
      code,
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^order pc-\d+-[0-9a-f]{8}\npaycode: unauthenticated: .*\n$/);
    const usage = await runBinary([
      "scan",
      "--server",
      ts.url,
      "--api-key",
      "k",
      "--amount",
      "1.234",
      "--code",
      "1",
    ]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe('paycode: invalid amount "1.234": CNY has 2 decimal place(s)\n');
  });
});

/** Runs reference/cli/bin/paycode.js as a child process (asynchronously: the server runs in this one). */
function runBinary(args: string[], input = "") {
  const bin = join(import.meta.dirname, "../../bin/paycode.js");
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}
