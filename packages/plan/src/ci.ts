import {
  ciConnectionName as ciConnectionNameOf,
  ciRunnerProjectName,
  deployOrder,
  type EnvironmentTopology,
  LAYER_SPECS,
  LAYERS,
  type LayerName,
  primaryRegion,
  type StackId,
  stackId,
  stackLabel,
  stacksOf,
  upstreamStacks,
} from "@hcp/platform";
import { dependentsOf, type PackageGraph, packageOf } from "./workspace";

/**
 * What the CI workflows need from the topology: which stacks a change affects (the preview matrix),
 * the order stacks are deployed in (the deploy job), and how to reach each environment's state. The
 * layer graph lives in `@hcp/platform`; nothing here repeats it.
 */

/** A stack as a workflow job sees it. */
export interface CiStack {
  readonly environment: string;
  readonly layer: LayerName;
  readonly project: string;
  readonly stack: string;
  /** `project/stack`. */
  readonly label: string;
  /** Region of a regional stack, else "". */
  readonly region: string;
  /** Directory of the layer's Pulumi project, relative to the repository root. */
  readonly workDir: string;
  /** Region for AWS credentials (the stack's region, or the primary region). */
  readonly awsRegion: string;
  /** The stack name to pass to the Pulumi CLI for the environment's backend. */
  readonly stackName: string;
  /** Backend URL for `pulumi login` ("" = Pulumi Cloud). */
  readonly backendUrl: string;
  /** `--secrets-provider` for a new stack ("" = the backend's default). */
  readonly secretsProvider: string;
  /** Repository variable holding the ARN of the environment's CI preview role. */
  readonly previewRoleVariable: string;
  /** What deploying the stack must reach (`LayerSpec.reaches` of `@hcp/platform`). */
  readonly reaches: "aws" | "kubernetes";
  /**
   * CodeBuild project of the in-VPC runners that can reach the stack's cluster ("" = a
   * GitHub-hosted runner will do). The job's label is `codebuild-<project>-<run id>-<attempt>`.
   */
  readonly runnerProject: string;
  /**
   * Whether the preview refreshes first (`pulumi preview --refresh`, drift shown). On for stacks that
   * reach AWS only; off for Kubernetes stacks, whose refresh would read Secrets and RBAC objects the
   * preview role's `AmazonEKSViewPolicy` deliberately withholds (docs/ci.md, "Drift in previews").
   */
  readonly refresh: boolean;
}

/**
 * The runner project a stack's job runs on: its region's in-VPC runners when the layer reaches the
 * (private) Kubernetes API, else none (a GitHub-hosted runner).
 */
export function runnerProjectOf(id: StackId): string {
  if (LAYER_SPECS[id.layer].reaches === "aws") {
    return "";
  }
  if (id.region === undefined) {
    throw new Error(
      `${stackLabel(id)}: the ${id.layer} layer reaches Kubernetes but runs once per environment; ` +
        `a Kubernetes layer must be regional (its cluster is). Fix its LayerSpec in @hcp/platform.`,
    );
  }
  return ciRunnerProjectName(id.environment, id.region);
}

/** Repository directory of a layer's project. */
export function workDirOf(layer: LayerName): string {
  return layer === "environment" ? "." : `packages/${layer}`;
}

/** `AWS_PREVIEW_ROLE_ARN_<ENV>`: the repository variable with an environment's preview role ARN. */
export function previewRoleVariable(environment: string): string {
  return `AWS_PREVIEW_ROLE_ARN_${environment.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** How the workflows reach an environment's state. */
export interface Backend {
  readonly backendUrl: string;
  readonly secretsProvider: string;
  readonly stackName: (id: StackId) => string;
}

/**
 * The backend of an environment. The S3 state bucket and the KMS key of the `awskms` secrets
 * provider are addressed in the primary region (where the environment's state is bootstrapped).
 */
export function backendOf(topology: EnvironmentTopology): Backend {
  const state = topology.access.stateBackend;
  const region = primaryRegion(topology).name;
  // Fully qualified names: stacks of different projects share names (production-sa-east-1), and
  // per-stack PR comments are told apart by stack name.
  if (state.type === "s3") {
    return {
      backendUrl: `s3://${state.bucket}?region=${region}`,
      secretsProvider: `awskms://${state.kmsKeyAlias}?region=${region}`,
      stackName: (id) => `organization/${id.project}/${id.stack}`,
    };
  }
  return {
    backendUrl: "",
    secretsProvider: "",
    stackName: (id) => `${state.organization}/${id.project}/${id.stack}`,
  };
}

