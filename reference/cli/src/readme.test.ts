// The README's "Try it by hand" block, run verbatim with bash: a newcomer's
// first hour must work as written. The block starts its own server (test
// control on), runs the conformance suite against it, and then drives every
// client command; the conformance run moves that server's clock ahead for
// good, so the rest of the block also proves the clients follow the issuer
// clock rather than the machine's.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PAYCODE_BIN } from "./testing/spawn-cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
// The conformance run certifies every config the server serves (the whole
// catalog over Connect on HTTP/1.1 with both codecs, a subset over the
// four others): about 1.7 times the single-config run it used to be.
const TIME_LIMIT_MS = 240_000;

/** The ```sh blocks of the README's "Try it by hand" section, joined. */
export function byHandScript(readme: string): string {
  const start = readme.indexOf("\n## Try it by hand\n");
  if (start < 0) throw new Error('README.md has no "## Try it by hand" section');
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  if (blocks.length === 0) throw new Error('"Try it by hand" has no ```sh block');
  return blocks.join("\n");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("README: Try it by hand", () => {
  const dir = mkdtempSync(join(tmpdir(), "paycode-readme-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("extracts the block", () => {
    const script = byHandScript(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(script).toContain("npx paycode serve --enable-test-control");
    expect(script).toContain("npx paycode conformance run");
    // The conformance run comes first: the rest must work on the clock it moved.
    expect(script.indexOf("conformance run")).toBeLessThan(script.indexOf("wallet provision"));
  });

  it(
    "runs top to bottom with bash -euo pipefail",
    async () => {
      const script = byHandScript(readFileSync(join(ROOT, "README.md"), "utf8"));
      // `npx paycode` must run this checkout's built bin, never ask the registry:
      // a shim npx, first on PATH, runs node_modules/.bin/paycode.
      const shimDir = join(dir, "bin");
      const work = join(dir, "work");
      mkdirSync(shimDir);
      mkdirSync(work);
      const shim = join(shimDir, "npx");
      writeFileSync(
        shim,
        `#!/bin/sh\nif [ "$1" = paycode ]; then shift; exec paycode "$@"; fi\necho "npx shim: only paycode" >&2\nexit 127\n`,
      );
      chmodSync(shim, 0o755);
      const binDir = join(ROOT, "node_modules", ".bin");
      expect(readFileSync(join(binDir, "paycode"), "utf8")).toBe(readFileSync(PAYCODE_BIN, "utf8"));

      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) {
        if (!k.startsWith("PAYCODE_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS") {
          env[k] = v;
        }
      }
      Object.assign(env, {
        PATH: `${shimDir}:${binDir}:${dirname(process.execPath)}:${process.env["PATH"] ?? ""}`,
        HOME: work,
        PORT: String(await freePort()),
        NO_COLOR: "1",
      });

      const started = Date.now();
      const child = spawn("bash", ["-euo", "pipefail", "-c", script], {
        cwd: work,
        env,
        detached: true, // its own process group: the server it starts dies with it
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        out += d.toString();
      });
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => killGroup("SIGKILL"), TIME_LIMIT_MS - 10_000);
      let result: { code: number | null; signal: NodeJS.Signals | null };
      try {
        result = await new Promise((resolve) =>
          child.on("close", (code, signal) => resolve({ code, signal })),
        );
      } finally {
        clearTimeout(timer);
        killGroup("SIGTERM");
      }
      const seconds = (Date.now() - started) / 1000;
      const serveLog = (() => {
        try {
          return readFileSync(join(work, "tmp", "by-hand", "serve.log"), "utf8");
        } catch {
          return "(no serve.log)";
        }
      })();
      const report = `after ${seconds.toFixed(1)} s, bash ended with ${result.code ?? result.signal}\n--- output ---\n${out}\n--- serve.log ---\n${serveLog}`;
      expect(result.code, report).toBe(0);

      expect(out, report).toContain("RESULT: PASS");
      // The conformance run set the issuer clock back where it found it
      // (settable-clock), so the wallet provisioned after it is in step.
      const offset = /^clock offset: (-?\d+) ms/m.exec(out);
      expect(Math.abs(Number(offset?.[1])), report).toBeLessThan(60_000);
      expect(out, report).toMatch(/^SUCCEEDED {2}payment \S+ {2}12\.34 CNY {2}order order-1$/m);
      expect(out, report).toMatch(/^refund \S+ of 2\.34 CNY \(refund number refund-1\)$/m);
      expect(out, report).toMatch(/^pending: \S+ 88\.00 CNY/m);
      expect(out, report).toMatch(
        /^SUCCEEDED {2}payment \S+ {2}88\.00 CNY {2}order order-2\nconfirmed by the payer$/m,
      );
      expect(out, report).toMatch(/^ACCEPTED {2}4\.50 CNY/m);
      expect(out, report).toContain("uploaded 1 records: SETTLED 1");
      expect(out, report).toMatch(/^ {2}net +102\.50 CNY$/m);
      expect(out, report).toMatch(/^account \S+: 897\.50 CNY$/m);
      expect(out, report).not.toMatch(/^(REFUSED|DECLINED|CLOSED)\b/m);
      process.stderr.write(`README by-hand block: ${seconds.toFixed(1)} s\n`);
    },
    TIME_LIMIT_MS,
  );
});
