import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import type { WalletSecret } from "./codes.js";

const MAGIC = "# paycode-bench-wallets v1";

/**
 * The (handle, seed) list of bench wallets, one `handle seed-hex` line each.
 * It holds wallet seeds in clear: a bench artefact for test stores only.
 */
export async function writeWalletFile(
  path: string,
  wallets: Iterable<WalletSecret>,
  comment: string,
): Promise<number> {
  const out = createWriteStream(path, { mode: 0o600 });
  let n = 0;
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, "drain");
  };
  await write(`${MAGIC}\n# ${comment.replace(/\n/g, " ")}\n`);
  let buf = "";
  for (const w of wallets) {
    buf += `${w.handle} ${Buffer.from(w.seed).toString("hex")}\n`;
    n++;
    if (buf.length > 1 << 16) {
      await write(buf);
      buf = "";
    }
  }
  await write(buf);
  out.end();
  await once(out, "finish");
  return n;
}

export async function readWalletFile(path: string): Promise<WalletSecret[]> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  const out: WalletSecret[] = [];
  let first = true;
  for await (const line of lines) {
    if (first) {
      if (line !== MAGIC) throw new Error(`${path} is not a bench wallet file (first line)`);
      first = false;
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.indexOf(" ");
    const handle = Number(line.slice(0, sp));
    const seed = Buffer.from(line.slice(sp + 1), "hex");
    if (sp < 0 || !Number.isInteger(handle) || seed.length !== 32) {
      throw new Error(`${path}: bad line "${line.slice(0, 40)}"`);
    }
    out.push({ handle, seed: new Uint8Array(seed) });
  }
  if (first) throw new Error(`${path} is empty`);
  return out;
}

/** `k` distinct items chosen uniformly at random (partial Fisher–Yates on a copy of the indexes). */
export function sample<T>(items: readonly T[], k: number): T[] {
  if (k >= items.length) return [...items];
  const idx = new Uint32Array(items.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  const out: T[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(Math.random() * (idx.length - i));
    const tmp = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = tmp;
    out.push(items[idx[i]!]!);
  }
  return out;
}
