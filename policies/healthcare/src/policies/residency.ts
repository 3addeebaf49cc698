import { REGION_NAMES, regionInfo } from "@hcp/platform";
import type { PolicyProviderResource, PolicyResource } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { BUCKET_TYPES, referencedBuckets } from "../buckets";
import { type Rule, resourceRule, stackRule } from "../policy";
import { holdsPhi, resourceRegion } from "../read";
import type { ArgsOf } from "../types";

/**
 * Residency (LGPD Art. 33): patient data stays in the allowed regions, and a copy in a region of
 * another country than the home country needs a documented legal basis for that country. A resource
 * holds PHI when it (or its provider's `defaultTags`) carries `DataClassification=phi`.
 */

export interface ResidencyConfig {
  /** ISO 3166-1 alpha-2 country whose law governs the data. */
  readonly homeCountry: string;
  /** Regions that may hold PHI. */
  readonly allowedRegions: string[];
  /** Countries outside the home country with a documented transfer basis (Art. 33). */
  readonly transferBasisCountries: string[];
}

const country: PolicyConfigJSONSchema = { type: "string", pattern: "^[A-Z]{2}$" };

const residencySchema = {
  homeCountry: {
    ...country,
    description: "ISO 3166-1 alpha-2 code of the country whose law governs patient data.",
  },
  allowedRegions: {
    type: "array",
    items: { type: "string", enum: [...REGION_NAMES] },
    minItems: 1,
    uniqueItems: true,
    description: "AWS regions that may hold PHI.",
  },
  transferBasisCountries: {
    type: "array",
    items: country,
    uniqueItems: true,
    description:
      "Countries outside homeCountry for which the environment documents an LGPD Art. 33 transfer basis.",
  },
} satisfies Record<keyof ResidencyConfig, PolicyConfigJSONSchema>;

/** Brazilian patient data stays in Brazil unless an environment documents a transfer. */
const residencyDefaults: ResidencyConfig = {
  homeCountry: "BR",
  allowedRegions: ["sa-east-1"],
  transferBasisCountries: [],
};

const isAws = (type: string) => type.startsWith("aws:");

function regionOf(props: Readonly<Record<string, unknown>>, provider: PolicyProviderResource | undefined) {
  return resourceRegion(props, provider);
}

/** PHI resources are only created in allowed regions. */
export const phiAllowedRegions = resourceRule<ResidencyConfig>({
  name: "phi-allowed-regions",
  concern: "residency",
  description:
    "Resources holding PHI (tag DataClassification=phi, directly or through the provider's defaultTags) may only be created in the environment's allowed regions (residency.allowedRegions), through an explicit AWS provider whose region is known.",
  remediationSteps:
    "Create the resource with the regional provider of an allowed region (ctx.aws(region)), or add the region to residency.allowedRegions in Pulumi.<env>.yaml after a legal review.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: [],
    lgpd: ["Art. 33"],
    docs: ["https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html"],
  },
  evidence: {
    generic: [
      "region",
      "tags.DataClassification",
      "provider:region",
      "provider:defaultTags.tags.DataClassification",
    ],
  },
  config: { defaults: residencyDefaults, schema: residencySchema },
  generic: {
    scope: "AWS resources tagged DataClassification=phi",
    appliesTo: isAws,
    check: ({ args, config, report }) => {
      if (!holdsPhi(args.props, args.provider)) {
        args.notApplicable("does not hold PHI");
      }
      const region = regionOf(args.props, args.provider);
      if (region === undefined) {
        report("the resource's region cannot be determined: give it an explicit AWS provider with a region.");
      } else if (!config.allowedRegions.includes(region)) {
        report(`region ${region} is not an allowed region for PHI (${config.allowedRegions.join(", ")}).`);
      }
    },
  },
});

function transferProblem(region: string, cfg: ResidencyConfig): string | undefined {
  const info = regionInfo(region);
  if (!info) {
    return `region ${region} is unknown, so its country cannot be checked.`;
  }
  if (info.country === cfg.homeCountry || cfg.transferBasisCountries.includes(info.country)) {
    return undefined;
  }
  return `region ${region} is in ${info.country}, outside ${cfg.homeCountry}, and no transfer basis is configured for ${info.country} (LGPD Art. 33).`;
}

/** PHI resources outside the home country need a transfer basis for that country. */
export const phiInternationalTransfer = resourceRule<ResidencyConfig>({
  name: "phi-international-transfer",
  concern: "residency",
  description:
    "A resource holding PHI in a region of another country than residency.homeCountry is an international transfer (LGPD Art. 33): the environment must document a transfer basis for that country (residency.internationalTransfers).",
  remediationSteps:
    "Add an internationalTransfers entry { destinationCountry, basis, reference } for the country to Pulumi.<env>.yaml (it flows into the policy config through policyConfigFor), or keep the data in the home country.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: [],
    lgpd: ["Art. 33"],
    docs: ["https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html"],
  },
  evidence: {
    generic: [
      "region",
      "tags.DataClassification",
      "provider:region",
      "provider:defaultTags.tags.DataClassification",
    ],
  },
  config: { defaults: residencyDefaults, schema: residencySchema },
  generic: {
    scope: "AWS resources tagged DataClassification=phi",
    appliesTo: isAws,
    check: ({ args, config, report }) => {
      if (!holdsPhi(args.props, args.provider)) {
        args.notApplicable("does not hold PHI");
      }
      const region = regionOf(args.props, args.provider);
      if (region === undefined) {
        report("the resource's region cannot be determined: give it an explicit AWS provider with a region.");
        return;
      }
      const problem = transferProblem(region, config);
      if (problem) {
        report(problem);
      }
    },
  },
});

