/**
 * Parser of the requirement IDs of spec/paycode.md.
 *
 * The spec defines a requirement on one source line (paragraph or list
 * item) that starts with its ID in brackets inside a code span:
 *
 *     `[SCAN-3]` The Issuer MUST record the usage key before ...
 *
 * References elsewhere are plain text, "see [SCAN-3]", and are never
 * definitions. The conformance harness imports this module to map its
 * cases to requirements, so it depends on nothing but the Markdown text.
 */

/** The four requirement levels of BCP 14 that carry an ID. */
export type RequirementLevel = "MUST" | "MUST NOT" | "SHOULD" | "SHOULD NOT";

/** The conformance classes of spec §2. */
export type ConformanceClass = "Issuer" | "Wallet" | "Terminal";

/** One requirement as defined in the spec text. */
export interface Requirement {
  /** For example "SCAN-3". */
  id: string;
  /** For example "SCAN". */
  family: string;
  /** For example 3. */
  number: number;
  /** The single level keyword of the definition line. */
  level: RequirementLevel;
  /** Heading of the innermost section holding the definition, e.g. "7.3.1 Scan". */
  section: string;
  /** GitHub-style anchor of that heading, without "#", e.g. "731-scan". */
  anchor: string;
  /** The definition sentence without the ID marker. */
  text: string;
  /** 1-based line number in the Markdown source. */
  line: number;
}

/** One row of the requirement index (spec Appendix B). */
export interface RequirementIndexEntry {
  id: string;
  /** The level as written in the index; a string so a bad row can be reported. */
  level: string;
  conformanceClass: string;
  /** Anchor linked from the section cell, without "#". */
  anchor: string;
  summary: string;
  line: number;
}

/** A BCP 14 keyword found in running text. */
export interface KeywordHit {
  keyword: string;
  line: number;
}

const ID_SOURCE = "[A-Z]+-\\d+";
const DEFINITION = new RegExp(`^\\\`\\[(${ID_SOURCE})\\]\\\`\\s+(.*)$`);
const LIST_MARKER = /^\s*(?:(?:[-*+]|\d+[.)])\s+|>\s*)*/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE = /^\s*(```|~~~)/;
// Longest alternatives first so "MUST NOT" is not read as "MUST".
const KEYWORD =
  /\b(MUST NOT|MUST|SHALL NOT|SHALL|SHOULD NOT|SHOULD|NOT RECOMMENDED|RECOMMENDED|REQUIRED|MAY|OPTIONAL)\b/g;
const LEVELS: ReadonlySet<string> = new Set(["MUST", "MUST NOT", "SHOULD", "SHOULD NOT"]);
const INDEX_HEADING = /requirement index/i;

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Text with code spans and double-quoted strings removed: where keywords are only mentioned. */
function runningText(text: string): string {
  return text
    .replace(/``[^\n]*?``|`[^`\n]*`/g, " ")
    .replace(/"[^"\n]*"/g, " ")
    .replace(/“[^”\n]*”/g, " ");
}

/** Every BCP 14 keyword used (not merely mentioned) in `text`, in order. */
export function findKeywords(text: string): string[] {
  return [...runningText(text).matchAll(KEYWORD)].map((m) => m[1]!);
}

interface SourceLine {
  text: string;
  line: number;
  section: string;
  anchor: string;
  inFence: boolean;
  isHeading: boolean;
}

/** Walks the Markdown once, tracking fences and the current heading and its anchor. */
function scanLines(markdown: string): SourceLine[] {
  const out: SourceLine[] = [];
  const seen = new Map<string, number>();
  let section = "";
  let anchor = "";
  let inFence = false;
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (FENCE.test(text)) {
      inFence = !inFence;
      out.push({ text, line: i + 1, section, anchor, inFence: true, isHeading: false });
      continue;
    }
    const heading = inFence ? null : HEADING.exec(text);
    if (heading) {
      section = heading[2]!;
      const base = headingAnchor(section);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchor = n === 0 ? base : `${base}-${n}`;
    }
    out.push({ text, line: i + 1, section, anchor, inFence, isHeading: heading !== null });
  }
  return out;
}

