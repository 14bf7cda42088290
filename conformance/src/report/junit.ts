import type { CaseResult, RunReport } from "../result.js";

/** Escapes text for XML 1.0 content and attributes; drops characters XML cannot carry. */
export function escapeXml(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** One <testcase> per case and config: `id@config`, as connectrpc/conformance names them. */
interface JunitCase {
  readonly c: CaseResult;
  readonly name: string;
  readonly config?: string;
  readonly status: CaseResult["status"];
  readonly durationMs: number;
  readonly message: string;
  readonly notes: readonly string[];
  readonly staleKnownFailing: boolean;
}

function junitCases(c: CaseResult): JunitCase[] {
  // A skipped case ran on no config: one testcase under its plain id.
  if (c.configs.length === 0) {
    return [
      {
        c,
        name: c.id,
        status: c.status,
        durationMs: c.durationMs,
        message: c.message,
        notes: c.notes ?? [],
        staleKnownFailing: c.staleKnownFailing ?? false,
      },
    ];
  }
  return c.configs.map((x) => ({
    c,
    name: `${c.id}@${x.config}`,
    config: x.config,
    status: x.status,
    durationMs: x.durationMs,
    message: x.message,
    notes: x.notes ?? [],
    staleKnownFailing: x.staleKnownFailing ?? false,
  }));
}

/** "connect-http1.1-json" → protocol, HTTP version and codec properties. */
function configProperties(config: string | undefined): string {
  if (config === undefined) return "";
  const m = /^(.+)-http(1\.1|2)-(\w+)$/.exec(config);
  const prop = (name: string, value: string) =>
    `        <property name="${name}" value="${escapeXml(value)}"/>\n`;
  return (
    prop("config", config) +
    (m ? prop("protocol", m[1]!) + prop("httpVersion", m[2]!) + prop("codec", m[3]!) : "")
  );
}

function testcase(t: JunitCase): string {
  const { c } = t;
  const family = c.id.split("/")[0] ?? c.id;
  const props =
    `      <properties>\n` +
    c.requirements
      .map((r) => `        <property name="requirement" value="${escapeXml(r)}"/>\n`)
      .join("") +
    `        <property name="severity" value="${c.severity}"/>\n` +
    configProperties(t.config) +
    `      </properties>\n`;
  const open = `    <testcase name="${escapeXml(t.name)}" classname="paycode.${escapeXml(family)}" time="${secs(t.durationMs)}">\n${props}`;
  let body = "";
  if (t.status === "failed") {
    const detail = [c.title, t.message, ...t.notes].join("\n");
    const type = t.staleKnownFailing
      ? "stale-known-failing"
      : c.blocking
        ? "required"
        : "recommended";
    body = `      <failure message="${escapeXml(t.message)}" type="${type}">${escapeXml(detail)}</failure>\n`;
  } else if (t.status === "skipped") {
    body = `      <skipped message="${escapeXml(t.message)}"/>\n`;
  } else if (t.status === "known-failing") {
    body = `      <skipped message="${escapeXml(`known failing: ${t.message}`)}"/>\n`;
  }
  return `${open}${body}    </testcase>\n`;
}

/**
 * JUnit XML: one <testsuite> per case family, as CI systems group them,
 * and one <testcase> per case and config (`id@config`, with protocol,
 * HTTP version and codec as properties).
 */
export function toJunit(report: RunReport): string {
  const families = new Map<string, JunitCase[]>();
  for (const c of report.cases) {
    const f = c.id.split("/")[0] ?? c.id;
    const list = families.get(f) ?? [];
    list.push(...junitCases(c));
    families.set(f, list);
  }
  const all = [...families.values()].flat();
  const count = (list: readonly JunitCase[], ...statuses: CaseResult["status"][]) =>
    list.filter((t) => statuses.includes(t.status)).length;
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n`;
  xml += `<testsuites name="paycode-conformance ${escapeXml(report.suiteVersion)}" tests="${all.length}" failures="${count(all, "failed")}" skipped="${count(all, "skipped", "known-failing")}" errors="0" time="${secs(report.durationMs)}" timestamp="${escapeXml(report.startedAt)}">\n`;
  for (const [family, cases] of families) {
    const failures = count(cases, "failed");
    const skipped = count(cases, "skipped", "known-failing");
    const time = cases.reduce((t, c) => t + c.durationMs, 0);
    xml += `  <testsuite name="${escapeXml(family)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" errors="0" time="${secs(time)}" timestamp="${escapeXml(report.startedAt)}">\n`;
    xml += `    <properties>\n      <property name="target" value="${escapeXml(report.target)}"/>\n      <property name="implementation" value="${escapeXml(report.implementation)}"/>\n    </properties>\n`;
    for (const c of cases) xml += testcase(c);
    xml += `  </testsuite>\n`;
  }
  xml += `</testsuites>\n`;
  return xml;
}