/** `repoN-s3-region=<region>` settings of a rendered pgbackrest.conf. */
export function pgbackrestRepoRegions(text: string): Array<{ repo: string; region: string }> {
  const out: Array<{ repo: string; region: string }> = [];
  for (const raw of text.split("\n")) {
    const m = /^\s*(?:--)?(repo\d+)-s3-region\s*=\s*([a-z0-9-]+)\s*$/.exec(raw);
    if (m) {
      out.push({ repo: m[1], region: m[2] });
    }
  }
  return out;
}

function regionOfResource(r: PolicyResource): string | undefined {
  return resourceRegion(r.props, r.provider);
}

/** Copies of PHI (bucket replication, pgBackRest repositories) to another country need a transfer basis. */
export const phiCrossBorderCopy = stackRule<ResidencyConfig>({
  name: "phi-cross-border-copy",
  concern: "residency",
  description:
    "Replication or backup copies of PHI to a region of another country (S3 replication rules from a PHI bucket, pgBackRest repositories rendered into ConfigMaps/Secrets) need a transfer basis for that country (LGPD Art. 33), and the destination must be an allowed region.",
  remediationSteps:
    "Document the transfer in residency.internationalTransfers of Pulumi.<env>.yaml and list the region in residency.allowedRegions, or replicate within the home country.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: [],
    lgpd: ["Art. 33"],
    docs: [
      "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html",
      "https://pgbackrest.org/configuration.html#section-repository/option-repo-s3-region",
    ],
  },
  evidence: {
    properties: {
      "aws:s3/bucketReplicationConfig:BucketReplicationConfig": ["bucket", "rules[].destination.bucket"],
      "kubernetes:core/v1:ConfigMap": ["data"],
      "kubernetes:core/v1:Secret": ["stringData"],
    },
  },
  config: { defaults: residencyDefaults, schema: residencySchema },
  examines: [
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
  ],
  validate: (ctx) => {
    const cfg = ctx.config;
    const buckets = ctx.ofType(...BUCKET_TYPES);
    const checkDestination = (region: string | undefined, what: string, urn: string) => {
      if (region === undefined) {
        ctx.report(`${what}: the destination region cannot be determined.`, urn);
        return;
      }
      if (!cfg.allowedRegions.includes(region)) {
        ctx.report(`${what}: region ${region} is not an allowed region for PHI.`, urn);
      }
      const problem = transferProblem(region, cfg);
      if (problem) {
        ctx.report(`${what}: ${problem}`, urn);
      }
    };
    for (const replication of ctx.ofType("aws:s3/bucketReplicationConfig:BucketReplicationConfig")) {
      ctx.each(() => {
        const sources = referencedBuckets(buckets, replication.resource, "bucket");
        const phiSource =
          sources.some((b) => holdsPhi(b.resource.props, b.resource.provider)) ||
          holdsPhi(replication.resource.props, replication.resource.provider);
        if (!phiSource) {
          return;
        }
        // Destinations: buckets the rules depend on (known in a preview), else whose ARN they name.
        const byDependency = referencedBuckets(buckets, replication.resource, "rules").filter(
          (b) => !sources.includes(b),
        );
        const byArn = () => {
          const arns: unknown[] = (replication.props.rules ?? []).map((rule) => rule.destination.bucket);
          return buckets.filter((b) => arns.includes((b.props as { arn?: unknown }).arn));
        };
        const targets = byDependency.length > 0 ? byDependency : byArn();
        const what = `Replication '${replication.resource.name}'`;
        if (targets.length === 0) {
          ctx.report(
            `${what} copies PHI to a bucket outside this stack; its region cannot be checked.`,
            replication.resource.urn,
          );
        }
        for (const target of targets) {
          checkDestination(
            regionOfResource(target.resource),
            `${what} to bucket '${target.resource.name}'`,
            replication.resource.urn,
          );
        }
      });
    }
    for (const holder of ctx.ofType("kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret")) {
      ctx.each(() => {
        const props = holder.props as ArgsOf<"kubernetes:core/v1:ConfigMap"> &
          ArgsOf<"kubernetes:core/v1:Secret">;
        const data = { ...(props.data ?? {}), ...(props.stringData ?? {}) } as Record<string, unknown>;
        for (const key of Object.keys(data)) {
          const text =
            holder.resource.type === "kubernetes:core/v1:Secret" && key in (props.data ?? {})
              ? undefined
              : data[key];
          if (typeof text !== "string") {
            continue;
          }
          for (const repo of pgbackrestRepoRegions(text)) {
            checkDestination(
              repo.region,
              `pgBackRest ${repo.repo} in '${holder.resource.name}' ['${key}']`,
              holder.resource.urn,
            );
          }
        }
      });
    }
  },
});

/** The rules of this concern. */
export const residencyRules: readonly Rule[] = [
  phiAllowedRegions,
  phiInternationalTransfer,
  phiCrossBorderCopy,
];
