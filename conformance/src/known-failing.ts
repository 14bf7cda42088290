import { readFileSync } from "node:fs";
import { globToRegExp, matchesGlob } from "./glob.js";

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

/**
 * Whether a known-failing pattern lists case `id` on config `config`. A
 * pattern is a case glob, optionally qualified by a config glob after `@`
 * (as connectrpc/conformance matches config-qualified test names):
 * `reused-code/*` lists those cases on every config,
 * `reused-code/*@grpc-*` only over gRPC, `**@*-json` every case over JSON.
 */
export function listsCase(pattern: string, id: string, config: string): boolean {
  const at = pattern.indexOf("@");
  if (at < 0) return matchesGlob(id, pattern);
  const configPattern = pattern.slice(at + 1).trim();
  return (
    matchesGlob(id, pattern.slice(0, at)) &&
    configPattern !== "" &&
    globToRegExp(configPattern).test(config)
  );
}
