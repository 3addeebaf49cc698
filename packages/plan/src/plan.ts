import * as os from "node:os";
import {
  ConfigError,
  type EnvironmentTopology,
  formatProblems,
  guardDutyOwnershipProblems,
  LAYERS,
  type LayerName,
  loadEnvironmentConfigFile,
  type StackId,
  stackLabel,
  stackReferenceName,
  stacksOf,
  upstreamStacks,
} from "@hcp/platform";
import {
  formatSchemaReport,
  isKubernetesObject,
  type KubernetesSchemaReport,
  type StackExports,
  validateKubernetesObjects,
} from "@hcp/testing";
import * as path from "node:path";
import { discover, programPath, stackConfig, unknownEnvironment, type Workspace } from "./discover";
import {
  type EnvironmentPlan,
  label,
  PLAN_FORMAT,
  type PlanDocument,
  type PlanError,
  type PlannedResource,
  type StackPlan,
} from "./model";
import { type Outcome, runGraph, type Task } from "./schedule";
import { exportsOf, type Synthesized, SynthesisError, WorkerPool, type WorkerReuse } from "./synthesize";
import { forDocument } from "./values";
import type { WireResource } from "./worker";

/** Organization of self-managed (S3) backends; stack references in the plan use it. */
export const PLAN_ORGANIZATION = "organization";

/** Options of {@link planEnvironments}. */
export interface PlanOptions {
  readonly root: string;
  /** An environment name or `all`. */
  readonly env: string;
  /** @default - the number of CPUs */
  readonly concurrency?: number;
  /** Only these layers (and nothing they read is synthesized unless listed too). @default - every built layer */
  readonly layers?: readonly LayerName[];
  /** How worker processes serve stacks. @default "shared" - warm workers reused across stacks */
  readonly workers?: WorkerReuse;
  /**
   * Called with each stack as soon as it is synthesized (the policy run, overlapping the synthesis
   * of later stacks); the plan resolves after every returned promise settles. @default - none
   */
  readonly analyze?: (stack: SynthesizedStack, topology: EnvironmentTopology) => Promise<void>;
  /** Called as each stack finishes (progress output). */
  readonly onStack?: (stack: string, outcome: "ok" | "failed" | "skipped", ms: number) => void;
}

/** A synthesized stack with what the policy run needs beyond the document. */
export interface SynthesizedStack {
  readonly id: StackId;
  readonly plan: StackPlan;
  /** Resources in wire format, as a preview sends them to a policy pack. */
  readonly resources: readonly WireResource[];
  /** Resources in wire format as the deployment run registers them (ids and ARNs known). */
  readonly deployedResources: readonly WireResource[];
}

/** The result of planning: the document plus per-stack material for the policy run. */
export interface PlanRun {
  readonly document: PlanDocument;
  readonly stacks: readonly SynthesizedStack[];
  readonly topologies: ReadonlyMap<string, EnvironmentTopology>;
}

/**
 * Plans one environment or all. Config errors of an environment are reported, not thrown. The stacks
 * of every environment form one dependency graph, so independent environments synthesize
 * concurrently; each stack is handed to `options.analyze` as soon as it is synthesized.
 */
