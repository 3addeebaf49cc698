import type { EnvironmentTopology } from "@hcp/platform";
import { POLICY_VIEWS, type PolicyFinding, type PolicyView } from "../model";
import type { SynthesizedStack } from "../plan";
import type { WireResource } from "../worker";
import type { CatalogRule } from "./catalog";
import type {
  AnalyzerOptions,
  AnalyzerProvider,
  Diagnostic,
  PolicyConfiguration,
  PolicyPackServer,
} from "./analyzer";

/**
 * Runs a started policy pack over stacks the way `pulumi preview --policy-pack` does: `configure`
 * once, then per stack `configureStack`, `analyze` for every registered resource (its inputs, with
 * its provider) and `analyzeStack` over the final state. The offline plan feeds it synthesized
 * stacks, `plan:audit` the resources of a `pulumi stack export`.
 */

/** One resource as the engine presents it to a pack, from whichever source. */
export interface PolicySubject {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  /** URN of the resource's provider, itself one of the subjects. */
  readonly providerUrn?: string;
  /** False for reads (`.get`, stack references): no `analyze` call, only a place in the stack state. */
  readonly registered: boolean;
  /** What `analyze` sees (registration inputs, wire format). */
  readonly inputs: Record<string, unknown>;
  /** What `analyzeStack` sees (the state's outputs, wire format). */
  readonly outputs: Record<string, unknown>;
  /** Options sent with `analyze` (the engine adds `deleteBeforeReplace` only there). */
  readonly analyzeOptions: AnalyzerOptions;
  readonly stackOptions: AnalyzerOptions;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

function finding(d: Diagnostic, urn: string | undefined): PolicyFinding {
  return {
    policy: d.policyName,
    level: d.enforcementLevel,
    ...(d.severity !== "unspecified" ? { severity: d.severity } : {}),
    ...(d.urn || urn ? { urn: d.urn || urn } : {}),
    message: d.message,
  };
}

/** Analyzes one stack's resources (the pack already configured); findings in a stable order. */
export async function analyzeSubjects(
  server: PolicyPackServer,
  target: { readonly organization: string; readonly project: string; readonly stack: string },
  subjects: readonly PolicySubject[],
): Promise<PolicyFinding[]> {
  await server.configureStack({
    organization: target.organization,
    project: target.project,
    stack: target.stack,
    tags: { "pulumi:project": target.project, "pulumi:runtime": "nodejs" },
  });
  const byUrn = new Map(subjects.map((r) => [r.urn, r]));
  const providerOf = (r: PolicySubject): AnalyzerProvider | undefined => {
    const p = r.providerUrn ? byUrn.get(r.providerUrn) : undefined;
    return p ? { urn: p.urn, type: p.type, name: p.name, properties: { ...p.inputs } } : undefined;
  };
  const perResource = await Promise.all(
    subjects
      .filter((r) => r.registered)
      .map(async (r) => {
        const provider = providerOf(r);
        const diags = await server.analyze({
          urn: r.urn,
          type: r.type,
          name: r.name,
          properties: { ...r.inputs },
          options: r.analyzeOptions,
          ...(provider ? { provider } : {}),
        });
        return diags.map((d) => finding(d, r.urn));
      }),
  );
  const stackDiags = await server.analyzeStack(
    subjects.map((r) => {
      const provider = providerOf(r);
      return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        properties: { ...r.outputs },
        options: r.stackOptions,
        ...(provider ? { provider } : {}),
        ...(r.parent ? { parent: r.parent } : {}),
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
      };
    }),
  );
  return [...perResource.flat(), ...stackDiags.map((d) => finding(d, undefined))];
}

function subjectOf(r: WireResource): PolicySubject {
  const stackOptions: AnalyzerOptions = {
    protect: r.options.protect,
    ignoreChanges: r.options.ignoreChanges,
    additionalSecretOutputs: r.options.additionalSecretOutputs,
    aliases: r.options.aliases.filter((a): a is string => typeof a === "string"),
    ...(r.parent ? { parent: r.parent } : {}),
  };
  return {
    urn: r.urn,
    type: r.type,
    name: r.name,
    ...(r.parent ? { parent: r.parent } : {}),
    ...(r.provider ? { providerUrn: r.provider } : {}),
    registered: !r.read,
    inputs: r.wireInputs,
    outputs: r.wireOutputs,
    analyzeOptions: {
      ...stackOptions,
      ...(r.options.deleteBeforeReplace !== undefined
        ? { deleteBeforeReplace: r.options.deleteBeforeReplace }
        : {}),
    },
    stackOptions,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
  };
}

