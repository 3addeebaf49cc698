import type { LayerName } from "./topology";

/**
 * The tag set of DESIGN §6. Providers apply it as `defaultTags`, so every taggable AWS resource of a
 * stack carries it; resources holding patient data override `DataClassification` to `phi`.
 */

/** How sensitive the data in a resource is. */
export type DataClassification =
  /** Protected health information (HIPAA) / sensitive personal data (LGPD Art. 11). */
  | "phi"
  /** Business-confidential: credentials, keys, audit trails. */
  | "confidential"
  /** Internal operational data: networks, clusters, metrics. */
  | "internal"
  /** Published on purpose. */
  | "public";

/** Keys every taggable AWS resource must carry. */
export const REQUIRED_TAG_KEYS = [
  "Project",
  "Environment",
  "Region",
  "Layer",
  "DataClassification",
  "Owner",
  "ManagedBy",
  "Compliance",
] as const;

/** One of {@link REQUIRED_TAG_KEYS}. */
export type RequiredTagKey = (typeof REQUIRED_TAG_KEYS)[number];

/** Value of the `Project` tag. */
export const PROJECT_TAG = "healthcare-platform";
/** Value of the `Compliance` tag (AWS tag values do not accept commas). */
export const COMPLIANCE_TAG = "HIPAA/LGPD";

/** What the tag set is computed from. */
export interface TagContext {
  readonly environment: string;
  /** Region of the stack; environment-wide resources use `global`. */
  readonly region?: string;
  readonly layer: LayerName;
  readonly owner: string;
  readonly dataClassification: DataClassification;
}

/** The full required tag set for a stack. */
export function standardTags(ctx: TagContext): Record<RequiredTagKey, string> {
  return {
    Project: PROJECT_TAG,
    Environment: ctx.environment,
    Region: ctx.region ?? "global",
    Layer: ctx.layer,
    DataClassification: ctx.dataClassification,
    Owner: ctx.owner,
    ManagedBy: "pulumi",
    Compliance: COMPLIANCE_TAG,
  };
}

/** The data classification a layer's resources default to. */
export const LAYER_DATA_CLASSIFICATION: Readonly<Record<LayerName, DataClassification>> = {
  environment: "confidential",
  network: "internal",
  cluster: "internal",
  data: "phi",
  dr: "phi",
  workloads: "phi",
  edge: "internal",
  observability: "confidential",
};
