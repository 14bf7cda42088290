import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  findKeywords,
  findReferences,
  findUnidentifiedKeywords,
  headingAnchor,
  headingAnchors,
  parseRequirementIndex,
  parseRequirements,
} from "./requirements.js";

const here = dirname(fileURLToPath(import.meta.url));
// The repository's spec, not the copy the package ships.
const spec = readFileSync(join(here, "../../../spec/paycode.md"), "utf8");
const requirements = parseRequirements(spec);
const index = parseRequirementIndex(spec);

const FAMILIES = [
  "CODE",
  "QR",
  "VERIFY",
  "WALLET",
  "SCAN",
  "PAY",
  "LIMIT",
  "REFUND",
  "SETTLE",
  "TERM",
  "AUTH",
  "CTRL",
  "SEC",
  "RPC",
  "AUDIT",
  "KEY",
];
const LEVELS = ["MUST", "MUST NOT", "SHOULD", "SHOULD NOT"];
const CLASSES = ["Issuer", "Wallet", "Terminal"];

describe("spec/paycode.md requirement IDs", () => {
  it("defines at least 40 unique requirement IDs", () => {
    expect(new Set(requirements.map((r) => r.id)).size).toBeGreaterThanOrEqual(40);
  });

  it("defines each ID once", () => {
    const lines = new Map<string, number[]>();
    for (const r of requirements) lines.set(r.id, [...(lines.get(r.id) ?? []), r.line]);
    const duplicates = [...lines].filter(([, at]) => at.length > 1);
    expect(duplicates).toEqual([]);
  });

  it("uses only the spec's families", () => {
    expect(requirements.filter((r) => !FAMILIES.includes(r.family)).map((r) => r.id)).toEqual([]);
  });

  it("has exactly one level keyword in every definition", () => {
    const bad = requirements
      .map((r) => ({ id: r.id, line: r.line, keywords: findKeywords(r.text) }))
      .filter((r) => r.keywords.length !== 1 || !LEVELS.includes(r.keywords[0]!));
    expect(bad).toEqual([]);
  });

  it("numbers each family without gaps", () => {
    const ids = new Set([...requirements.map((r) => r.id), ...index.map((e) => e.id)]);
    const gaps: string[] = [];
    for (const family of FAMILIES) {
      const numbers = [...ids]
        .filter((id) => id.startsWith(`${family}-`))
        .map((id) => Number(id.slice(family.length + 1)));
      const max = Math.max(0, ...numbers);
      for (let n = 1; n <= max; n++) if (!numbers.includes(n)) gaps.push(`${family}-${n}`);
    }
    expect(gaps).toEqual([]);
  });

  it("carries an ID on every MUST / MUST NOT / SHOULD / SHOULD NOT sentence", () => {
    expect(findUnidentifiedKeywords(spec)).toEqual([]);
  });

  it("references only defined IDs", () => {
    const defined = new Set(requirements.map((r) => r.id));
    expect(findReferences(spec).filter((ref) => !defined.has(ref.id))).toEqual([]);
  });
});

