/**
 * The certification suite for Paycode issuers. Most users run the
 * `paycode-conformance` command; this barrel is for programs that drive the
 * suite themselves.
 *
 * @module @paycode/conformance
 */

export type { Case, Feature, HttpVersion, Protocol, Severity } from "./case.js";
// Running the suite and reading its verdicts.
export { allCases, FAMILIES } from "./cases/index.js";
export { matchesAny, matchesGlob } from "./glob.js";
export {
  type KnownFailingEntry,
  listsCase,
  parseKnownFailing,
  readKnownFailing,
} from "./known-failing.js";
export {
  type MutantCoverage,
  mutantCoverage,
  type RequirementProof,
} from "./mutant-coverage.js";
// For implementers of the reference and its mutants: the kill matrix and
// the requirement index of the spec this suite was written against.
export { type MutantProof, mutantProof } from "./mutant-proofs.js";
export {
  casesFor,
  formatMatrix,
  type MutantCaseSelection,
  type MutantMatrix,
  type MutantMatrixOptions,
  type MutantRun,
  type MutantSpec,
  type MutantTarget,
  runMutantMatrix,
} from "./mutants.js";
export {
  invalidTargetReason,
  type ProbeOptions,
  type ProbeResult,
  probeTarget,
  TARGET_PROBLEM_EXIT_CODES,
  type TargetProblem,
  type TargetProblemKind,
} from "./probe.js";
export { REFERENCE_MUTANT_GAPS, REFERENCE_MUTANTS } from "./reference-mutants.js";
export * from "./report/index.js";
export type {
  CaseResult,
  CaseStatus,
  ConfigOutcome,
  ConfigReport,
  RunReport,
  RunSummary,
} from "./result.js";
export {
  ALL_CONFIGS,
  CONFIG_SELECTIONS,
  type Codec,
  type ConfigSelection,
  configLabel,
  configName,
  MANDATORY_CONFIGS,
  OPTIONAL_CONFIG_CASES,
  OPTIONAL_CONFIGS,
  PRIMARY_CONFIG,
  type RunConfig,
} from "./run-config.js";
export {
  CONFIG_PROBE_TIMEOUT_MS,
  DEFAULT_PARALLEL,
  DEFAULT_TIMEOUT_MS,
  PROBE_TIMEOUT_MS,
  PROTOCOL_CHECK_FAMILY,
  planConfigs,
  type RunListener,
  type RunOptions,
  runSuite,
  selectCases,
} from "./runner.js";
export {
  type ConformanceClass,
  parseRequirementIndex,
  parseRequirements,
  type Requirement,
  type RequirementIndexEntry,
  type RequirementLevel,
} from "./spec/requirements.js";
export {
  type Coverage,
  coverage,
  loadSpecRequirements,
  requirementRefs,
  SPEC_PATH,
  type SpecRequirement,
  specRequirements,
} from "./spec-index.js";
export { defaultHttpVersion } from "./transport.js";
export { SPEC_URL, SUITE_VERSION } from "./version.js";
