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

function testcase(c: CaseResult): string {
  const family = c.id.split("/")[0] ?? c.id;
  const props =
    `      <properties>\n` +
    c.requirements
      .map((r) => `        <property name="requirement" value="${escapeXml(r)}"/>\n`)
      .join("") +
    `        <property name="severity" value="${c.severity}"/>\n` +
    `      </properties>\n`;
  const open = `    <testcase name="${escapeXml(c.id)}" classname="paycode.${escapeXml(family)}" time="${secs(c.durationMs)}">\n${props}`;
  let body = "";
  if (c.status === "failed") {
    const detail = [c.title, c.message, ...(c.notes ?? [])].join("\n");
    const type = c.staleKnownFailing
      ? "stale-known-failing"
      : c.blocking
        ? "required"
        : "recommended";
    body = `      <failure message="${escapeXml(c.message)}" type="${type}">${escapeXml(detail)}</failure>\n`;
  } else if (c.status === "skipped") {
    body = `      <skipped message="${escapeXml(c.message)}"/>\n`;
  } else if (c.status === "known-failing") {
    body = `      <skipped message="${escapeXml(`known failing: ${c.message}`)}"/>\n`;
  }
  return `${open}${body}    </testcase>\n`;
}

/** JUnit XML: one <testsuite> per case family, as CI systems group them. */
export function toJunit(report: RunReport): string {
  const families = new Map<string, CaseResult[]>();
  for (const c of report.cases) {
    const f = c.id.split("/")[0] ?? c.id;
    const list = families.get(f) ?? [];
    list.push(c);
    families.set(f, list);
  }
  const s = report.summary;
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n`;
  xml += `<testsuites name="paycode-conformance ${escapeXml(report.suiteVersion)}" tests="${s.total}" failures="${s.failed}" skipped="${s.skipped + s.knownFailing}" errors="0" time="${secs(report.durationMs)}" timestamp="${escapeXml(report.startedAt)}">\n`;
  for (const [family, cases] of families) {
    const failures = cases.filter((c) => c.status === "failed").length;
    const skipped = cases.filter(
      (c) => c.status === "skipped" || c.status === "known-failing",
    ).length;
    const time = cases.reduce((t, c) => t + c.durationMs, 0);
    xml += `  <testsuite name="${escapeXml(family)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" errors="0" time="${secs(time)}" timestamp="${escapeXml(report.startedAt)}">\n`;
    xml += `    <properties>\n      <property name="target" value="${escapeXml(report.target)}"/>\n      <property name="implementation" value="${escapeXml(report.implementation)}"/>\n    </properties>\n`;
    for (const c of cases) xml += testcase(c);
    xml += `  </testsuite>\n`;
  }
  xml += `</testsuites>\n`;
  return xml;
}
