/**
 * Version of the case catalog. Bump the minor version when cases are added,
 * the major version when a case changes what it demands; case ids are
 * stable across minor versions so known-failing lists keep working.
 */
export const SUITE_VERSION = "1.0.0";

/**
 * The spec this suite version was written against, at a URL that does not
 * move: reports link requirement IDs here (`SPEC_URL#anchor`), so a report
 * kept as a CI artifact or mailed around still points at the right text.
 */
export const SPEC_URL = `https://github.com/paycode/paycode/blob/v${SUITE_VERSION}/spec/paycode.md`;
