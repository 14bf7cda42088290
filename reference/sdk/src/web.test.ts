// The browser entry imports no Node.js module, directly or through
// @paycode/protocol under the "browser" condition, and its state store works.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { WebStorageWalletStateStore } from "./web-state.js";

const here = dirname(fileURLToPath(import.meta.url));
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)"|import\("([^"]+)"\)/g;

function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/^\s*(\/\/|\*).*$/gm, "");
  return [...text.matchAll(SPECIFIER)].map((m) => (m[1] ?? m[2])!);
}

/** Every bare specifier reachable from `entry` through relative imports; `#x` via `imports`. */
function reachable(entry: string, imports: Record<string, string> = {}): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const s of specifiers(file)) {
      if (s.startsWith(".")) {
        const target = join(dirname(file), s);
        queue.push(file.endsWith(".ts") ? target.replace(/\.js$/, ".ts") : target);
      } else if (s.startsWith("#")) {
        expect(imports, `${file} imports ${s}`).toHaveProperty(s);
        queue.push(imports[s]!);
      } else {
        bare.add(s);
      }
    }
  }
  return bare;
}

describe("@paycode/sdk/web", () => {
  it("reaches no Node.js module, SQLite or connect-node", () => {
    const sdk = reachable(join(here, "web.ts"));
    expect([...sdk].filter((s) => s.startsWith("node:") || !s.startsWith("@"))).toEqual([]);
    expect(sdk).not.toContain("@connectrpc/connect-node");
    expect(sdk).toContain("@connectrpc/connect-web");

    const protocolEntry = fileURLToPath(import.meta.resolve("@paycode/protocol"));
    const pkgDir = join(dirname(protocolEntry), "..");
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
    const browserImports = Object.fromEntries(
      Object.entries(pkg.imports as Record<string, { browser: string }>).map(([k, v]) => [
        k,
        join(pkgDir, v.browser),
      ]),
    );
    const protocol = reachable(protocolEntry, browserImports);
    expect(
      [...protocol].filter((s) => !s.startsWith("@bufbuild/") && !s.startsWith("@noble/")),
    ).toEqual([]);
    // And the default (Node.js) side is still node:crypto.
    const nodeImports = Object.fromEntries(
      Object.entries(pkg.imports as Record<string, { default: string }>).map(([k, v]) => [
        k,
        join(pkgDir, v.default),
      ]),
    );
    expect(reachable(protocolEntry, nodeImports)).toContain("node:crypto");
  });

  it("keeps the wallet state in Web Storage", () => {
    const map = new Map<string, string>();
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
      removeItem: (k: string) => void map.delete(k),
    };
    const store = new WebStorageWalletStateStore({ storage, key: "w" });
    expect(store.load()).toBeUndefined();
    const state = {
      version: 1 as const,
      accountId: "a",
      walletId: "w1",
      handle: 7,
      seed: "AA==",
      walletKeySeed: "AA==",
      certificate: "",
      profile: "",
      limits: "",
      token: "t",
      clockOffsetMs: 0,
      provisionedAt: 1,
      onlineStep: -1,
      onlineNextCounter: 0,
      offlineNextCounter: "1",
    };
    store.update(() => state);
    expect(store.update((s) => ({ ...s!, onlineNextCounter: 1 })).onlineNextCounter).toBe(1);
    expect(new WebStorageWalletStateStore({ storage, key: "w" }).load()).toEqual({
      ...state,
      onlineNextCounter: 1,
    });
    map.set("w", "{");
    expect(() => store.load()).toThrow(/not valid JSON/);
    store.clear();
    expect(store.load()).toBeUndefined();
  });
});
