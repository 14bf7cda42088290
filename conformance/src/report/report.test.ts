import { describe, expect, it } from "vitest";
import type { CaseResult, ConfigReport, RunReport } from "../result.js";
import { summarize } from "../result.js";
import { SPEC_URL, SUITE_VERSION } from "../version.js";
import { ConsoleReporter, colorEnabled, formatSummary } from "./console.js";
import { toHtml } from "./html.js";
import { toJson } from "./json.js";
import { escapeXml, toJunit } from "./junit.js";

const NASTY = `expected "a" & <b>, got 'c' </script><script>alert(1)</script> \u0000\u001b[31m ]]> ✓ 😀`;

function result(
  id: string,
  status: CaseResult["status"],
  message = "",
  extra: Partial<CaseResult> = {},
): CaseResult {
  // Every case that ran, ran on both mandatory configs, with the same verdict.
  const configs =
    status === "skipped"
      ? []
      : MANDATORY.map((config) => ({
          config,
          status,
          durationMs: 6,
          message,
          ...(status === "failed" && extra.staleKnownFailing ? { staleKnownFailing: true } : {}),
        }));
  return {
    id,
    title: `title of ${id}`,
    requirements: ["SCAN-5", "SEC-1"],
    severity: "required",
    features: [],
    status,
    durationMs: 12,
    message,
    blocking: status === "failed",
    configs,
    ...extra,
  };
}

const MANDATORY = ["connect-http1.1-proto", "connect-http1.1-json"] as const;

function sampleConfigs(): ConfigReport[] {
  return [
    {
      name: "connect-http1.1-proto",
      protocol: "connect",
      httpVersion: "1.1",
      codec: "proto",
      mandatory: true,
      served: true,
      cases: "all",
      checked: true,
    },
    {
      name: "connect-http1.1-json",
      protocol: "connect",
      httpVersion: "1.1",
      codec: "json",
      mandatory: true,
      served: true,
      cases: "all",
      checked: true,
    },
    {
      name: "grpc-http2-proto",
      protocol: "grpc",
      httpVersion: "2",
      codec: "proto",
      mandatory: false,
      served: false,
      why: "no HTTP/2 from the target",
      cases: "none",
      checked: false,
    },
  ];
}

/** A case that passed over binary protobuf and failed over JSON. */
function jsonOnlyFailure(): CaseResult {
  return result("malformed-input/json-only", "failed", "connect-http1.1-json: bad <enum>", {
    configs: [
      { config: "connect-http1.1-proto", status: "passed", durationMs: 5, message: "" },
      { config: "connect-http1.1-json", status: "failed", durationMs: 7, message: "bad <enum>" },
    ],
  });
}

function sampleReport(): RunReport {
  const cases = [
    result("reused-code/second-scan", "passed"),
    result("reused-code/concurrent", "failed", NASTY, { notes: ["note <1>"] }),
    result(
      "double-offline/settles",
      "skipped",
      'target does not claim feature "offline-settlement"',
    ),
    result("over-limit/x", "known-failing", "still broken"),
    result("over-limit/y", "failed", "stale known-failing entry: ...", { staleKnownFailing: true }),
  ];
  return {
    suiteVersion: "1.0.0",
    target: "http://127.0.0.1:1/?a=1&b=<2>",
    protocol: "connect",
    httpVersion: "1.1",
    configs: sampleConfigs(),
    unexercisedMandatory: [],
    implementation: "impl <v1> & co",
    features: ["refunds"],
    startedAt: "2030-01-15T10:00:00.000Z",
    durationMs: 1234,
    strict: false,
    interrupted: false,
    unmatchedKnownFailing: [],
    summary: summarize(cases),
    cases,
    ok: false,
  };
}

