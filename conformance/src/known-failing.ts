import { readFileSync } from "node:fs";

/** One pattern of a known-failing list and where it came from, for stale-entry messages. */
export interface KnownFailingEntry {
  readonly pattern: string;
  readonly line: number;
}

/**
 * Parses a known-failing list: one case id or glob per line, `#` starts a
 * comment, blank lines are ignored.
 */
export function parseKnownFailing(text: string): KnownFailingEntry[] {
  const out: KnownFailingEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const pattern = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (pattern !== "") out.push({ pattern, line: i + 1 });
  });
  return out;
}

export function readKnownFailing(file: string): KnownFailingEntry[] {
  return parseKnownFailing(readFileSync(file, "utf8"));
}
