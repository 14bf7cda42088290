import { mutantProof } from "../mutant-proofs.js";
import type { CaseResult, RunReport } from "../result.js";
import { SPEC_URL } from "../version.js";

/** A requirement of the spec, as the report shows it. */
export interface RequirementRef {
  /** Fragment of the spec page (without '#'). */
  anchor: string;
  /** Heading of the section holding it, e.g. "7.3.1 Scan". */
  section?: string;
  /** Its level keyword, e.g. "MUST". */
  level?: string;
  /** The requirement sentence, embedded so the report explains itself offline. */
  text?: string;
  /** Conformance class from the spec's requirement index (Issuer, Wallet, Terminal). */
  conformanceClass?: string;
}

export interface HtmlOptions {
  /**
   * The spec requirement IDs link to; default `SPEC_URL`, an absolute URL
   * of the spec at this suite version's tag, so a moved report still links.
   */
  specUrl?: string;
  /** Anchors, sections and texts from the spec parser; unknown IDs get a lower-cased anchor. */
  requirements?: ReadonlyMap<string, RequirementRef>;
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Report order: what needs attention first. */
const GROUPS: readonly { key: string; title: string; has: (c: CaseResult) => boolean }[] = [
  {
    key: "blocking",
    title: "Failed",
    has: (c) => c.status === "failed" && c.blocking !== false,
  },
  {
    key: "recommended",
    title: "Failed, recommended (not counted)",
    has: (c) => c.status === "failed" && c.blocking === false,
  },
  { key: "known-failing", title: "Known failing", has: (c) => c.status === "known-failing" },
  { key: "skipped", title: "Skipped", has: (c) => c.status === "skipped" },
  { key: "passed", title: "Passed", has: (c) => c.status === "passed" },
];

const reqDomId = (id: string) => `req-${id}`;

function specHref(id: string, o: HtmlOptions): string {
  const anchor = o.requirements?.get(id)?.anchor ?? id.toLowerCase();
  return `${o.specUrl ?? SPEC_URL}#${encodeURIComponent(anchor)}`;
}

function tooltip(ref: RequirementRef | undefined): string {
  if (!ref?.text) return ref?.section ? `§${ref.section}` : "";
  return `${ref.section ? `§${ref.section} — ` : ""}${ref.level ? `${ref.level}: ` : ""}${ref.text}`;
}

/** A requirement ID in a case row: jumps to its text in the report's own requirement list. */
function requirementLink(id: string, o: HtmlOptions): string {
  const tip = tooltip(o.requirements?.get(id));
  const title = tip ? ` title="${escapeHtml(tip)}"` : "";
  return `<a class="req" href="#${escapeHtml(reqDomId(id))}"${title}>${escapeHtml(id)}</a>`;
}

function requirementText(id: string, o: HtmlOptions): string {
  const ref = o.requirements?.get(id);
  const text = ref?.text
    ? `${ref.level ? `<b>${escapeHtml(ref.level)}</b> ` : ""}${escapeHtml(ref.text)}`
    : "<i>not in this suite's copy of the spec</i>";
  return `<li><a href="${escapeHtml(specHref(id, o))}">${escapeHtml(id)}</a> ${text}</li>`;
}

function row(c: CaseResult, group: string, o: HtmlOptions): string {
  const reqs = c.requirements.map((r) => requirementLink(r, o)).join(" ");
  const notes = c.notes?.length ? `<pre class="notes">${escapeHtml(c.notes.join("\n"))}</pre>` : "";
  const msg = c.message ? `<pre class="msg">${escapeHtml(c.message)}</pre>` : "";
  // What a failing case demands, right where it failed.
  const demands =
    c.status === "failed" || c.status === "known-failing"
      ? `<ul class="reqtext">${c.requirements.map((r) => requirementText(r, o)).join("")}</ul>`
      : "";
  const feats = c.features.length
    ? `<div class="feat">needs ${escapeHtml(c.features.join(", "))}</div>`
    : "";
  // The configs the case ran on, each with its own verdict.
  const configs = c.configs.length
    ? `<div class="configs">${c.configs
        .map(
          (x) =>
            `<span class="cfg ${x.status}" title="${escapeHtml(x.status)}${x.message ? `: ${escapeHtml(x.message)}` : ""}">${escapeHtml(x.config)}</span>`,
        )
        .join(" ")}</div>`
    : "";
  const stale = c.staleKnownFailing ? " stale" : "";
  return `<tr data-group="${group}" class="case ${c.status}${stale}" data-status="${c.status}" data-search="${escapeHtml(`${c.id} ${c.title} ${c.requirements.join(" ")} ${c.configs.map((x) => x.config).join(" ")} ${c.message}`.toLowerCase())}">
<td><span class="badge ${c.status}">${escapeHtml(c.status)}</span></td>
<td><code id="${escapeHtml(c.id)}">${escapeHtml(c.id)}</code><div class="title">${escapeHtml(c.title)}</div>${feats}${configs}</td>
<td>${reqs}</td>
<td class="${c.severity}">${c.severity}</td>
<td class="num">${c.durationMs}&nbsp;ms</td>
<td>${msg}${demands}${notes}</td>
</tr>`;
}

/**
 * For a MUST of the Issuer class: the reference mutants its cases are
 * proven to catch, or that it is a gap (covered by cases, proven by none).
 */
function proofLine(id: string, ref: RequirementRef | undefined): string {
  if (!ref?.level?.startsWith("MUST") || ref.conformanceClass !== "Issuer") return "";
  const p = mutantProof(id);
  if (p.provenBy !== undefined) {
    return `<div class="meta proof gap">Not observable by a certification run: this report cannot show it; the reference proves it with its own test (${escapeHtml(p.provenBy)})</div>`;
  }
  return p.gap === undefined
    ? `<div class="meta proof">Proven by mutant${p.mutants.length > 1 ? "s" : ""} ${p.mutants.map((m) => `<code>${escapeHtml(m)}</code>`).join(", ")}</div>`
    : `<div class="meta proof gap">Gap: no mutant proves the cases catch a break of this rule (${escapeHtml(p.gap)})</div>`;
}

/** Every requirement the report's cases name, with its text and a link to the spec. */
function requirementList(report: RunReport, o: HtmlOptions): string {
  const ids = [...new Set(report.cases.flatMap((c) => c.requirements))].sort((a, b) =>
    a.localeCompare(b, "en", { numeric: true }),
  );
  if (ids.length === 0) return "";
  const items = ids.map((id) => {
    const ref = o.requirements?.get(id);
    const where = ref?.section ? ` <span class="meta">§${escapeHtml(ref.section)}</span>` : "";
    const level = ref?.level ? ` <b>${escapeHtml(ref.level)}</b>` : "";
    const text = ref?.text ? escapeHtml(ref.text) : "<i>not in this suite's copy of the spec</i>";
    return `<dt id="${escapeHtml(reqDomId(id))}"><a href="${escapeHtml(specHref(id, o))}">${escapeHtml(id)}</a>${level}${where}</dt><dd>${text}${proofLine(id, ref)}</dd>`;
  });
  return `<section class="reqs"><h2>Requirements checked</h2>
<p class="meta">Texts from the spec this suite (${escapeHtml(report.suiteVersion)}) was written against; IDs link to <a href="${escapeHtml(o.specUrl ?? SPEC_URL)}">that spec</a>.</p>
<dl>
${items.join("\n")}
</dl></section>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{padding:20px 28px;background:#fff;border-bottom:1px solid #dde1e7}
h1{font-size:20px;margin:0 0 6px}
.meta{color:#5a6475;font-size:13px}
.verdict{display:inline-block;margin-top:10px;padding:4px 10px;border-radius:4px;font-weight:600}
.verdict.ok{background:#dff5e3;color:#17692b}.verdict.bad{background:#fde2e1;color:#a61b14}
.bar{display:flex;gap:8px;align-items:center;padding:12px 28px;flex-wrap:wrap}
.bar button{border:1px solid #c9cfd8;background:#fff;border-radius:4px;padding:5px 10px;cursor:pointer}
.bar button.on{background:#1d2330;color:#fff;border-color:#1d2330}
.bar input{padding:5px 8px;border:1px solid #c9cfd8;border-radius:4px;min-width:240px}
table{border-collapse:collapse;width:calc(100% - 56px);margin:0 28px 28px;background:#fff}
th,td{text-align:left;vertical-align:top;padding:7px 9px;border-bottom:1px solid #e7eaee}
th{background:#eef0f4;font-weight:600;position:sticky;top:0}
tr.group td{background:#f0f2f6;font-weight:600;padding-top:12px}
code{font-size:13px}.title{color:#4a5263}.feat{color:#7a8191;font-size:12px}
.badge{display:inline-block;min-width:72px;text-align:center;padding:2px 6px;border-radius:3px;font-size:12px;font-weight:600}
.badge.passed{background:#dff5e3;color:#17692b}.badge.failed{background:#fde2e1;color:#a61b14}
.badge.skipped{background:#eef0f4;color:#5a6475}.badge.known-failing{background:#f3e8fd;color:#6b2fa3}
tr.stale .badge{outline:2px solid #a61b14}
.recommended{color:#7a8191}.num{text-align:right;white-space:nowrap}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px}
pre.notes{color:#7a8191;margin-top:4px}
a.req{font-family:ui-monospace,monospace;font-size:12px;margin-right:4px;white-space:nowrap}
ul.reqtext{margin:4px 0 0;padding-left:16px;font-size:12px;color:#4a5263}
.configs{margin-top:3px}.cfg{display:inline-block;font:11px ui-monospace,monospace;padding:1px 5px;margin:1px 2px 0 0;border-radius:3px;background:#eef0f4;color:#4a5263}
.cfg.failed{background:#fde2e1;color:#a61b14}.cfg.known-failing{background:#f3e8fd;color:#6b2fa3}
table.protocols{width:auto;margin:0 0 0 0}table.protocols td,table.protocols th{padding:3px 9px;font-size:13px}
section.reqs{margin:0 28px 28px;padding:12px 16px;background:#fff}
section.reqs h2{font-size:16px;margin:0 0 6px}
.proof.gap{color:#a12a2a}
section.reqs dt{margin-top:8px;font-family:ui-monospace,monospace;font-size:12px}
section.reqs dd{margin:2px 0 0 16px}
.hidden{display:none}
`;

const JS = `
(function(){
  var filter='all', q='';
  function apply(){
    var rows=document.querySelectorAll('tr.case');
    var seen={};
    rows.forEach(function(r){
      var ok=(filter==='all'||r.dataset.status===filter||(filter==='failed'&&r.classList.contains('stale')))&&(!q||r.dataset.search.indexOf(q)>=0);
      r.classList.toggle('hidden',!ok);
      if(ok) seen[r.dataset.group]=1;
    });
    document.querySelectorAll('tr.group').forEach(function(g){g.classList.toggle('hidden',!seen[g.dataset.group]);});
  }
  document.querySelectorAll('.bar button').forEach(function(b){
    b.addEventListener('click',function(){
      filter=b.dataset.filter;
      document.querySelectorAll('.bar button').forEach(function(x){x.classList.toggle('on',x===b);});
      apply();
    });
  });
  document.getElementById('q').addEventListener('input',function(e){q=e.target.value.toLowerCase();apply();});
  if(location.hash==='#failures'){document.querySelector('button[data-filter=failed]').click();}
})();
`;

/** The configs of the run: which the target serves and which cases ran on each. */
function protocolTable(report: RunReport): string {
  const missing = report.unexercisedMandatory.length
    ? `<div class="verdict bad">Not a certification run: it left out ${escapeHtml(report.unexercisedMandatory.join(", "))}, mandatory by [RPC-3]</div><br>`
    : "";
  if (report.configs.length === 0) return missing;
  const rows = report.configs.map((c) => {
    const served = c.served
      ? "served"
      : `<b>not served</b>${c.why ? ` <span class="meta">${escapeHtml(c.why)}</span>` : ""}`;
    const cases =
      c.cases === "all" ? "every case" : c.cases === "subset" ? "optional-config subset" : "none";
    return `<tr class="${c.served ? "" : "unserved"}"><td><code>${escapeHtml(c.name)}</code></td><td>${escapeHtml(c.protocol)}</td><td>HTTP/${escapeHtml(c.httpVersion)}</td><td>${escapeHtml(c.codec)}</td><td>${c.mandatory ? "mandatory [RPC-3]" : "optional [RPC-4]"}</td><td>${served}</td><td>${cases}</td></tr>`;
  });
  return `${missing}<table class="protocols"><thead><tr><th>Config</th><th>Protocol</th><th>HTTP</th><th>Codec</th><th></th><th>Target</th><th>Cases run</th></tr></thead><tbody>
${rows.join("\n")}
</tbody></table>`;
}

/** A self-contained HTML report: inline CSS and JS, no network, filterable to failures. */
export function toHtml(report: RunReport, o: HtmlOptions = {}): string {
  const s = report.summary;
  const rows = GROUPS.map((g) => {
    const cases = report.cases.filter(g.has);
    if (cases.length === 0) return "";
    const head = `<tr class="group" data-group="${g.key}"><td colspan="6">${escapeHtml(g.title)} <span class="meta">${cases.length} case${cases.length === 1 ? "" : "s"}</span></td></tr>`;
    return [head, ...cases.map((c) => row(c, g.key, o))].join("\n");
  })
    .filter(Boolean)
    .join("\n");
  const impl = report.implementation ? ` — ${escapeHtml(report.implementation)}` : "";
  const problem = report.targetProblem
    ? `<div class="verdict bad">Target not tested: ${escapeHtml(report.targetProblem.message)}</div><br>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Paycode conformance report${impl}</title>
<style>${CSS}</style></head>
<body>
<header>
<h1>Paycode conformance report${impl}</h1>
<div class="meta">Target <code>${escapeHtml(report.target)}</code> · suite ${escapeHtml(report.suiteVersion)} · started ${escapeHtml(report.startedAt)} · ${(report.durationMs / 1000).toFixed(1)} s${report.strict ? " · strict" : ""}</div>
<div class="meta">Features claimed: ${report.features.length ? escapeHtml(report.features.join(", ")) : "(none)"}</div>
${protocolTable(report)}
${problem}<div class="verdict ${report.ok ? "ok" : "bad"}">${report.ok ? "PASS" : "FAIL"} — ${s.total} cases: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped, ${s.knownFailing} known-failing${s.staleKnownFailing ? `, ${s.staleKnownFailing} stale known-failing` : ""}${report.interrupted ? " (interrupted: partial results)" : ""}</div>
</header>
<div class="bar">
<button data-filter="all" class="on">All (${s.total})</button>
<button data-filter="failed">Failed (${s.failed})</button>
<button data-filter="passed">Passed (${s.passed})</button>
<button data-filter="skipped">Skipped (${s.skipped})</button>
<button data-filter="known-failing">Known failing (${s.knownFailing})</button>
<input id="q" type="search" placeholder="Filter by id, requirement or message">
</div>
<table>
<thead><tr><th>Status</th><th>Case</th><th>Requirements</th><th>Severity</th><th>Time</th><th>Message</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${requirementList(report, o)}
<script>${JS}</script>
</body></html>
`;
}