/** A rough XML well-formedness check: balanced tags, no raw & or < in text or attributes. */
function parseXmlRoughly(
  xml: string,
): { name: string; attrs: Record<string, string>; text: string }[] {
  const elements: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const token = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < body.length) {
    token.lastIndex = pos;
    m = token.exec(body);
    if (!m) throw new Error(`not well-formed at ${pos}: ${body.slice(pos, pos + 40)}`);
    pos = token.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`raw & in text: ${m[5]}`);
      const top = elements[elements.length - 1];
      if (top && stack.length > 0) top.text += m[5];
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`mismatched </${name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(a[2]!)) throw new Error(`raw & in attribute ${a[1]}`);
      attrs[a[1]!] = unescapeXml(a[2]!);
    }
    elements.push({ name: name!, attrs, text: "" });
    if (!selfClose) stack.push(name!);
  }
  if (stack.length > 0) throw new Error(`unclosed ${stack.join(",")}`);
  return elements;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

describe("JSON report", () => {
  it("has the documented fields and parses back", () => {
    const r = JSON.parse(toJson(sampleReport()));
    expect(Object.keys(r)).toEqual(
      expect.arrayContaining([
        "suiteVersion",
        "target",
        "startedAt",
        "durationMs",
        "summary",
        "cases",
      ]),
    );
    expect(r.summary).toMatchObject({
      total: 5,
      passed: 1,
      failed: 2,
      skipped: 1,
      knownFailing: 1,
    });
    for (const c of r.cases) {
      expect(Object.keys(c)).toEqual(
        expect.arrayContaining([
          "id",
          "title",
          "requirements",
          "severity",
          "status",
          "durationMs",
          "message",
        ]),
      );
      expect(["passed", "failed", "skipped", "known-failing"]).toContain(c.status);
    }
    expect(r.cases[1].message).toBe(NASTY);
  });

  it("names the configs of the run and, per case, each config it ran on", () => {
    const report = sampleReport();
    report.cases.push(jsonOnlyFailure());
    const r = JSON.parse(toJson(report));
    expect(r.configs.map((c: { name: string; served: boolean }) => [c.name, c.served])).toEqual([
      ["connect-http1.1-proto", true],
      ["connect-http1.1-json", true],
      ["grpc-http2-proto", false],
    ]);
    expect(r.configs[1]).toMatchObject({ protocol: "connect", httpVersion: "1.1", codec: "json" });
    const byId = Object.fromEntries(r.cases.map((c: { id: string }) => [c.id, c]));
    expect(byId["malformed-input/json-only"].configs).toEqual([
      { config: "connect-http1.1-proto", status: "passed", durationMs: 5, message: "" },
      {
        config: "connect-http1.1-json",
        status: "failed",
        durationMs: 7,
        message: "bad <enum>",
      },
    ]);
    expect(byId["double-offline/settles"].configs).toEqual([]);
  });
});

describe("JUnit report", () => {
  it("is well-formed XML with escaped text, one suite per family", () => {
    const report = sampleReport();
    const xml = toJunit(report);
    const els = parseXmlRoughly(xml);
    const suites = els.filter((e) => e.name === "testsuite");
    expect(suites.map((s) => s.attrs["name"])).toEqual([
      "reused-code",
      "double-offline",
      "over-limit",
    ]);
    // One testcase per case and config; a skipped case (no config) once.
    const cases = els.filter((e) => e.name === "testcase");
    expect(cases).toHaveLength(9);
    const failures = els.filter((e) => e.name === "failure");
    expect(failures).toHaveLength(4);
    // The message comes back intact except for the characters XML cannot carry.
    expect(failures[0]!.attrs["message"]).toBe(NASTY.replace(/[\u0000\u001b]/g, "\uFFFD"));
    expect(els.filter((e) => e.name === "skipped")).toHaveLength(3);
    expect(els[0]!.attrs).toMatchObject({ tests: "9", failures: "4", skipped: "3" });
    expect(xml).not.toContain("<script>");
  });

  it("names each testcase by case and config, with protocol, HTTP version and codec", () => {
    const report = sampleReport();
    report.cases = [jsonOnlyFailure(), report.cases[2]!];
    const els = parseXmlRoughly(toJunit(report));
    const names = els.filter((e) => e.name === "testcase").map((e) => e.attrs["name"]);
    expect(names).toEqual([
      "malformed-input/json-only@connect-http1.1-proto",
      "malformed-input/json-only@connect-http1.1-json",
      "double-offline/settles",
    ]);
    const failures = els.filter((e) => e.name === "failure");
    expect(failures.map((f) => f.attrs["message"])).toEqual(["bad <enum>"]);
    const props = els
      .filter((e) => e.name === "property")
      .map((e) => `${e.attrs["name"]}=${e.attrs["value"]}`);
    expect(props).toEqual(
      expect.arrayContaining([
        "config=connect-http1.1-json",
        "protocol=connect",
        "httpVersion=1.1",
        "codec=json",
        "codec=proto",
      ]),
    );
  });

  it("escapes every special character", () => {
    expect(escapeXml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
    expect(escapeXml("\u0001ok")).toBe("\uFFFDok");
  });
});

describe("HTML report", () => {
  const requirements = new Map([
    [
      "SCAN-5",
      {
        anchor: "731-scan",
        section: "7.3.1 Scan",
        level: "MUST",
        text: "The Issuer MUST decline a code it has seen <before>.",
      },
    ],
  ]);

  it("is self-contained and escapes data", () => {
    const html = toHtml(sampleReport(), { requirements });
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("<style>");
    expect(html).not.toMatch(/<(link|img|iframe)\b/);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/);
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain('data-filter="failed"');
    expect((html.match(/<tr data-group=/g) ?? []).length).toBe(5);
    // Exactly one inline script (the filter), and it is ours.
    expect((html.match(/<script>/g) ?? []).length).toBe(1);
  });

  it("lists failures first: blocking, recommended, known-failing, skipped, passed", () => {
    const report = sampleReport();
    report.cases.push(
      result("a-family/soft", "failed", "soft", { severity: "recommended", blocking: false }),
    );
    const html = toHtml(report, { requirements });
    const order = [...html.matchAll(/<code id="([^"]+)">/g)].map((m) => m[1]);
    expect(order).toEqual([
      "reused-code/concurrent",
      "over-limit/y",
      "a-family/soft",
      "over-limit/x",
      "double-offline/settles",
      "reused-code/second-scan",
    ]);
    const groups = [...html.matchAll(/<tr class="group" data-group="([^"]+)"/g)].map((m) => m[1]);
    expect(groups).toEqual(["blocking", "recommended", "known-failing", "skipped", "passed"]);
  });

  it("says, per Issuer MUST, which mutants prove its cases, and lists the rest as gaps", () => {
    const report = sampleReport();
    report.cases.push(result("x/unproven", "passed", "", { requirements: ["XYZ-1"] }));
    const html = toHtml(report, {
      requirements: new Map([
        ["SCAN-5", { ...requirements.get("SCAN-5")!, conformanceClass: "Issuer" }],
        ["XYZ-1", { anchor: "x", level: "MUST", text: "t", conformanceClass: "Issuer" }],
      ]),
    });
    expect(html).toMatch(/Proven by mutants? [^<]*<code>accept-reused-code<\/code>/);
    expect(html).toContain(
      "Gap: no mutant proves the cases catch a break of this rule (no mutant breaks it)",
    );
    // Only MUSTs of the Issuer class carry a proof line.
    expect(toHtml(sampleReport(), { requirements })).not.toContain("Proven by");
  });

  it("embeds the requirement texts and links IDs to the spec at an absolute URL of the suite's version", () => {
    const html = toHtml(sampleReport(), { requirements });
    expect(SPEC_URL).toBe(
      `https://github.com/paycode/paycode/blob/v${SUITE_VERSION}/spec/paycode.md`,
    );
    // The text, escaped, is in the report: once in the list, and under each failing case.
    const text = "The Issuer MUST decline a code it has seen &lt;before&gt;.";
    expect(html).toContain(`<dd>${text}</dd>`);
    expect(html.split(text).length - 1).toBeGreaterThanOrEqual(3); // list + two failed + known-failing
    expect(html).toContain(`href="${SPEC_URL}#731-scan"`);
    expect(html).toContain(`href="${SPEC_URL}#sec-1"`); // unknown to the index: lower-cased id
    expect(html).toContain('<dt id="req-SCAN-5">');
    expect(html).toContain('href="#req-SCAN-5"');
    expect(html).toContain("not in this suite's copy of the spec");
    // Nothing relative that breaks once the file is moved.
    for (const m of html.matchAll(/href="([^"]*)"/g)) {
      expect(m[1]).toMatch(/^(#|https:\/\/)/);
    }
  });

  it("names the configs of the run and, per case, each config with its verdict", () => {
    const report = sampleReport();
    report.cases.push(jsonOnlyFailure());
    const html = toHtml(report, { requirements });
    expect(html).toContain('<table class="protocols">');
    expect(html).toContain(
      '<tr class=""><td><code>connect-http1.1-json</code></td><td>connect</td><td>HTTP/1.1</td><td>json</td><td>mandatory [RPC-3]</td><td>served</td><td>every case</td></tr>',
    );
    expect(html).toMatch(
      /<td><code>grpc-http2-proto<\/code><\/td>.*<b>not served<\/b> <span class="meta">no HTTP\/2 from the target<\/span>/,
    );
    expect(html).toContain(
      '<span class="cfg passed" title="passed">connect-http1.1-proto</span> <span class="cfg failed" title="failed: bad &lt;enum&gt;">connect-http1.1-json</span>',
    );
    report.unexercisedMandatory = ["connect-http1.1-json"];
    expect(toHtml(report)).toContain(
      "Not a certification run: it left out connect-http1.1-json, mandatory by [RPC-3]",
    );
  });

  it("says why a refused target was not tested", () => {
    const report = sampleReport();
    report.cases = [];
    report.summary = summarize([]);
    report.targetProblem = { kind: "unreachable", message: "http://x is unreachable: <refused>" };
    const html = toHtml(report);
    expect(html).toContain("Target not tested: http://x is unreachable: &lt;refused&gt;");
  });
});

