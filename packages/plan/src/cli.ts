import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, LAYERS, type LayerName } from "@hcp/platform";
import { repoRoot } from "@hcp/testing";
import { PLAN_ORGANIZATION, planEnvironments, type PlanRun } from "./plan";
import { PolicyPackServer } from "./policy/analyzer";
import { mergeConfig, packConfigFor, readPolicyConfigFile, resolveConfig } from "./policy/config";
import { analyzeEnvironment } from "./policy/run";
import { summary } from "./report";

/**
 * `pnpm plan --env <name|all> [--json <file>] [--policy-pack <dir>] [--policy-config <file>]
 *  [--no-policies] [--layers <a,b>] [--root <dir>] [--concurrency <n>] [--verbose]`
 *
 * Exit codes: 0 ok; 1 a mandatory policy violation; 2 configuration or contract errors (a bad
 * Pulumi.<env>.yaml or policy config, an unknown environment, a consumer reading an output its
 * producer does not export); 3 a program failed for another reason.
 */

/** Exit codes of the plan commands. */
export const EXIT = { ok: 0, policy: 1, config: 2, program: 3, usage: 64 } as const;

interface Args {
  readonly command: string;
  readonly flags: Map<string, string | true>;
}

function parseArgs(argv: readonly string[]): Args {
  const [command = "plan", ...rest] = argv;
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith("--")) {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
    const [key, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    if (inline !== undefined) {
      flags.set(key, inline);
    } else if (i + 1 < rest.length && !rest[i + 1].startsWith("--")) {
      flags.set(key, rest[++i]);
    } else {
      flags.set(key, true);
    }
  }
  return { command, flags };
}

class UsageError extends Error {}

const USAGE =
  "usage: pnpm plan --env <environment|all> [--json <file>] [--policy-pack <dir>] [--policy-config <file>]\n" +
  "                 [--no-policies] [--layers <a,b>] [--root <dir>] [--concurrency <n>] [--verbose]";

/** The repository's policy pack. */
const DEFAULT_PACK = path.join("policies", "healthcare");

/** Runs the pack over every synthesized stack, attaching findings to the document. */
async function runPolicies(run: PlanRun, packDir: string, overrideFile: string | undefined): Promise<void> {
  const started = Date.now();
  const server = await PolicyPackServer.start(packDir);
  try {
    const info = await server.info();
    const override = overrideFile ? readPolicyConfigFile(overrideFile) : {};
    for (const [env, topology] of run.topologies) {
      const file = mergeConfig(packConfigFor(packDir, topology), override);
      const config = resolveConfig(info, file, overrideFile ?? `${info.name} config for ${env}`);
      await analyzeEnvironment(
        server,
        config,
        run.stacks.filter((s) => s.id.environment === env),
        PLAN_ORGANIZATION,
      );
    }
    console.error(
      `  policies: ${info.name}@${info.version}, ${info.policies.length} policies (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } finally {
    server.stop();
  }
}

function stringFlag(flags: Map<string, string | true>, name: string): string | undefined {
  const v = flags.get(name);
  if (v === true) {
    throw new UsageError(`--${name} needs a value`);
  }
  return v;
}

async function runPlan(flags: Map<string, string | true>): Promise<number> {
  const env = stringFlag(flags, "env");
  if (!env) {
    throw new UsageError("--env is required");
  }
  const jsonFile = stringFlag(flags, "json");
  const concurrency = stringFlag(flags, "concurrency");
  const root = path.resolve(stringFlag(flags, "root") ?? repoRoot());
  const layers = stringFlag(flags, "layers")?.split(",");
  const unknown = layers?.filter((l) => !(LAYERS as readonly string[]).includes(l)) ?? [];
  if (unknown.length > 0) {
    throw new UsageError(`unknown layer(s) ${unknown.join(", ")}; layers are ${LAYERS.join(", ")}`);
  }
  const started = Date.now();
  const run = await planEnvironments({
    root,
    env,
    ...(layers ? { layers: layers as LayerName[] } : {}),
    ...(concurrency ? { concurrency: Number(concurrency) } : {}),
    onStack: (stack, outcome, ms) =>
      console.error(`  ${outcome === "ok" ? "✓" : "✗"} ${stack} (${(ms / 1000).toFixed(1)} s)`),
  });
  if (!flags.has("no-policies")) {
    const packDir = path.resolve(root, stringFlag(flags, "policy-pack") ?? DEFAULT_PACK);
    await runPolicies(run, packDir, stringFlag(flags, "policy-config"));
  }
  console.log(summary(run.document, flags.has("verbose")));
  if (jsonFile) {
    fs.writeFileSync(path.resolve(jsonFile), `${JSON.stringify(run.document, null, 2)}\n`);
    console.log(`Plan written to ${jsonFile}`);
  }
  const errors = run.document.environments.flatMap((e) => e.errors);
  console.log(`Planned in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  const findings = run.document.environments.flatMap((e) => e.stacks.flatMap((s) => s.policyFindings ?? []));
  const mandatory = findings.filter((f) => f.level === "mandatory").length;
  if (!flags.has("no-policies")) {
    console.log(
      `Policy findings: ${mandatory} mandatory, ${findings.filter((f) => f.level === "advisory").length} advisory.`,
    );
  }
  if (errors.some((e) => e.kind === "config" || e.kind === "contract")) {
    return EXIT.config;
  }
  if (errors.length > 0) {
    return EXIT.program;
  }
  return mandatory > 0 ? EXIT.policy : EXIT.ok;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const { command, flags } = parseArgs(argv);
    switch (command) {
      case "plan":
        return await runPlan(flags);
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n${USAGE}`);
      return EXIT.usage;
    }
    if (ConfigError.isInstance(e)) {
      console.error(e.message);
      return EXIT.config;
    }
    throw e;
  }
}

export { main };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(EXIT.program);
    },
  );
}