/**
 * Every requirement definition of the spec, in document order. A
 * definition whose line holds no level keyword, or a keyword that is not
 * one of the four levels, is still returned (level = the first keyword
 * found, or "MUST" when none) so that checks can report it; use
 * `findKeywords(text)` to validate.
 */
export function parseRequirements(markdown: string): Requirement[] {
  const out: Requirement[] = [];
  for (const l of scanLines(markdown)) {
    if (l.inFence || l.isHeading) continue;
    const body = l.text.replace(LIST_MARKER, "");
    const m = DEFINITION.exec(body);
    if (!m) continue;
    const id = m[1]!;
    const text = m[2]!.trim();
    const keywords = findKeywords(text);
    const level = (keywords.find((k) => LEVELS.has(k)) ??
      keywords[0] ??
      "MUST") as RequirementLevel;
    const dash = id.lastIndexOf("-");
    out.push({
      id,
      family: id.slice(0, dash),
      number: Number(id.slice(dash + 1)),
      level,
      section: l.section,
      anchor: l.anchor,
      text,
      line: l.line,
    });
  }
  return out;
}

/**
 * The rows of the requirement index table: the first Markdown table after
 * the heading that contains "Requirement index". Columns: ID | level |
 * conformance class | section link | summary.
 */
export function parseRequirementIndex(markdown: string): RequirementIndexEntry[] {
  const out: RequirementIndexEntry[] = [];
  let inIndex = false;
  for (const l of scanLines(markdown)) {
    if (l.isHeading) inIndex = INDEX_HEADING.test(l.section);
    if (!inIndex || l.inFence || !l.text.trimStart().startsWith("|")) continue;
    const cells = l.text
      .trim()
      .replace(/^\||\|$/g, "")
      .split("|")
      .map((c) => c.trim());
    const id = /^`?\[?([A-Z]+-\d+)\]?`?$/.exec(cells[0] ?? "");
    if (!id || cells.length < 5) continue;
    out.push({
      id: id[1]!,
      level: cells[1]!,
      conformanceClass: cells[2]!,
      anchor: /\(#([^)]+)\)/.exec(cells[3]!)?.[1] ?? "",
      summary: cells.slice(4).join("|"),
      line: l.line,
    });
  }
  return out;
}

/**
 * BCP 14 level keywords used outside requirement definitions, outside code
 * and outside the index: each one is a requirement without an ID.
 */
export function findUnidentifiedKeywords(markdown: string): KeywordHit[] {
  const out: KeywordHit[] = [];
  let inIndex = false;
  for (const l of scanLines(markdown)) {
    if (l.isHeading) inIndex = INDEX_HEADING.test(l.section);
    if (inIndex || l.inFence || l.isHeading) continue;
    if (DEFINITION.test(l.text.replace(LIST_MARKER, ""))) continue;
    for (const keyword of findKeywords(l.text)) {
      if (LEVELS.has(keyword)) out.push({ keyword, line: l.line });
    }
  }
  return out;
}

/** Every plain reference "[FAMILY-N]" outside definitions' own markers, code and the index. */
export function findReferences(markdown: string): Array<{ id: string; line: number }> {
  const out: Array<{ id: string; line: number }> = [];
  const ref = new RegExp(`\\[(${ID_SOURCE})\\]`, "g");
  let inIndex = false;
  for (const l of scanLines(markdown)) {
    if (l.isHeading) inIndex = INDEX_HEADING.test(l.section);
    if (inIndex || l.inFence) continue;
    const text = l.text.replace(LIST_MARKER, "").replace(/``[^\n]*?``|`[^`\n]*`/g, " ");
    for (const m of text.matchAll(ref)) out.push({ id: m[1]!, line: l.line });
  }
  return out;
}

/** Every heading anchor of the document (GitHub style, duplicates suffixed). */
export function headingAnchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const l of scanLines(markdown)) if (l.isHeading) out.add(l.anchor);
  return out;
}