export async function planEnvironments(options: PlanOptions): Promise<PlanRun> {
  const workspace = discover(options.root);
  const names = options.env === "all" ? workspace.environments : [options.env];
  if (options.env !== "all" && !workspace.environments.includes(options.env)) {
    throw unknownEnvironment(workspace, options.env);
  }
  const topologies = new Map<string, EnvironmentTopology>();
  const configErrors = new Map<string, EnvironmentPlan>();
  for (const name of names) {
    try {
      topologies.set(name, loadEnvironmentConfigFile(path.join(workspace.root, `Pulumi.${name}.yaml`), name));
    } catch (e) {
      if (ConfigError.isInstance(e)) {
        configErrors.set(name, {
          environment: name,
          stacks: [],
          errors: [{ kind: "config", message: e.message }],
          layersNotBuilt: [],
        });
        continue;
      }
      throw e;
    }
  }
  const ownership = guardDutyOwnership(workspace, topologies);
  const concurrency = options.concurrency ?? Math.max(1, os.cpus().length);
  const pool = new WorkerPool(concurrency, options.workers ?? "shared");
  const analyses: Promise<void>[] = [];
  let planned: Map<string, { plan: EnvironmentPlan; stacks: SynthesizedStack[] }>;
  try {
    const graphs = [...topologies.values()].map((t) =>
      environmentGraph(workspace, t, pool, options, analyses),
    );
    const outcomes = await runGraphReporting(
      graphs.flatMap((g) => g.tasks),
      concurrency,
      options,
    );
    planned = new Map(graphs.map((g) => [g.topology.name, g.finish(outcomes)]));
  } finally {
    pool.close();
  }
  // Analyses run while later stacks synthesize; all of them are done before the plan is complete.
  await Promise.all(analyses);
  const environments: EnvironmentPlan[] = [];
  const stacks: SynthesizedStack[] = [];
  for (const name of names) {
    const env = planned.get(name);
    const problems = ownership.filter((p) => p.environment === name);
    if (env && problems.length > 0) {
      env.plan.errors.push({ kind: "config", message: formatProblems(`Pulumi.${name}.yaml`, problems) });
    }
    environments.push(env?.plan ?? configErrors.get(name)!);
    stacks.push(...(env?.stacks ?? []));
  }
  return {
    document: { format: PLAN_FORMAT, generatedAt: new Date().toISOString(), environments },
    stacks,
    topologies,
  };
}

/**
 * GuardDuty detectors two environment files would both create (same account and region, both
 * `managed`): a check across files, so every environment of the workspace takes part even when one
 * is planned (a file with config errors is reported on its own and left out here).
 */
function guardDutyOwnership(workspace: Workspace, planned: ReadonlyMap<string, EnvironmentTopology>) {
  const all = workspace.environments.flatMap((name) => {
    const known = planned.get(name);
    if (known) {
      return [known];
    }
    try {
      return [loadEnvironmentConfigFile(path.join(workspace.root, `Pulumi.${name}.yaml`), name)];
    } catch (e) {
      if (ConfigError.isInstance(e)) {
        return [];
      }
      throw e;
    }
  });
  return guardDutyOwnershipProblems(
    all.map((t) => ({
      environment: t.name,
      accountId: t.access.accountId,
      regions: t.regions.map((r) => r.name),
      detector: t.cluster.guardDuty.detector,
    })),
  );
}

/** The stacks a plan synthesizes and why. */
export interface StackSelection {
  /** Every stack to synthesize, in deploy order. */
  readonly stacks: readonly StackId[];
  /** Layers asked for (`--layers`, built or not), else every built layer. */
  readonly selected: readonly LayerName[];
  /** Built layers synthesized only because a selected stack reads them (transitively). */
  readonly pulledIn: readonly LayerName[];
}

/**
 * The stacks of the selected layers plus every stack they read, transitively (so each consumer's
 * stack references get exports its producer really synthesized). Only built layers have stacks: a
 * read of a layer without a project is reported by the consumer (a stack reference without exports).
 */
export function selectStacks(
  topology: EnvironmentTopology,
  built: ReadonlySet<LayerName>,
  layers?: readonly LayerName[],
): StackSelection {
  const selected = LAYERS.filter((l) => (layers ? layers.includes(l) : built.has(l)));
  const wanted = new Map<string, StackId>();
  const visit = (id: StackId) => {
    if (wanted.has(stackLabel(id)) || !built.has(id.layer)) {
      return;
    }
    wanted.set(stackLabel(id), id);
    upstreamStacks(topology, id).forEach(visit);
  };
  stacksOf(
    topology,
    selected.filter((l) => built.has(l)),
  ).forEach(visit);
  const stacks = stacksOf(topology).filter((id) => wanted.has(stackLabel(id)));
  const pulledIn = LAYERS.filter((l) => !selected.includes(l) && stacks.some((id) => id.layer === l));
  return { stacks, selected, pulledIn };
}

