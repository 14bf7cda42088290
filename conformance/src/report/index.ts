export {
  type ConsoleOptions,
  ConsoleReporter,
  colorEnabled,
  formatSummary,
} from "./console.js";
export { escapeHtml, type HtmlOptions, type RequirementRef, toHtml } from "./html.js";
export { JsonFileReporter, toJson, writeAtomic } from "./json.js";
export { escapeXml, toJunit } from "./junit.js";