/** A stack with everything a job needs. */
export function ciStack(topology: EnvironmentTopology, id: StackId): CiStack {
  const backend = backendOf(topology);
  return {
    environment: topology.name,
    layer: id.layer,
    project: id.project,
    stack: id.stack,
    label: stackLabel(id),
    region: id.region ?? "",
    workDir: workDirOf(id.layer),
    awsRegion: id.region ?? primaryRegion(topology).name,
    stackName: backend.stackName(id),
    backendUrl: backend.backendUrl,
    secretsProvider: backend.secretsProvider,
    previewRoleVariable: previewRoleVariable(topology.name),
    reaches: LAYER_SPECS[id.layer].reaches,
    runnerProject: runnerProjectOf(id),
    refresh: LAYER_SPECS[id.layer].reaches === "aws",
  };
}

/** What a changed path affects. */
export type PathImpact =
  | { readonly kind: "none" }
  | { readonly kind: "all"; readonly why?: string }
  | { readonly kind: "environment"; readonly environment: string }
  | {
      readonly kind: "layers";
      /** Each affected layer, with why (the package on the way), "" when it is the layer's own code. */
      readonly layers: ReadonlyMap<LayerName, string>;
    }
  | { readonly kind: "stack"; readonly layer: LayerName; readonly stack: string };

/** Paths that never change what is deployed: docs, tests, CI, editor and lint settings. */
const NO_IMPACT = [
  /^docs\//,
  /^\.github\//,
  /^\.ci\//,
  /(^|\/)test\//,
  /\.md$/,
  /^(LICENSE|\.gitignore|\.prettierrc\.json|\.prettierignore|eslint\.config\.mjs|\.editorconfig)$/,
];

/** Root files every program depends on: dependencies, the workspace, the root project, compiler settings. */
const EVERYTHING = [
  /^(package\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml|Pulumi\.yaml|\.npmrc|\.nvmrc)$/,
  /^tsconfig[^/]*\.json$/,
];

/**
 * Classifies one changed path (relative to the repository root). A path inside a workspace package
 * affects every layer whose program's package depends on that package (transitively, through
 * `dependencies` in package.json); a policy pack, or a package a pack depends on, affects every
 * stack (every preview runs the pack). A package no layer and no pack depends on (the plan tooling,
 * the test library, benchmarks) affects none.
 */