/** One environment's stacks as graph tasks, and how to turn their outcomes into its plan. */
function environmentGraph(
  workspace: Workspace,
  topology: EnvironmentTopology,
  pool: WorkerPool,
  options: PlanOptions,
  analyses: Promise<void>[],
): {
  topology: EnvironmentTopology;
  tasks: Task<Synthesized>[];
  finish: (outcomes: ReadonlyMap<string, Outcome<Synthesized>>) => {
    plan: EnvironmentPlan;
    stacks: SynthesizedStack[];
  };
} {
  const built = new Set<LayerName>(workspace.layers);
  const selection = selectStacks(topology, built, options.layers);
  const ids = selection.stacks;
  const results = new Map<string, Synthesized>();
  const schemaReports = new Map<string, KubernetesSchemaReport[]>();
  const synthesizedStacks = new Map<string, SynthesizedStack>();
  // Every stack also runs as a deployment (the as-deployed view the policy pack evaluates); the known
  // exports of a stack some layer reads (built or not) feed its consumers and are checked against
  // its contract.
  const consumed = new Set(stacksOf(topology).flatMap((id) => upstreamStacks(topology, id).map(stackLabel)));

  const tasks: Task<Synthesized>[] = ids.map((id) => {
    const upstream = upstreamStacks(topology, id);
    return {
      id: stackLabel(id),
      // A read of a layer that has no project yet is reported by the consumer's synthesis
      // (a stack reference without exports), so only built upstreams are dependencies.
      dependsOn: upstream.filter((u) => built.has(u.layer)).map(stackLabel),
      run: async () => {
        const stackOutputs: Record<string, StackExports> = {};
        for (const u of upstream) {
          const r = results.get(stackLabel(u));
          const exports = r ? exportsOf(r.result) : undefined;
          if (exports) {
            stackOutputs[stackReferenceName(u, PLAN_ORGANIZATION)] = exports;
          }
        }
        const config = stackConfig(workspace.root, id);
        const synthesized = await pool.synthesize(
          {
            program: programPath(workspace.root, id.layer),
            project: id.project,
            stack: id.stack,
            organization: PLAN_ORGANIZATION,
            accountId: topology.access.accountId,
            config: { values: config.values, secretKeys: [...config.secretKeys] },
            stackOutputs,
            deployedExports: consumed.has(stackLabel(id)),
          },
          stackLabel(id),
        );
        results.set(stackLabel(id), synthesized);
        const stack = toStackPlan(id, topology, synthesized);
        synthesizedStacks.set(stackLabel(id), stack);
        if (options.analyze) {
          const analysis = options.analyze(stack, topology);
          // Handled here so a failure waits for the plan's `Promise.all` instead of crashing the process.
          analysis.catch(() => undefined);
          analyses.push(analysis);
        }
        // Validated while other stacks synthesize (their programs run in worker processes).
        schemaReports.set(stackLabel(id), await validateKubernetesObjects(synthesized.result.resources));
        return synthesized;
      },
    };
  });

  const finish = (outcomes: ReadonlyMap<string, Outcome<Synthesized>>) => {
    const errors: PlanError[] = [];
    const stacks: SynthesizedStack[] = [];
    for (const id of ids) {
      const outcome = outcomes.get(stackLabel(id))!;
      if (outcome.status === "ok") {
        stacks.push(synthesizedStacks.get(stackLabel(id))!);
        if (outcome.value.result.contractError) {
          errors.push({
            kind: "contract",
            stack: stackLabel(id),
            message: outcome.value.result.contractError,
          });
        }
      } else if (outcome.status === "failed") {
        errors.push(...classify(stackLabel(id), outcome.error));
      } else {
        errors.push({
          kind: "program",
          stack: stackLabel(id),
          message: `not synthesized: it reads ${outcome.because}, which failed`,
        });
      }
    }
    let kubernetesObjects = 0;
    for (const s of stacks) {
      kubernetesObjects += s.resources.filter(isKubernetesObject).length;
      for (const report of schemaReports.get(stackLabel(s.id)) ?? []) {
        errors.push({ kind: "schema", stack: stackLabel(s.id), message: formatSchemaReport(report) });
      }
    }
    return {
      plan: {
        environment: topology.name,
        stacks: stacks.map((s) => s.plan),
        errors,
        layersNotBuilt: LAYERS.filter((l) => !built.has(l)),
        layersSelected: selection.selected,
        layersPulledIn: selection.pulledIn,
        kubernetesObjectsValidated: kubernetesObjects,
      },
      stacks,
    };
  };
  return { topology, tasks, finish };
}

