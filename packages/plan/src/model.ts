import type { LayerName, StackId } from "@hcp/platform";

/**
 * The plan document (`pnpm plan --json <file>`): what every stack of an environment would register,
 * as a preview of a new stack would show it. Values the cloud computes in the same stack are
 * {@link UNKNOWN}; secrets are {@link SECRET}. Consumed by `plan:diff` and kept stable.
 */

/** Format version of the document. */
export const PLAN_FORMAT = 1;

/** Shown for a secret value. */
export const SECRET = "[secret]";
/** Shown for a value the cloud computes during the deployment (unknown in a preview). */
export const UNKNOWN = "[unknown]";

/** Resource options that matter to reviewers and policies. */
export interface PlannedOptions {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  readonly deleteBeforeReplace?: boolean;
  readonly aliases: readonly unknown[];
}

/** One resource of a stack. */
export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** A component implemented by its provider; its children are created at deploy time. */
  readonly remote: boolean;
  /** Read (e.g. a stack reference), not created. */
  readonly read: boolean;
  readonly parent?: string;
  readonly provider?: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly options: PlannedOptions;
  readonly dependencies: readonly string[];
}

/**
 * A view of a stack the policy pack evaluates: `preview` (what `pulumi preview` of a new stack sees:
 * ids, ARNs and other computed values unknown; the PR truth) and `deployed` (the deployment run
 * under the mocks: those values known).
 */
export type PolicyView = "preview" | "deployed";

/** The views, in report order. */
export const POLICY_VIEWS: readonly PolicyView[] = ["preview", "deployed"];

/** A policy finding attached to a stack (filled by the policy run). */
export interface PolicyFinding {
  readonly policy: string;
  readonly level: "mandatory" | "advisory" | "remediate" | "disabled";
  readonly severity?: string;
  readonly urn?: string;
  readonly message: string;
  /**
   * `violation`: the policy reported a problem; `unevaluable`: it could not run because a value it
   * reads is unknown in the view (the pack's "can't run ... during preview" notice, always advisory).
   * Absent in documents of older plans.
   */
  readonly kind?: "violation" | "unevaluable";
  /** Views the finding was reported in (absent in documents of older plans: the preview). */
  readonly views?: readonly PolicyView[];
  /** The controls the policy implements (`HIPAA §164.312(e)(1)`), from the pack's rule catalog. */
  readonly controls?: readonly string[];
}

/** One synthesized stack. */
export interface StackPlan {
  readonly layer: LayerName;
  readonly project: string;
  readonly stack: string;
  readonly region?: string;
  /** Stacks this one reads (`project/stack`). */
  readonly reads: readonly string[];
  readonly resources: readonly PlannedResource[];
  /** Stack outputs, secrets redacted. */
  readonly exports: Readonly<Record<string, unknown>>;
  readonly secretOutputNames: readonly string[];
  /** Resource types that got generic (unstructured) mock outputs. */
  readonly genericMockTypes: readonly string[];
  readonly warnings: readonly string[];
  /** Wall time of the stack's synthesis (both views). */
  readonly durationMs: number;
  /**
   * CPU time its worker spent on the job: SDK modules the worker had not loaded yet count toward it,
   * the worker's own start-up (tsx, the Pulumi runtime) does not (absent in documents of older plans).
   */
  readonly cpuMs?: number;
  policyFindings?: PolicyFinding[];
}

/**
 * A problem that stops the plan, with where it was found: `config` (the environment definition or a
 * stack's config), `contract` (a stack reads an output its producer does not export or that does not
 * match the contract), `schema` (a Kubernetes object the plan would send does not match the upstream
 * schema of its kind), `program` (a program failed for another reason).
 */
export interface PlanError {
  readonly kind: "config" | "contract" | "schema" | "program";
  readonly stack?: string;
  readonly message: string;
}

/** The plan of one environment. */
export interface EnvironmentPlan {
  readonly environment: string;
  readonly stacks: StackPlan[];
  readonly errors: PlanError[];
  /** Layers that have no project yet and were skipped. */
  readonly layersNotBuilt: readonly LayerName[];
  /** Layers the plan was asked for (`--layers`, built or not), else every built layer; absent in older documents. */
  readonly layersSelected?: readonly LayerName[];
  /** Built layers synthesized only because a selected layer reads them. */
  readonly layersPulledIn?: readonly LayerName[];
  /** Kubernetes objects checked against their upstream schema (absent in documents of older plans). */
  readonly kubernetesObjectsValidated?: number;
}

/** The whole document. */
export interface PlanDocument {
  readonly format: typeof PLAN_FORMAT;
  readonly generatedAt: string;
  readonly environments: EnvironmentPlan[];
}

/** `project/stack`. */
export function label(id: Pick<StackId, "project" | "stack">): string {
  return `${id.project}/${id.stack}`;
}
