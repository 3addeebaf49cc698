/**
 * The pack as a library, without starting the analyzer: rules, registry, config. Importing this
 * never constructs a `PolicyPack` (only src/index.ts does, once per process).
 */
export {
  analyzerConfig,
  type AnalyzerPolicyConfig,
  defaultPolicyConfig,
  type EnforcementLevelName,
  policyConfigFor,
  type PolicyPackConfigJson,
} from "./config";
export { missingControlMetadata, ruleCatalog, type RuleCatalogEntry } from "./catalog";
export {
  ALL_CONTROLS,
  type Control,
  controlsOf,
  HIPAA_SECTIONS,
  type HipaaSectionId,
  LGPD_ARTICLES,
  type LgpdArticleId,
  type RuleControls,
} from "./controls";
export { examinedTypes } from "./policies/coverage";
export { CHECK_RULES, PACK_NAME, packArgs, RULES } from "./pack";
export { CONCERNS, type Concern, type Rule, type RuleEvidence } from "./policy";
export { CUSTOM_RESOURCE_TOKENS, TYPE_TOKENS, type ArgsOf, type StateOf, type TypeToken } from "./types";
export { COVERAGE_WAIVERS, type CoverageWaiver } from "./waivers";