/** Analyzes one view of a synthesized stack; returns its findings in a stable order. */
export function analyzeStack(
  server: PolicyPackServer,
  stack: SynthesizedStack,
  organization: string,
  view: PolicyView = "preview",
): Promise<PolicyFinding[]> {
  return analyzeSubjects(
    server,
    { organization, project: stack.id.project, stack: stack.id.stack },
    (view === "preview" ? stack.resources : stack.deployedResources).map(subjectOf),
  );
}

/** The analyzer's notice for a policy that read a value unknown in the view. */
const UNEVALUABLE = /^can't run (policy|remediation) '[^']+' from policy pack '[^']+' during preview: /;

/** True if the finding says the policy could not run (a value unknown in the view). */
export function isUnevaluable(f: Pick<PolicyFinding, "message" | "kind">): boolean {
  return f.kind ? f.kind === "unevaluable" : UNEVALUABLE.test(f.message);
}

/**
 * The findings of both views as one list: a finding reported in both (same policy, resource and
 * message) is listed once with both views; each names its kind and the controls of its policy.
 */
export function mergeViews(
  byView: Readonly<Record<PolicyView, readonly PolicyFinding[]>>,
  catalog: ReadonlyMap<string, CatalogRule> = new Map(),
): PolicyFinding[] {
  const merged = new Map<string, { finding: PolicyFinding; views: PolicyView[] }>();
  for (const view of POLICY_VIEWS) {
    for (const f of byView[view]) {
      const key = `${f.policy}\u0000${f.urn ?? ""}\u0000${f.message}`;
      const entry = merged.get(key);
      if (entry) {
        if (!entry.views.includes(view)) {
          entry.views.push(view);
        }
      } else {
        merged.set(key, { finding: f, views: [view] });
      }
    }
  }
  return [...merged.values()].map(({ finding, views }) => {
    const controls = catalog.get(finding.policy)?.controls.map((c) => c.id) ?? [];
    return {
      ...finding,
      kind: isUnevaluable(finding) ? "unevaluable" : "violation",
      views,
      ...(controls.length > 0 ? { controls } : {}),
    };
  });
}

/** Analyzes both views of a stack (the pack configured for its environment), attaching the merged findings. */
export async function analyzeBothViews(
  server: PolicyPackServer,
  stack: SynthesizedStack,
  organization: string,
  catalog: ReadonlyMap<string, CatalogRule> = new Map(),
): Promise<void> {
  const preview = await analyzeStack(server, stack, organization, "preview");
  const deployed = await analyzeStack(server, stack, organization, "deployed");
  stack.plan.policyFindings = mergeViews({ preview, deployed }, catalog);
}

/**
 * Runs the pack over stacks as the plan synthesizes them: one pack process, stacks analyzed one at
 * a time in arrival order (the pack's configuration is process-global, so it is re-sent whenever
 * the next stack belongs to another environment). Findings do not depend on the order: each stack's
 * are computed from that stack alone.
 */
export class PolicySession {
  private queue: Promise<void> = Promise.resolve();
  private configuredFor: string | undefined;
  private readonly configs = new Map<string, PolicyConfiguration>();
  private busyMs = 0;

  constructor(
    private readonly server: PolicyPackServer,
    private readonly configFor: (topology: EnvironmentTopology) => PolicyConfiguration,
    private readonly organization: string,
    private readonly catalog: ReadonlyMap<string, CatalogRule>,
  ) {}

  /** Queues a stack; resolves once its findings are attached to its plan. */
  analyze(stack: SynthesizedStack, topology: EnvironmentTopology): Promise<void> {
    const run = this.queue.then(async () => {
      const started = Date.now();
      try {
        if (this.configuredFor !== topology.name) {
          let config = this.configs.get(topology.name);
          if (!config) {
            config = this.configFor(topology);
            this.configs.set(topology.name, config);
          }
          await this.server.configure(config);
          this.configuredFor = topology.name;
        }
        await analyzeBothViews(this.server, stack, this.organization, this.catalog);
      } finally {
        this.busyMs += Date.now() - started;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Time the pack spent analyzing (it overlaps synthesis, so it is not added to the plan's wall time). */
  get analysisMs(): number {
    return this.busyMs;
  }
}
