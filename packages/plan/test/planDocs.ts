import type { LayerName } from "@hcp/platform";
import {
  PLAN_FORMAT,
  type PlanDocument,
  type PlannedOptions,
  type PlannedResource,
  type PolicyFinding,
  type StackPlan,
} from "../src/model";

/** Builders of plan documents for the diff tests. */

const OPTIONS: PlannedOptions = {
  protect: false,
  retainOnDelete: false,
  ignoreChanges: [],
  replaceOnChanges: [],
  additionalSecretOutputs: [],
  aliases: [],
};

/** A URN of a stack's resource. */
export function urn(stack: string, project: string, type: string, name: string): string {
  return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

/** A planned custom resource. */
export function resource(
  stack: string,
  project: string,
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  options: Partial<PlannedOptions> = {},
): PlannedResource {
  return {
    urn: urn(stack, project, type, name),
    type,
    name,
    custom: true,
    remote: false,
    read: false,
    provider: `${urn(stack, project, "pulumi:providers:aws", "aws")}::id`,
    inputs,
    options: { ...OPTIONS, ...options },
    dependencies: [],
  };
}

/** A stack plan; the stack resource is added. */
export function stackPlan(
  layer: LayerName,
  project: string,
  stack: string,
  resources: PlannedResource[],
  policyFindings: PolicyFinding[] = [],
  exports: Record<string, unknown> = {},
): StackPlan {
  const root: PlannedResource = {
    urn: urn(stack, project, "pulumi:pulumi:Stack", `${project}-${stack}`),
    type: "pulumi:pulumi:Stack",
    name: `${project}-${stack}`,
    custom: false,
    remote: false,
    read: false,
    inputs: {},
    options: OPTIONS,
    dependencies: [],
  };
  return {
    layer,
    project,
    stack,
    reads: [],
    resources: [root, ...resources],
    exports,
    secretOutputNames: [],
    genericMockTypes: [],
    warnings: [],
    durationMs: 1,
    policyFindings,
  };
}

/** A document with one environment. */
export function planDocument(environment: string, stacks: StackPlan[]): PlanDocument {
  return {
    format: PLAN_FORMAT,
    generatedAt: "2026-01-01T00:00:00.000Z",
    environments: [{ environment, stacks, errors: [], layersNotBuilt: [] }],
  };
}
