// The example web pages (examples/web) in a real browser: Debian's Chromium
// driven by playwright-core. A `paycode serve` with test control and CORS for
// the pages' origin, the built pages on a loopback static server; the wallet
// page provisions and shows an online code, the till page pays it, and test
// control sees the payer's balance go down. Runs under CI=true; elsewhere it
// is skipped when /usr/bin/chromium is missing (apt-get install chromium).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { decodeOfflineCode } from "@paycode/protocol";
import { chromium } from "playwright-core";
import { build } from "vite";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const CHROMIUM = "/usr/bin/chromium";
const CI = process.env.CI === "true";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PASSWORD = "web wallet password";
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
};

if (!HAVE_CHROMIUM && !CI) {
  process.stderr.write(
    `web example browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)\n`,
  );
}

/** A static file server for dir on 127.0.0.1 (GET only, no directory listings). */
async function serveStatic(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = join(dir, path === "/" ? "index.html" : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return server;
}

/** `paycode serve` on a free port; resolves with its URL once it listens. */
function startPaycode(dir: string, origin: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "reference/cli/bin/paycode.js"),
      "serve",
      "--store",
      `sqlite:${join(dir, "paycode.db")}`,
      "--port",
      "0",
      "--enable-test-control",
      "--cors-origin",
      origin,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`paycode serve did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1]! });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`paycode serve exited with ${code}:\n${out}`));
    });
  });
}

/** A ConformanceService (test control) call in Connect's JSON form. */
async function control(
  url: string,
  method: string,
  body: object,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/paycode.v1.ConformanceService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

describe.skipIf(!HAVE_CHROMIUM && !CI)("example web wallet and till in Chromium", () => {
  it("provisions in the wallet page and pays its online code in the till page", async () => {
    expect(HAVE_CHROMIUM, `CI=true and ${CHROMIUM} is missing: apt-get install -y chromium`).toBe(
      true,
    );
    const tmp = mkdtempSync(join(tmpdir(), "paycode-web-"));
    let site: Server | undefined;
    let paycode: ChildProcess | undefined;
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      const outDir = join(tmp, "site");
      await build({
        configFile: join(ROOT, "examples/web/vite.config.js"),
        logLevel: "warn",
        build: { outDir },
      });
      site = await serveStatic(outDir);
      const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
      const started = await startPaycode(tmp, origin);
      paycode = started.child;
      const server = started.url;

      const { accountId } = (await control(server, "CreateAccount", {
        password: PASSWORD,
        balance: { currency: "CNY", amountMinor: "100000" },
      })) as { accountId: string };
      const { apiKey } = (await control(server, "CreateMerchant", { name: "web till" })) as {
        apiKey: string;
      };
      expect(accountId).toBeTruthy();

      context = await chromium.launchPersistentContext(join(tmp, "profile"), {
        executablePath: CHROMIUM,
        headless: true,
        args: ARGS,
        timeout: 30_000,
      });
      context.setDefaultTimeout(20_000);
      const errors: string[] = [];
      const wallet = await context.newPage();
      wallet.on("pageerror", (e) => errors.push(String(e)));
      await wallet.goto(`${origin}/index.html?server=${encodeURIComponent(server)}`);
      await wallet.fill("#account", accountId);
      await wallet.fill("#password", PASSWORD);
      await wallet.click("#provision-button");
      const poll = { timeout: 20_000, interval: 100 };
      await expect
        .poll(() => wallet.getAttribute("#online-code", "data-code"), poll)
        .toMatch(/^\d{18}$/);
      const code = await wallet.getAttribute("#online-code", "data-code");
      expect(code).toMatch(/^\d{18}$/);
      // The offline code the page signed (noble Ed25519) decodes for this wallet.
      const offline = await wallet.getAttribute("#offline-qr", "data-code");
      const walletId = await wallet.textContent("#wallet-id");
      expect(decodeOfflineCode(offline ?? "")?.payload.walletId).toBe(walletId);
      expect(await wallet.locator("#offline-qr svg").count()).toBe(1);
      expect(await wallet.locator("#online-barcode svg rect").count()).toBeGreaterThan(20);
      await expect.poll(() => wallet.textContent("#balance"), poll).toMatch(/balance 1000\.00 CNY/);
      const shot = join(tmpdir(), "paycode-web-wallet.png");
      await wallet.screenshot({ path: shot, fullPage: true });
      process.stderr.write(`web wallet screenshot: ${shot}\n`);

      const till = await context.newPage();
      till.on("pageerror", (e) => errors.push(String(e)));
      await till.goto(`${origin}/till.html?server=${encodeURIComponent(server)}`);
      await till.fill("#api-key", apiKey);
      await till.fill("#amount", "12.34");
      await till.fill("#currency", "CNY");
      await till.fill("#code", code!);
      await till.click("#scan-button");
      await expect.poll(() => till.textContent("#status"), poll).not.toMatch(/^(–|…)$/);
      expect(await till.textContent("#error")).toBe("");
      expect(await till.textContent("#status")).toBe("SUCCEEDED");
      await till.screenshot({ path: join(tmpdir(), "paycode-web-till.png"), fullPage: true });

      const { balance } = await control(server, "GetBalance", { accountId });
      expect(balance).toEqual({ currency: "CNY", amountMinor: String(100000 - 1234) });
      expect(errors).toEqual([]);
    } finally {
      await context?.close().catch(() => {});
      if (paycode && paycode.exitCode === null) {
        const exited = new Promise((ok) => paycode!.once("exit", ok));
        paycode.kill("SIGTERM");
        await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
        if (paycode.exitCode === null) paycode.kill("SIGKILL");
      }
      await new Promise((ok) => (site ? site.close(ok) : ok(undefined)));
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