describe("spec/paycode.md requirement index", () => {
  it("is the last section", () => {
    const headings = spec.split("\n").filter((l) => /^#{1,6}\s/.test(l));
    expect(headings.at(-1)).toMatch(/Requirement index/);
  });

  it("lists every defined ID once, with the same level", () => {
    const byId = new Map(index.map((e) => [e.id, e]));
    expect(index.length).toBe(byId.size);
    const mismatches = requirements
      .filter((r) => byId.get(r.id)?.level !== r.level)
      .map((r) => `${r.id}: defined ${r.level}, indexed ${byId.get(r.id)?.level ?? "missing"}`);
    expect(mismatches).toEqual([]);
  });

  it("lists only defined IDs, or withdrawn ones", () => {
    const defined = new Set(requirements.map((r) => r.id));
    const bad = index.filter((e) => defined.has(e.id) === (e.level === "withdrawn"));
    expect(bad.map((e) => e.id)).toEqual([]);
  });

  it("links each ID to the section that defines it", () => {
    const anchors = headingAnchors(spec);
    const byId = new Map(requirements.map((r) => [r.id, r]));
    const bad = index
      .filter((e) => e.level !== "withdrawn")
      .filter((e) => !anchors.has(e.anchor) || byId.get(e.id)?.anchor !== e.anchor)
      .map((e) => `${e.id} → #${e.anchor}`);
    expect(bad).toEqual([]);
  });

  it("names a conformance class and a summary for every row", () => {
    const bad = index.filter((e) => !CLASSES.includes(e.conformanceClass) || e.summary === "");
    expect(bad).toEqual([]);
  });

  it("puts every MUST on the class its sentence names", () => {
    const byId = new Map(index.map((e) => [e.id, e]));
    const bad = requirements
      .filter((r) => {
        const subject = /^(?:The|A|An)\s+(Issuer|Wallet|Terminal)\b/.exec(r.text)?.[1];
        return subject !== undefined && byId.get(r.id)?.conformanceClass !== subject;
      })
      .map((r) => r.id);
    expect(bad).toEqual([]);
  });
});

describe("parseRequirements", () => {
  const sample = [
    "# Title",
    "## 7.3.1 Scan",
    "",
    "`[SCAN-3]` The Issuer MUST NOT burn a code twice.",
    "- `[SCAN-4]` A Wallet SHOULD show it (see [SCAN-3]).",
    "```",
    "`[SCAN-9]` The Issuer MUST be ignored inside code.",
    "```",
    'Mentions of `MUST` in code and "SHOULD" in quotes are not keywords.',
    "## 7.3.1 Scan",
    "`[SCAN-5]` The Issuer MUST be in the second heading of that name.",
    "## Appendix B. Requirement index",
    "| ID | level | class | section | summary |",
    "|---|---|---|---|---|",
    "| SCAN-3 | MUST NOT | Issuer | [§7.3.1](#731-scan) | no double burn |",
  ].join("\n");

  it("finds definitions, their level, section and anchor", () => {
    expect(parseRequirements(sample)).toEqual([
      {
        id: "SCAN-3",
        family: "SCAN",
        number: 3,
        level: "MUST NOT",
        section: "7.3.1 Scan",
        anchor: "731-scan",
        text: "The Issuer MUST NOT burn a code twice.",
        line: 4,
      },
      {
        id: "SCAN-4",
        family: "SCAN",
        number: 4,
        level: "SHOULD",
        section: "7.3.1 Scan",
        anchor: "731-scan",
        text: "A Wallet SHOULD show it (see [SCAN-3]).",
        line: 5,
      },
      {
        id: "SCAN-5",
        family: "SCAN",
        number: 5,
        level: "MUST",
        section: "7.3.1 Scan",
        anchor: "731-scan-1",
        text: "The Issuer MUST be in the second heading of that name.",
        line: 11,
      },
    ]);
  });

  it("reads the index table", () => {
    expect(parseRequirementIndex(sample)).toEqual([
      {
        id: "SCAN-3",
        level: "MUST NOT",
        conformanceClass: "Issuer",
        anchor: "731-scan",
        summary: "no double burn",
        line: 15,
      },
    ]);
  });

  it("finds references and ignores mentioned keywords", () => {
    expect(findReferences(sample)).toEqual([{ id: "SCAN-3", line: 5 }]);
    expect(findUnidentifiedKeywords(sample)).toEqual([]);
    expect(findUnidentifiedKeywords("Implementations SHOULD do this.")).toEqual([
      { keyword: "SHOULD", line: 1 },
    ]);
  });

  it("makes GitHub anchors", () => {
    expect(headingAnchor("4. Online code, bit by bit")).toBe("4-online-code-bit-by-bit");
    expect(headingAnchor("Appendix B. Requirement index")).toBe("appendix-b-requirement-index");
    expect(headingAnchor('5.4 Text encoding: "PC1:" and base45')).toBe(
      "54-text-encoding-pc1-and-base45",
    );
  });
});
