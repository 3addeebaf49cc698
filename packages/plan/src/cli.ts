import * as fs from "node:fs";
import * as path from "node:path";
import type { EnvironmentTopology, LayerName } from "@hcp/platform";
import type { PlanRun } from "./plan";

// Commands import what they use when they run: `diff` (CI, on every pull request) then never loads
// the Pulumi SDK, which costs seconds.

/**
 * The plan commands (root scripts: `pnpm plan`, `pnpm plan:diff`, `pnpm plan:audit`):
 *
 * - `plan --env <name|all> [--json <file>] [--policy-pack <dir>] [--policy-config <file>]
 *   [--no-policies] [--layers <a,b>] [--root <dir>] [--concurrency <n>] [--verbose]`
 * - `diff <base.json> <head.json> [--markdown <file>]`: what a pull request changes (docs/ci.md).
 * - `audit <stack-export.json> [--policy-pack <dir>] [--policy-config <file>] [--env <name>]
 *   [--organization <org>] [--json <file>]`: the pack over a deployed stack's `pulumi stack export`.
 * - `policy-config --env <name> [--out <file>]`: the environment's `--policy-pack-config` file.
 * - `affected --env <name|all> --changed <file|-> [--out <file>]`: the stacks a change affects, as a
 *   job matrix `{ "include": [...] }`.
 * - `deploy-order --env <name> [--layer <layer> --format tsv] [--out <file>]`: stacks in deploy order.
 * - `environments [--out <file>]`: the environments the deploy workflow deploys, by tier.
 * - `ci-setup --env <name>`: what GitHub and AWS need before CI can preview and deploy an environment.
 *
 * Under `pnpm plan`, the CI subcommands are `pnpm plan <subcommand> ...`.
 *
 * Exit codes: 0 ok; 1 a mandatory policy violation (for `diff`: in the head plan, or a head plan
 * with errors); 2 configuration or contract errors, or an unreadable / mismatched input file (a bad
 * Pulumi.<env>.yaml or policy config, an unknown environment, a consumer reading an output its
 * producer does not export, a plan document or stack export this tool cannot read); 3 a program
 * failed for another reason; 64 usage.
 */

/** Exit codes of the plan commands. */
export const EXIT = { ok: 0, policy: 1, config: 2, program: 3, usage: 64 } as const;

interface Args {
  readonly command: string;
  readonly positionals: readonly string[];
  readonly flags: Map<string, string | true>;
}

/** Subcommands reachable as `pnpm plan <subcommand>` (the root `plan` script passes `plan` first). */
const SUBCOMMANDS = [
  "diff",
  "audit",
  "policy-config",
  "affected",
  "deploy-order",
  "environments",
  "ci-setup",
];

/** Flags that never take a value. */
const SWITCHES = new Set(["no-policies", "verbose"]);

function parseArgs(argv: readonly string[]): Args {
  let [command = "plan", ...rest] = argv;
  if (command === "plan" && rest[0] !== undefined && SUBCOMMANDS.includes(rest[0])) {
    [command, ...rest] = rest;
  }
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const [key, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    if (inline !== undefined) {
      flags.set(key, inline);
    } else if (!SWITCHES.has(key) && i + 1 < rest.length && !rest[i + 1].startsWith("--")) {
      flags.set(key, rest[++i]);
    } else {
      flags.set(key, true);
    }
  }
  return { command, positionals, flags };
}

class UsageError extends Error {}

/** Errors about the user's input (config, plan documents, stack exports): exit code 2. */
const INPUT_ERRORS = new Set(["ConfigError", "PlanInputError", "ExportError"]);