describe("console report", () => {
  it("prints plain lines when not a TTY and ends with the verdict", () => {
    let out = "";
    const stream = {
      write: (s: string) => {
        out += s;
        return true;
      },
      isTTY: false,
    } as unknown as NodeJS.WritableStream;
    const r = new ConsoleReporter({ stream });
    const report = sampleReport();
    r.onStart({ target: report.target, implementation: "x", total: 5, features: [] });
    for (const c of report.cases) r.onCaseEnd(c);
    r.onEnd(report);
    expect(out).not.toContain("\x1b[");
    expect(out).toContain(
      "PASS  reused-code/second-scan over connect-http1.1-proto, connect-http1.1-json (12 ms)",
    );
    expect(out).toContain(
      "FAIL  reused-code/concurrent over connect-http1.1-proto, connect-http1.1-json (12 ms)",
    );
    expect(out).toContain("SKIP  double-offline/settles (12 ms)");
    expect(out).toContain("RESULT: FAIL (2 blocking failures)");
    expect(out).toContain("1 stale known-failing entry");
  });

  it("colours only a terminal, never with NO_COLOR, always with FORCE_COLOR", () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: "dumb" })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { FORCE_COLOR: "0" })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(false);
  });

  it("emits no ANSI codes on a terminal with NO_COLOR set, and colours it otherwise", () => {
    const run = (env: Record<string, string>) => {
      const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
      delete process.env.NO_COLOR;
      delete process.env.FORCE_COLOR;
      Object.assign(process.env, env);
      try {
        let out = "";
        const stream = {
          write: (s: string) => {
            out += s;
            return true;
          },
          isTTY: true,
          columns: 80,
        } as unknown as NodeJS.WritableStream;
        const r = new ConsoleReporter({ stream, tty: false });
        const report = sampleReport();
        for (const c of report.cases) r.onCaseEnd(c);
        r.onEnd(report);
        return out;
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    };
    expect(run({ NO_COLOR: "1" })).not.toContain("\x1b[");
    expect(run({})).toContain("\x1b[31m");
  });

  it("lists blocking failures before recommended ones, and ends with the verdict", () => {
    const report = sampleReport();
    report.cases.unshift(
      result("a-family/soft", "failed", "soft", { severity: "recommended", blocking: false }),
    );
    report.summary = summarize(report.cases);
    const out = formatSummary(report);
    const i = (s: string) => out.indexOf(s);
    expect(i("  reused-code/concurrent")).toBeGreaterThan(i("Failed cases:"));
    expect(i("  over-limit/y")).toBeGreaterThan(i("  reused-code/concurrent"));
    expect(i("  a-family/soft (recommended, not counted)")).toBeGreaterThan(i("  over-limit/y"));
    expect(out.trimEnd().split("\n").at(-1)).toBe("RESULT: FAIL (2 blocking failures)");
  });

  it("names the configs of each case, with per-config verdicts when they differ, and the run's protocols", () => {
    let out = "";
    const stream = {
      write: (s: string) => {
        out += s;
        return true;
      },
      isTTY: false,
    } as unknown as NodeJS.WritableStream;
    const r = new ConsoleReporter({ stream });
    const report = sampleReport();
    report.cases = [jsonOnlyFailure()];
    report.summary = summarize(report.cases);
    r.onStart({
      target: report.target,
      implementation: "x",
      total: 1,
      features: [],
      configs: report.configs,
    });
    for (const c of report.cases) r.onCaseEnd(c);
    r.onEnd(report);
    const protocols =
      "protocols: connect-http1.1-proto, connect-http1.1-json (mandatory, every case); not served: grpc-http2-proto";
    expect(out).toContain(`  features claimed: (none)\n  ${protocols}\n`);
    expect(out).toContain(
      "FAIL  malformed-input/json-only over connect-http1.1-proto passed, connect-http1.1-json FAILED (12 ms)\n      connect-http1.1-json: bad <enum>",
    );
    expect(out).toContain(
      "  malformed-input/json-only [SCAN-5, SEC-1] over connect-http1.1-proto passed, connect-http1.1-json FAILED",
    );
    expect(out).toContain(`\n${protocols}\n`);
  });

  it("fails a run that left out a mandatory config, and says so", () => {
    const report = sampleReport();
    report.cases = [report.cases[0]!];
    report.summary = summarize(report.cases);
    report.unexercisedMandatory = ["connect-http1.1-json"];
    const out = formatSummary(report);
    expect(out).toContain(
      "Not a certification run: it left out connect-http1.1-json, mandatory by [RPC-3]",
    );
    expect(out.trimEnd().split("\n").at(-1)).toBe(
      "RESULT: FAIL (mandatory protocols not exercised)",
    );
  });

  it("summarises a passing run", () => {
    const report = sampleReport();
    report.cases = [report.cases[0]!];
    report.summary = summarize(report.cases);
    report.ok = true;
    expect(formatSummary(report)).toContain("RESULT: PASS");
  });
});
