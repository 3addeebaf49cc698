import type { PolicyFinding } from "../model";
import type { SynthesizedStack } from "../plan";
import type { WireResource } from "../worker";
import type { AnalyzerProvider, Diagnostic, PolicyConfiguration, PolicyPackServer } from "./analyzer";

/**
 * Runs a started policy pack over synthesized stacks the way `pulumi preview --policy-pack` does:
 * `configure` once, then per stack `configureStack`, `analyze` for every registered resource (its
 * inputs, with its provider) and `analyzeStack` over the final state.
 */

function providerOf(r: WireResource, byUrn: ReadonlyMap<string, WireResource>): AnalyzerProvider | undefined {
  const p = r.provider ? byUrn.get(r.provider) : undefined;
  return p ? { urn: p.urn, type: p.type, name: p.name, properties: { ...p.wireInputs } } : undefined;
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

/** Analyzes one stack; returns its findings in a stable order. */
export async function analyzeStack(
  server: PolicyPackServer,
  stack: SynthesizedStack,
  organization: string,
): Promise<PolicyFinding[]> {
  await server.configureStack({
    organization,
    project: stack.id.project,
    stack: stack.id.stack,
    tags: { "pulumi:project": stack.id.project, "pulumi:runtime": "nodejs" },
  });
  const byUrn = new Map(stack.resources.map((r) => [r.urn, r]));
  const findings: PolicyFinding[] = [];
  // Reads (stack references) get no Analyze call from the engine, only a place in the stack state.
  const registered = stack.resources.filter((r) => !r.read);
  const perResource = await Promise.all(
    registered.map(async (r) => {
      const provider = providerOf(r, byUrn);
      const diags = await server.analyze({
        urn: r.urn,
        type: r.type,
        name: r.name,
        properties: { ...r.wireInputs },
        options: {
          protect: r.options.protect,
          ignoreChanges: r.options.ignoreChanges,
          ...(r.options.deleteBeforeReplace !== undefined
            ? { deleteBeforeReplace: r.options.deleteBeforeReplace }
            : {}),
          additionalSecretOutputs: r.options.additionalSecretOutputs,
          aliases: r.options.aliases.filter((a): a is string => typeof a === "string"),
          ...(r.parent ? { parent: r.parent } : {}),
        },
        ...(provider ? { provider } : {}),
      });
      return diags.map((d) => finding(d, r.urn));
    }),
  );
  findings.push(...perResource.flat());
  const stackDiags = await server.analyzeStack(
    stack.resources.map((r) => {
      const provider = providerOf(r, byUrn);
      return {
        urn: r.urn,
        type: r.type,
        name: r.name,
        properties: { ...r.wireOutputs },
        options: {
          protect: r.options.protect,
          ignoreChanges: r.options.ignoreChanges,
          additionalSecretOutputs: r.options.additionalSecretOutputs,
          aliases: r.options.aliases.filter((a): a is string => typeof a === "string"),
          ...(r.parent ? { parent: r.parent } : {}),
        },
        ...(provider ? { provider } : {}),
        ...(r.parent ? { parent: r.parent } : {}),
        dependencies: r.dependencies,
        propertyDependencies: r.propertyDependencies,
      };
    }),
  );
  findings.push(...stackDiags.map((d) => finding(d, undefined)));
  return findings;
}

/** Configures the pack for an environment and analyzes its stacks, attaching findings to each plan. */
export async function analyzeEnvironment(
  server: PolicyPackServer,
  config: PolicyConfiguration,
  stacks: readonly SynthesizedStack[],
  organization: string,
): Promise<void> {
  await server.configure(config);
  for (const stack of stacks) {
    stack.plan.policyFindings = await analyzeStack(server, stack, organization);
  }
}