const USAGE = [
  "usage: pnpm plan --env <environment|all> [--json <file>] [--policy-pack <dir>] [--policy-config <file>]",
  "                 [--no-policies] [--layers <a,b>] [--root <dir>] [--concurrency <n>] [--verbose]",
  "       pnpm plan:diff <base.json> <head.json> [--markdown <file>]",
  "       pnpm plan:audit <stack-export.json> [--policy-pack <dir>] [--policy-config <file>] [--env <environment>]",
  "                 [--organization <org>] [--json <file>]",
  "       pnpm plan policy-config --env <environment> [--out <file>]",
  "       pnpm plan affected --env <environment|all> --changed <file|-> [--out <file>]",
  "       pnpm plan deploy-order --env <environment> [--layer <layer> --format tsv] [--out <file>]",
  "       pnpm plan environments [--out <file>]",
  "       pnpm plan ci-setup --env <environment>",
].join("\n");

/**
 * A path the user typed. Under a root script (`pnpm plan:diff ...`) pnpm runs in the repository
 * root, so relative paths are resolved against the directory pnpm was started from (INIT_CWD).
 */
function userPath(p: string): string {
  const fromScript = process.env["npm_lifecycle_event"]?.startsWith("plan") ?? false;
  const base = fromScript && process.env["INIT_CWD"] ? process.env["INIT_CWD"] : process.cwd();
  return path.resolve(base, p);
}