async function runGraphReporting(
  tasks: Task<Synthesized>[],
  concurrency: number,
  options: PlanOptions,
): Promise<Map<string, Outcome<Synthesized>>> {
  const wrapped = tasks.map((t) => ({
    ...t,
    run: async () => {
      const started = Date.now();
      try {
        const r = await t.run();
        options.onStack?.(t.id, "ok", Date.now() - started);
        return r;
      } catch (e) {
        options.onStack?.(t.id, "failed", Date.now() - started);
        throw e;
      }
    },
  }));
  return runGraph(wrapped, concurrency);
}

/** Sorts a failure into config / contract / program problems, one per underlying error. */
function classify(stack: string, error: Error): PlanError[] {
  const errors =
    error instanceof SynthesisError ? error.errors : [{ name: error.name, message: error.message }];
  return errors.map((e) => {
    const text = e.message;
    const kind: PlanError["kind"] = /ContractError|does not match the contract|stack reference to '/.test(
      `${e.name} ${text}`,
    )
      ? "contract"
      : /ConfigError|Invalid configuration/.test(`${e.name} ${text}`)
        ? "config"
        : "program";
    return { kind, stack, message: text };
  });
}

/** A registered resource as the plan document records it (wire values: secrets tagged, nothing revealed). */
export function plannedResource(r: WireResource): PlannedResource {
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    custom: r.custom,
    remote: r.remote,
    read: r.read,
    ...(r.parent ? { parent: r.parent } : {}),
    ...(r.provider ? { provider: r.provider } : {}),
    inputs: forDocument(r.wireInputs) as Record<string, unknown>,
    options: {
      protect: r.options.protect,
      retainOnDelete: r.options.retainOnDelete,
      ignoreChanges: r.options.ignoreChanges,
      replaceOnChanges: r.options.replaceOnChanges,
      additionalSecretOutputs: r.options.additionalSecretOutputs,
      ...(r.options.deleteBeforeReplace !== undefined
        ? { deleteBeforeReplace: r.options.deleteBeforeReplace }
        : {}),
      aliases: r.options.aliases,
    },
    dependencies: r.dependencies,
  };
}

function toStackPlan(id: StackId, topology: EnvironmentTopology, s: Synthesized): SynthesizedStack {
  const resources = s.result.resources.map(plannedResource);
  const plan: StackPlan = {
    layer: id.layer,
    project: id.project,
    stack: id.stack,
    ...(id.region ? { region: id.region } : {}),
    reads: upstreamStacks(topology, id).map(label),
    resources,
    exports: forDocument(s.result.wireOutputs) as Record<string, unknown>,
    secretOutputNames: s.result.secretOutputNames,
    genericMockTypes: s.result.genericTypes,
    warnings: s.log.filter((l) => /warn|deprecat/i.test(l)),
    durationMs: s.durationMs,
    cpuMs: s.cpuMs,
  };
  return { id, plan, resources: s.result.resources, deployedResources: s.result.deployedResources };
}