export function impactOf(file: string, graph: PackageGraph): PathImpact {
  const path = file.replace(/^\.\//, "").trim();
  if (NO_IMPACT.some((re) => re.test(path))) {
    return { kind: "none" };
  }
  if (EVERYTHING.some((re) => re.test(path))) {
    return { kind: "all" };
  }
  const env = /^Pulumi\.([^./]+)\.yaml$/.exec(path);
  if (env) {
    return { kind: "environment", environment: env[1] };
  }
  const m = /^packages\/([^/]+)\/(Pulumi\.([^/]+)\.yaml)$/.exec(path);
  if (m && (LAYERS as readonly string[]).includes(m[1])) {
    return { kind: "stack", layer: m[1] as LayerName, stack: m[3] };
  }
  const owner = packageOf(graph, path);
  if (owner) {
    const dependents = dependentsOf(graph, owner.name);
    const pack = graph.packages.find((p) => p.policyPack && dependents.has(p.name));
    if (pack) {
      return {
        kind: "all",
        why:
          pack.name === owner.name
            ? `${pack.name}, the policy pack every preview runs`
            : `${owner.name}, used by the policy pack ${pack.name}`,
      };
    }
    const layers = new Map<LayerName, string>();
    for (const [layer, pkg] of graph.layerPackages) {
      const via = dependents.get(pkg);
      if (via !== undefined) {
        layers.set(layer, pkg === owner.name ? "" : `${owner.name}, which ${pkg} depends on`);
      }
    }
    return layers.size > 0 ? { kind: "layers", layers } : { kind: "none" };
  }
  // A layer whose package does not exist yet: its directory is still its code.
  const dir = /^packages\/([^/]+)\//.exec(path);
  if (dir && (LAYERS as readonly string[]).includes(dir[1])) {
    return { kind: "layers", layers: new Map([[dir[1] as LayerName, ""]]) };
  }
  // Anything unrecognized may be loaded by a program: preview everything rather than miss a change.
  return { kind: "all" };
}

/** An affected stack and why. */
export interface Affected {
  readonly id: StackId;
  /** The changed path that affects it (and the package on the way), or the upstream stack it reads. */
  readonly reason: string;
}

/** Options of {@link affectedStacks}. */
export interface AffectedOptions {
  /** The workspace's packages ({@link readPackageGraph}). */
  readonly graph: PackageGraph;
  /** Layers that have a project (only their stacks are listed). @default - every layer */
  readonly builtLayers?: readonly LayerName[];
}

/**
 * The stacks of an environment that a set of changed paths affects: the stacks whose own code,
 * a package their code depends on, or their config changed, and transitively every stack that reads
 * one of them (its stack references may see different outputs). In deploy order; only layers in
 * `builtLayers` (projects that exist).
 */
export function affectedStacks(
  changedFiles: readonly string[],
  topology: EnvironmentTopology,
  options: AffectedOptions,
): Affected[] {
  const stacks = stacksOf(topology);
  const reasons = new Map<string, string>();
  const seed = (id: StackId, reason: string) => {
    if (!reasons.has(stackLabel(id))) {
      reasons.set(stackLabel(id), reason);
    }
  };
  for (const file of changedFiles.map((f) => f.trim()).filter((f) => f !== "")) {
    const impact = impactOf(file, options.graph);
    for (const id of stacks) {
      if (impact.kind === "all" || (impact.kind === "environment" && impact.environment === topology.name)) {
        seed(id, impact.kind === "all" && impact.why ? `${file} (${impact.why})` : file);
      } else if (impact.kind === "layers" && impact.layers.has(id.layer)) {
        const via = impact.layers.get(id.layer);
        seed(id, via ? `${file} (${via})` : file);
      } else if (impact.kind === "stack" && impact.layer === id.layer && impact.stack === id.stack) {
        seed(id, file);
      }
    }
  }
  // stacksOf is in deploy order, so every upstream is decided before its consumers.
  for (const id of stacks) {
    const upstream = upstreamStacks(topology, id).find((u) => reasons.has(stackLabel(u)));
    if (upstream) {
      seed(id, `reads ${stackLabel(upstream)}`);
    }
  }
  const built = new Set(options.builtLayers ?? LAYERS);
  return stacks
    .filter((id) => reasons.has(stackLabel(id)) && built.has(id.layer))
    .map((id) => ({ id, reason: reasons.get(stackLabel(id))! }));
}

/** One layer of an environment's deploy plan. */
export interface DeployLayer {
  readonly layer: LayerName;
  /** False when the layer has no project yet (nothing to deploy). */
  readonly built: boolean;
  readonly stacks: readonly CiStack[];
}

/** The ordered deployment of an environment. */
export interface DeployPlan {
  readonly environment: string;
  readonly tier: EnvironmentTopology["tier"];
  /** The GitHub environment the deploy role trusts (`access.github.deployEnvironment`). */
  readonly githubEnvironment: string;
  readonly backendUrl: string;
  readonly secretsProvider: string;
  /** Region for AWS credentials of the deploy job (the primary region). */
  readonly awsRegion: string;
  /** Every layer in dependency order (a layer after every layer it reads). */
  readonly layers: readonly DeployLayer[];
}

/** The deploy plan of an environment, from `deployOrder()` and `stacksOf()`. */
export function deployPlan(
  topology: EnvironmentTopology,
  builtLayers: readonly LayerName[] = LAYERS,
): DeployPlan {
  const backend = backendOf(topology);
  const built = new Set(builtLayers);
  return {
    environment: topology.name,
    tier: topology.tier,
    githubEnvironment: topology.access.github.deployEnvironment,
    backendUrl: backend.backendUrl,
    secretsProvider: backend.secretsProvider,
    awsRegion: primaryRegion(topology).name,
    layers: deployOrder().map((layer) => ({
      layer,
      built: built.has(layer),
      stacks: built.has(layer) ? stacksOf(topology, [layer]).map((id) => ciStack(topology, id)) : [],
    })),
  };
}

/** An environment as the deploy workflow calls it. */
export interface DeployTarget {
  readonly environment: string;
  /** The GitHub environment its deploy jobs run in (the one its deploy role trusts). */
  readonly githubEnvironment: string;
}

/**
 * The environments the deploy workflow deploys, by tier: every non-production environment first,
 * then the production ones (each in its own job; `deploy.yml` runs them as two matrices).
 */
export function deployTargets(topologies: readonly EnvironmentTopology[]): {
  readonly nonproduction: readonly DeployTarget[];
  readonly production: readonly DeployTarget[];
} {
  const target = (t: EnvironmentTopology): DeployTarget => ({
    environment: t.name,
    githubEnvironment: t.access.github.deployEnvironment,
  });
  const sorted = [...topologies].sort((a, b) => a.name.localeCompare(b.name));
  return {
    nonproduction: sorted.filter((t) => t.tier !== "production").map(target),
    production: sorted.filter((t) => t.tier === "production").map(target),
  };
}

/**
 * What GitHub and AWS need, beyond the code, before the workflows can preview and deploy an
 * environment (`pnpm -s plan ci-setup --env <name>`; docs/ci.md, Setup): names derived from the
 * environment definition, values from the environment stack's outputs.
 */
export function ciSetupChecklist(topology: EnvironmentTopology): string[] {
  const github = topology.access.github;
  const env = topology.name;
  const approval = approvalEnvironmentOf(github.deployEnvironment);
  const repo = `${github.owner}/${github.repository}`;
  const root = stackLabel(stackId("environment", env));
  return [
    `CI setup of ${env} (repository ${repo}, AWS account ${topology.access.accountId}):`,
    `1. Deploy the environment stack (${root}) once by hand (README, Deploying for real): it creates the CI roles`,
    `   and one GitHub connection per region (${topology.regions.map((r) => ciConnectionNameOf(env, r.name)).join(", ")}).`,
    `2. In the AWS console (Developer Tools > Settings > Connections), complete each PENDING connection`,
    `   ("Update pending connection", install or choose the AWS Connector for GitHub app for ${github.owner}).`,
    `3. GitHub repository variable ${previewRoleVariable(env)} = output environment.ci.previewRoleArn of ${root}.`,
    `4. GitHub environment "${github.deployEnvironment}": deployment branches: ${github.deployBranch} only; no required reviewers;`,
    `   variable AWS_DEPLOY_ROLE_ARN = output environment.ci.deployRoleArn of ${root}.`,
    topology.tier === "production"
      ? `5. GitHub environment "${approval}": required reviewers (the deploy approvers), deployment branches: ${github.deployBranch} only.`
      : `5. GitHub environment "${approval}": deployment branches: ${github.deployBranch} only (reviewers optional for ${topology.tier}).`,
    `6. Branch protection of ${github.deployBranch}: require the checks of pr.yml (they include the workflow tests that keep`,
    `   every deploy job behind the approval).`,
  ];
}

/** The GitHub environment whose required reviewers approve a deployment of `deployEnvironment`. */
export function approvalEnvironmentOf(deployEnvironment: string): string {
  return `${deployEnvironment}-approval`;
}