/** Writes an output file, creating its directory (e.g. the git-ignored `out/`). */
function writeOutput(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** Writes `text` to `--out` (or stdout). */
function emit(flags: Map<string, string | true>, text: string): void {
  const out = stringFlag(flags, "out");
  if (out) {
    writeOutput(userPath(out), text.endsWith("\n") ? text : `${text}\n`);
  } else {
    console.log(text);
  }
}

/** The repository's policy pack. */
const DEFAULT_PACK = path.join("policies", "healthcare");

/** Runs the pack over every synthesized stack, attaching findings to the document. */
async function runPolicies(run: PlanRun, packDir: string, overrideFile: string | undefined): Promise<void> {
  const { PolicyPackServer } = await import("./policy/analyzer.js");
  const { mergeConfig, packConfigFor, readPolicyConfigFile, resolveConfig } =
    await import("./policy/config.js");
  const { analyzeEnvironment } = await import("./policy/run.js");
  const { PLAN_ORGANIZATION } = await import("./plan.js");
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

/** The repository root (`--root`, else the checkout this tool runs from). */
async function rootOf(flags: Map<string, string | true>): Promise<string> {
  const given = stringFlag(flags, "root");
  return path.resolve(given ?? (await import("@hcp/testing")).repoRoot());
}

async function runPlan(flags: Map<string, string | true>): Promise<number> {
  const env = stringFlag(flags, "env");
  if (!env) {
    throw new UsageError("--env is required");
  }
  const { LAYERS } = await import("@hcp/platform");
  const { planEnvironments } = await import("./plan.js");
  const { summary } = await import("./report.js");
  const jsonFile = stringFlag(flags, "json");
  const concurrency = stringFlag(flags, "concurrency");
  const root = await rootOf(flags);
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
    writeOutput(userPath(jsonFile), `${JSON.stringify(run.document, null, 2)}\n`);
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

function noPositionals(args: Args): void {
  if (args.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
  }
}

/** `diff <base.json> <head.json> [--markdown <file>]`. */
async function runDiff(args: Args): Promise<number> {
  if (args.positionals.length !== 2) {
    throw new UsageError("diff needs two plan documents: <base.json> <head.json>");
  }
  const { diffPlans, readPlanDocument, totals } = await import("./diff.js");
  const { diffText } = await import("./diffReport.js");
  const { diffMarkdown } = await import("./markdown.js");
  const [baseFile, headFile] = args.positionals.map(userPath);
  const diff = diffPlans(readPlanDocument(baseFile), readPlanDocument(headFile));
  console.log(diffText(diff));
  const markdown = stringFlag(args.flags, "markdown");
  if (markdown) {
    writeOutput(userPath(markdown), `${diffMarkdown(diff)}\n`);
    console.log(`PR comment written to ${markdown}`);
  }
  return totals(diff).headMandatory > 0 || diff.headErrors.length > 0 ? EXIT.policy : EXIT.ok;
}

/** The topology of an environment of the repository at `root`. */
async function topologyOf(root: string, env: string): Promise<EnvironmentTopology> {
  const { discover, unknownEnvironment } = await import("./discover.js");
  const { loadEnvironmentConfigFile } = await import("@hcp/platform");
  const workspace = discover(root);
  if (!workspace.environments.includes(env)) {
    throw unknownEnvironment(workspace, env);
  }
  return loadEnvironmentConfigFile(path.join(root, `Pulumi.${env}.yaml`), env);
}

/** `audit <stack-export.json> [...]`. */
async function runAudit(args: Args): Promise<number> {
  if (args.positionals.length !== 1) {
    throw new UsageError("audit needs one stack export file (pulumi stack export --file <file>)");
  }
  const source = args.positionals[0];
  const { auditReport, auditStack, readStackExport } = await import("./audit.js");
  // Read and check the export before anything else: a bad file fails fast, with exit code 2.
  const exported = readStackExport(userPath(source));
  const { PolicyPackServer } = await import("./policy/analyzer.js");
  const { mergeConfig, packConfigFor, readPolicyConfigFile, resolveConfig } =
    await import("./policy/config.js");
  const { PLAN_ORGANIZATION } = await import("./plan.js");
  const root = await rootOf(args.flags);
  const packDir = path.resolve(root, stringFlag(args.flags, "policy-pack") ?? DEFAULT_PACK);
  const env = stringFlag(args.flags, "env");
  const overrideFile = stringFlag(args.flags, "policy-config");
  const generated = env ? packConfigFor(packDir, await topologyOf(root, env)) : {};
  const override = overrideFile ? readPolicyConfigFile(userPath(overrideFile)) : {};
  const server = await PolicyPackServer.start(packDir);
  try {
    const info = await server.info();
    const config = resolveConfig(
      info,
      mergeConfig(generated, override),
      overrideFile ?? (env ? `${info.name} config for ${env}` : `${info.name} defaults`),
    );
    await server.configure(config);
    const findings = await auditStack(
      server,
      exported,
      stringFlag(args.flags, "organization") ?? PLAN_ORGANIZATION,
    );
    console.log(auditReport(exported, findings, source));
    const jsonFile = stringFlag(args.flags, "json");
    if (jsonFile) {
      const report = {
        stack: `${exported.project}/${exported.stack}`,
        policyPack: `${info.name}@${info.version}`,
        resources: exported.resources.length,
        secrets: { plaintext: exported.secrets.plaintext, ciphertext: exported.secrets.ciphertext },
        warnings: exported.warnings,
        policyFindings: findings,
      };
      writeOutput(userPath(jsonFile), `${JSON.stringify(report, null, 2)}\n`);
    }
    return findings.some((f) => f.level === "mandatory") ? EXIT.policy : EXIT.ok;
  } finally {
    server.stop();
  }
}

function requiredFlag(flags: Map<string, string | true>, name: string): string {
  const v = stringFlag(flags, name);
  if (!v) {
    throw new UsageError(`--${name} is required`);
  }
  return v;
}

/** `policy-config --env <env>`: the generated `--policy-pack-config` of an environment. */
async function runPolicyConfig(args: Args): Promise<number> {
  noPositionals(args);
  const { mergeConfig, packConfigFor } = await import("./policy/config.js");
  const root = await rootOf(args.flags);
  const packDir = path.resolve(root, stringFlag(args.flags, "policy-pack") ?? DEFAULT_PACK);
  const topology = await topologyOf(root, requiredFlag(args.flags, "env"));
  const config = mergeConfig({}, packConfigFor(packDir, topology));
  emit(args.flags, JSON.stringify(config, null, 2));
  return EXIT.ok;
}

async function environmentsOf(root: string, env: string): Promise<EnvironmentTopology[]> {
  const { discover } = await import("./discover.js");
  const names = env === "all" ? discover(root).environments : [env];
  return Promise.all(names.map((n) => topologyOf(root, n)));
}

/** `affected --env <env|all> --changed <file|->`: a job matrix of the affected stacks. */
async function runAffected(args: Args): Promise<number> {
  noPositionals(args);
  const { affectedStacks, ciStack } = await import("./ci.js");
  const { discover } = await import("./discover.js");
  const root = await rootOf(args.flags);
  const changed = requiredFlag(args.flags, "changed");
  const files = (
    changed === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(userPath(changed), "utf8")
  ).split(/\r?\n/);
  const built = discover(root).layers;
  const include = (await environmentsOf(root, requiredFlag(args.flags, "env"))).flatMap((topology) =>
    affectedStacks(files, topology, built).map((a) => ({ ...ciStack(topology, a.id), reason: a.reason })),
  );
  for (const s of include) {
    console.error(`  ${s.label}: ${s.reason}`);
  }
  console.error(`${include.length} stack(s) affected.`);
  emit(args.flags, JSON.stringify({ include }));
  return EXIT.ok;
}

/** `deploy-order --env <env> [--layer <layer> --format tsv]`. */
async function runDeployOrder(args: Args): Promise<number> {
  noPositionals(args);
  const { LAYERS } = await import("@hcp/platform");
  const { deployPlan } = await import("./ci.js");
  const { discover } = await import("./discover.js");
  const root = await rootOf(args.flags);
  const plan = deployPlan(await topologyOf(root, requiredFlag(args.flags, "env")), discover(root).layers);
  const layer = stringFlag(args.flags, "layer");
  if (layer !== undefined && !(LAYERS as readonly string[]).includes(layer)) {
    throw new UsageError(`unknown layer ${layer}; layers are ${LAYERS.join(", ")}`);
  }
  const layers = layer ? plan.layers.filter((l) => l.layer === layer) : plan.layers;
  const format = stringFlag(args.flags, "format") ?? "json";
  if (format === "tsv") {
    // One stack per line, `<work dir>\t<stack name>`, for a shell loop; nothing for an unbuilt layer.
    emit(args.flags, layers.flatMap((l) => l.stacks.map((s) => `${s.workDir}\t${s.stackName}`)).join("\n"));
  } else if (format === "json") {
    emit(args.flags, JSON.stringify(layer ? { ...plan, layers } : plan, null, 2));
  } else {
    throw new UsageError(`--format is json or tsv, not ${format}`);
  }
  return EXIT.ok;
}

/** `environments`: `{ nonproduction: [...], production: [...] }` for the deploy workflow's matrices. */
async function runEnvironments(args: Args): Promise<number> {
  noPositionals(args);
  const { deployTargets } = await import("./ci.js");
  const root = await rootOf(args.flags);
  emit(args.flags, JSON.stringify(deployTargets(await environmentsOf(root, "all"))));
  return EXIT.ok;
}

/** `ci-setup --env <env>`: the GitHub and AWS settings CI needs for an environment. */
async function runCiSetup(args: Args): Promise<number> {
  noPositionals(args);
  const { ciSetupChecklist } = await import("./ci.js");
  const root = await rootOf(args.flags);
  emit(args.flags, ciSetupChecklist(await topologyOf(root, requiredFlag(args.flags, "env"))).join("\n"));
  return EXIT.ok;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    switch (args.command) {
      case "plan":
        noPositionals(args);
        return await runPlan(args.flags);
      case "diff":
        return await runDiff(args);
      case "audit":
        return await runAudit(args);
      case "policy-config":
        return await runPolicyConfig(args);
      case "affected":
        return await runAffected(args);
      case "deploy-order":
        return await runDeployOrder(args);
      case "environments":
        return await runEnvironments(args);
      case "ci-setup":
        return await runCiSetup(args);
      default:
        throw new UsageError(`unknown command '${args.command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n${USAGE}`);
      return EXIT.usage;
    }
    // By name, as ConfigError.isInstance does: the defining modules may not be loaded.
    if (e instanceof Error && INPUT_ERRORS.has(e.name)) {
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
