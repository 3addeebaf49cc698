import { REQUIRED_TAG_KEYS } from "@hcp/platform";
import { AWS_TAGGABLE_TYPES } from "../generated/awsTaggable";
import { type Rule, resourceRule } from "../policy";
import { effectiveTag, effectiveTagKeys } from "../read";

/**
 * Tagging (DESIGN §6): every taggable AWS resource carries the standard tag set, normally through
 * its provider's `defaultTags`. `DataClassification` decides which residency rules apply, so it is
 * mandatory; the other keys are hygiene.
 */

const isTaggable = (type: string) => AWS_TAGGABLE_TYPES.has(type);

/** The values `DataClassification` may take (see `DataClassification` in @hcp/platform). */
export const DATA_CLASSIFICATIONS = ["phi", "confidential", "internal", "public"];

/** Taggable AWS resources are classified. */
export const awsDataClassificationTag = resourceRule({
  name: "aws-data-classification-tag",
  concern: "tagging",
  description:
    "Taggable AWS resources must carry DataClassification (phi, confidential, internal or public), from the provider's defaultTags or their own tags: residency rules find patient data by it.",
  remediationSteps:
    "Create the resource with a provider from ctx.aws() (its defaultTags classify it by layer) and set tags: { DataClassification: 'phi' } on resources holding patient data.",
  severity: "high",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.308(a)(1)(ii)(A)"],
    lgpd: ["Art. 37"],
    docs: [
      "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
      "https://www.pulumi.com/registry/packages/aws/api-docs/provider/#defaulttags",
    ],
  },
  evidence: { generic: ["tags.DataClassification", "provider:defaultTags.tags.DataClassification"] },
  generic: {
    scope: "taggable AWS resources",
    appliesTo: isTaggable,
    check: ({ args, report }) => {
      const value = effectiveTag(args.props, args.provider, "DataClassification");
      if (value === undefined) {
        report(
          "tag DataClassification is missing (neither on the resource nor in the provider's defaultTags).",
        );
      } else if (!DATA_CLASSIFICATIONS.includes(value)) {
        report(`tag DataClassification must be one of ${DATA_CLASSIFICATIONS.join(", ")}.`);
      }
    },
  },
});

interface RequiredTagsConfig {
  readonly requiredKeys: string[];
}

/** Taggable AWS resources carry the full standard tag set. */
export const awsRequiredTags = resourceRule<RequiredTagsConfig>({
  name: "aws-required-tags",
  concern: "tagging",
  description: `Taggable AWS resources must carry the standard tags (${REQUIRED_TAG_KEYS.join(", ")}), normally from the provider's defaultTags.`,
  remediationSteps:
    "Use a provider from ctx.aws() (awsProvider from @hcp/platform sets standardTags as defaultTags).",
  severity: "low",
  enforcementLevel: "advisory",
  controls: {
    hipaa: ["164.308(a)(1)(ii)(A)"],
    lgpd: ["Art. 37"],
    docs: [
      "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
      "https://www.pulumi.com/registry/packages/aws/api-docs/provider/#defaulttags",
    ],
  },
  evidence: { generic: ["tags", "provider:defaultTags.tags"] },
  config: {
    defaults: { requiredKeys: [...REQUIRED_TAG_KEYS] },
    schema: { requiredKeys: { type: "array", items: { type: "string", minLength: 1 }, uniqueItems: true } },
  },
  generic: {
    scope: "taggable AWS resources",
    appliesTo: isTaggable,
    check: ({ args, config, report }) => {
      const keys = effectiveTagKeys(args.props, args.provider);
      const missing = config.requiredKeys.filter((k) => !keys.has(k));
      if (missing.length > 0) {
        report(`missing tags: ${missing.join(", ")}.`);
      }
    },
  },
});

/** The rules of this concern. */
export const taggingRules: readonly Rule[] = [awsDataClassificationTag, awsRequiredTags];
