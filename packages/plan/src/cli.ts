import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs as nodeParseArgs } from "node:util";
import type { EnvironmentTopology, LayerName } from "@hcp/platform";
import type { PlanRun } from "./plan";
import type { CatalogRule } from "./policy/catalog";
import type { PolicySession } from "./policy/run";
import { WORKER_REUSE, type WorkerReuse } from "./synthesize";
import { closestTo } from "@hcp/platform/suggest";

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
 * Under `pnpm plan`, the CI subcommands are `pnpm plan <subcommand> ...`. Arguments are parsed by
 * `node:util` `parseArgs` in strict mode: an unknown command, subcommand or flag, a flag without its
 * value or a stray argument is a usage error naming it (and the closest valid one); `--help` / `-h`
 * prints the command's usage and exits 0.
 *
 * Exit codes: 0 ok; 1 a mandatory policy violation (for `diff`: in the head plan, or a head plan
 * with errors); 2 configuration, contract or schema errors, or an unreadable / mismatched input file
 * (a bad Pulumi.<env>.yaml or policy config, an unknown environment, a consumer reading an output its
 * producer does not export, a Kubernetes object that does not match its upstream schema, a plan
 * document or stack export this tool cannot read); 3 a program failed for another reason; 64 usage.
 */

/** Exit codes of the plan commands. */
export const EXIT = { ok: 0, policy: 1, config: 2, program: 3, usage: 64 } as const;

/** Parsed flags of a command (`node:util` `parseArgs` values). */
type Flags = Readonly<Record<string, string | boolean | undefined>>;

interface Args {
  readonly command: string;
  readonly positionals: readonly string[];
  readonly flags: Flags;
}

/** One flag of a command. */
interface FlagSpec {
  readonly type: "string" | "boolean";
  /** Shown in the usage, e.g. `<file>`. */
  readonly value?: string;
  readonly description: string;
}

/** A command: its flags, positional arguments and usage text. */
interface CommandSpec {
  /** `pnpm ...` line without the flags. */
  readonly invocation: string;
  readonly summary: string;
  readonly positionals: { readonly names: string; readonly min: number; readonly max: number };
  readonly flags: Readonly<Record<string, FlagSpec>>;
}

const ROOT_FLAG: FlagSpec = {
  type: "string",
  value: "<dir>",
  description: "repository root (default: this checkout)",
};
const POLICY_PACK: FlagSpec = {
  type: "string",
  value: "<dir>",
  description: "policy pack directory (default: policies/healthcare)",
};
const POLICY_CONFIG: FlagSpec = {
  type: "string",
  value: "<file>",
  description: "policy config overriding the generated one (pulumi --policy-pack-config format)",
};
const OUT: FlagSpec = {
  type: "string",
  value: "<file>",
  description: "write the output here instead of stdout",
};
const NONE = { names: "", min: 0, max: 0 };

/** Every command. `plan` subcommands are reachable as `pnpm plan <subcommand>`. */
const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  plan: {
    invocation: "pnpm plan",
    summary: "synthesize every stack of an environment offline, validate it and run the policy pack",
    positionals: NONE,
    flags: {
      env: { type: "string", value: "<environment|all>", description: "environment to plan (required)" },
      json: { type: "string", value: "<file>", description: "write the plan document (input of plan:diff)" },
      layers: {
        type: "string",
        value: "<a,b>",
        description: "only these layers, plus the producers they read (transitively)",
      },
      "no-policies": { type: "boolean", description: "do not run the policy pack" },
      "policy-pack": POLICY_PACK,
      "policy-config": POLICY_CONFIG,
      concurrency: {
        type: "string",
        value: "<n>",
        description: "stacks synthesized at once (default: CPUs)",
      },
      workers: {
        type: "string",
        value: "<shared|per-stack>",
        description:
          "shared (default): warm worker processes reused across stacks; per-stack: a fresh process per stack (isolation for debugging, the benchmark baseline)",
      },
      evidence: {
        type: "string",
        value: "<file.md>",
        description:
          "write the evidence report (per control: rules, resources examined, result in each view) as Markdown, and as JSON beside it (<file>.json), e.g. out/evidence.md",
      },
      verbose: {
        type: "boolean",
        description: "list every resource type of every stack and every policy notice",
      },
      root: ROOT_FLAG,
    },
  },
  diff: {
    invocation: "pnpm plan:diff",
    summary: "what a change does: two plan documents compared per stack (docs/ci.md)",
    positionals: { names: "<base.json> <head.json>", min: 2, max: 2 },
    flags: { markdown: { type: "string", value: "<file>", description: "write the PR comment" } },
  },
  audit: {
    invocation: "pnpm plan:audit",
    summary: "the policy pack over a deployed stack (pulumi stack export --file <file>)",
    positionals: { names: "<stack-export.json>", min: 1, max: 1 },
    flags: {
      env: {
        type: "string",
        value: "<environment>",
        description: "generate the policy config of this environment",
      },
      "policy-pack": POLICY_PACK,
      "policy-config": POLICY_CONFIG,
      organization: { type: "string", value: "<org>", description: "organization the stack belongs to" },
      json: { type: "string", value: "<file>", description: "write the findings as JSON" },
      root: ROOT_FLAG,
    },
  },
  "policy-config": {
    invocation: "pnpm plan policy-config",
    summary: "an environment's generated --policy-pack-config file",
    positionals: NONE,
    flags: {
      env: { type: "string", value: "<environment>", description: "environment (required)" },
      "policy-pack": POLICY_PACK,
      out: OUT,
      root: ROOT_FLAG,
    },
  },
  affected: {
    invocation: "pnpm plan affected",
    summary: 'the stacks a change affects, as a job matrix { "include": [...] }',
    positionals: NONE,
    flags: {
      env: { type: "string", value: "<environment|all>", description: "environment (required)" },
      changed: {
        type: "string",
        value: "<file|->",
        description: "changed paths, one a line, relative to the root (- for stdin; required)",
      },
      out: OUT,
      root: ROOT_FLAG,
    },
  },
  "deploy-order": {
    invocation: "pnpm plan deploy-order",
    summary: "an environment's stacks in deploy order",
    positionals: NONE,
    flags: {
      env: { type: "string", value: "<environment>", description: "environment (required)" },
      layer: { type: "string", value: "<layer>", description: "only this layer's stacks" },
      format: {
        type: "string",
        value: "<json|tsv>",
        description: "json (default) or tsv: <work dir>\\t<stack>",
      },
      out: OUT,
      root: ROOT_FLAG,
    },
  },
  environments: {
    invocation: "pnpm plan environments",
    summary: "the environments the deploy workflow deploys, by tier",
    positionals: NONE,
    flags: { out: OUT, root: ROOT_FLAG },
  },
  "ci-setup": {
    invocation: "pnpm plan ci-setup",
    summary: "what GitHub and AWS need before CI can preview and deploy an environment",
    positionals: NONE,
    flags: {
      env: { type: "string", value: "<environment>", description: "environment (required)" },
      out: OUT,
      root: ROOT_FLAG,
    },
  },
};

/** Subcommands reachable as `pnpm plan <subcommand>` (the root `plan` script passes `plan` first). */
const SUBCOMMANDS = Object.keys(COMMANDS).filter((c) => c !== "plan");

const HELP: FlagSpec = { type: "boolean", description: "print this help" };

class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose usage is printed with the message. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Raised for `--help`: print the usage of `command`, exit 0. */
class HelpRequest extends Error {
  constructor(readonly command: string) {
    super(`help for ${command}`);
  }
}

/** Errors about the user's input (config, plan documents, stack exports): exit code 2. */
const INPUT_ERRORS = new Set(["ConfigError", "PlanInputError", "ExportError"]);

/** The closest of `candidates` to a misspelt `word`, phrased for a message ("" if none is close). */
function didYouMean(word: string, candidates: readonly string[]): string {
  const best = closestTo(word, candidates);
  return best ? `; did you mean ${best}?` : "";
}

function flagLine(name: string, spec: FlagSpec): string {
  return `--${name}${spec.value ? ` ${spec.value}` : ""}`;
}

/** The usage text of a command (with the list of subcommands for `plan`). */
export function usage(command: string): string {
  const spec = COMMANDS[command] ?? COMMANDS["plan"];
  const flags = Object.entries(spec.flags);
  const width = Math.max(...flags.map(([n, f]) => flagLine(n, f).length), "-h, --help".length);
  const lines = [
    `usage: ${spec.invocation}${spec.positionals.names ? ` ${spec.positionals.names}` : ""} [flags]`,
    "",
    `${spec.summary}.`,
    "",
    "flags:",
    ...flags.map(([n, f]) => `  ${flagLine(n, f).padEnd(width)}  ${f.description}`),
    `  ${"-h, --help".padEnd(width)}  ${HELP.description}`,
  ];
  if (command === "plan") {
    const w = Math.max(...SUBCOMMANDS.map((c) => c.length));
    lines.push(
      "",
      "subcommands (pnpm plan <subcommand> --help for each):",
      ...SUBCOMMANDS.map((c) => `  ${c.padEnd(w)}  ${COMMANDS[c].summary}`),
      "",
      "exit codes: 0 ok, 1 mandatory policy violation, 2 configuration / contract / schema / input error,",
      "            3 a program failed, 64 usage",
    );
  }
  return lines.join("\n");
}

/** Why strict parsing failed, named precisely (the flag and the closest valid one). */
function explainParseError(
  command: string,
  argv: readonly string[],
  e: Error & { code?: string },
): UsageError {
  const spec = COMMANDS[command];
  const known = Object.keys(spec.flags);
  const { tokens } = nodeParseArgs({
    args: [...argv],
    options: { ...spec.flags, help: { ...HELP, short: "h" } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind !== "option") {
      continue;
    }
    const flag = spec.flags[t.name];
    if (!flag && t.name !== "help") {
      return new UsageError(
        `unknown flag ${t.rawName} for ${command}${didYouMean(
          `--${t.name}`,
          known.map((k) => `--${k}`),
        )}`,
        command,
      );
    }
    if (flag?.type === "string" && t.value === undefined) {
      return new UsageError(`${t.rawName} needs a value: ${flagLine(t.name, flag)}`, command);
    }
    if (flag?.type === "boolean" && t.value !== undefined) {
      return new UsageError(`${t.rawName} takes no value`, command);
    }
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return new UsageError(
      `${e.message.split("\n")[0]}; give the value as --flag=<value> if it starts with -`,
      command,
    );
  }
  return new UsageError(e.message.split("\n")[0] ?? "invalid arguments", command);
}

/** Parses `argv` (after `tsx cli.ts`) with `node:util` `parseArgs` in strict mode. */
export function parseCommandLine(argv: readonly string[]): Args {
  let [command = "plan", ...rest] = argv;
  if (command.startsWith("-")) {
    [command, rest] = ["plan", [...argv]];
  }
  if (command === "plan" && rest[0] !== undefined && !rest[0].startsWith("-")) {
    if (SUBCOMMANDS.includes(rest[0])) {
      [command = "plan", ...rest] = rest;
    } else {
      throw new UsageError(`unknown subcommand '${rest[0]}'${didYouMean(rest[0], SUBCOMMANDS)}`, "plan");
    }
  }
  const spec = COMMANDS[command];
  if (!spec) {
    throw new UsageError(`unknown command '${command}'${didYouMean(command, Object.keys(COMMANDS))}`);
  }
  let parsed: ReturnType<typeof nodeParseArgs<{ options: Record<string, FlagSpec>; allowPositionals: true }>>;
  try {
    parsed = nodeParseArgs({
      args: rest,
      options: { ...spec.flags, help: { ...HELP, short: "h" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    if (e instanceof Error && String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")) {
      throw explainParseError(command, rest, e);
    }
    throw e;
  }
  const { values, positionals } = parsed;
  if (values["help"] === true) {
    throw new HelpRequest(command);
  }
  const { min, max, names } = spec.positionals;
  if (positionals.length < min || positionals.length > max) {
    const extra = positionals[max];
    throw new UsageError(
      max === 0
        ? `unexpected argument '${positionals[0]}'${command === "plan" ? didYouMean(positionals[0], SUBCOMMANDS) : ""}`
        : extra !== undefined
          ? `unexpected argument '${extra}': ${command} takes ${names}`
          : `${command} needs ${names}`,
      command,
    );
  }
  return { command, positionals, flags: values };
}

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
function emit(flags: Flags, text: string): void {
  const out = stringFlag(flags, "out");
  if (out) {
    writeOutput(userPath(out), text.endsWith("\n") ? text : `${text}\n`);
  } else {
    console.log(text);
  }
}

/** The repository's policy pack. */
const DEFAULT_PACK = path.join("policies", "healthcare");

/** What the policy run reports besides the findings it attaches to the document. */
interface PolicyRunInfo {
  readonly pack: { readonly name: string; readonly version: string; readonly policies: number };
  readonly catalog: ReadonlyMap<string, CatalogRule>;
}

/**
 * Starts the pack for a plan: it loads while the workers start, and analyzes both views of each stack
 * as soon as it is synthesized (overlapping the synthesis of the stacks after it).
 */
async function startPolicies(
  packDir: string,
  overrideFile: string | undefined,
): Promise<{ session: PolicySession; info: PolicyRunInfo; stop: () => void }> {
  const { PolicyPackServer } = await import("./policy/analyzer.js");
  const { mergeConfig, packConfigFor, readPolicyConfigFile, resolveConfig } =
    await import("./policy/config.js");
  const { PolicySession } = await import("./policy/run.js");
  const { packCatalog } = await import("./policy/catalog.js");
  const { PLAN_ORGANIZATION } = await import("./plan.js");
  const catalog = packCatalog(packDir);
  // Read before anything runs, so a bad override file stops the plan at once.
  const override = overrideFile ? readPolicyConfigFile(overrideFile) : {};
  const server = await PolicyPackServer.start(packDir);
  try {
    const info = await server.info();
    const session = new PolicySession(
      server,
      (topology) =>
        resolveConfig(
          info,
          mergeConfig(packConfigFor(packDir, topology), override),
          overrideFile ?? `${info.name} config for ${topology.name}`,
        ),
      PLAN_ORGANIZATION,
      catalog,
    );
    return {
      session,
      info: { pack: { name: info.name, version: info.version, policies: info.policies.length }, catalog },
      stop: () => server.stop(),
    };
  } catch (e) {
    server.stop();
    throw e;
  }
}

function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

function switchFlag(flags: Flags, name: string): boolean {
  return flags[name] === true;
}

/** The repository root (`--root`, else the checkout this tool runs from). */
async function rootOf(flags: Flags): Promise<string> {
  const given = stringFlag(flags, "root");
  return path.resolve(given ?? (await import("@hcp/testing")).repoRoot());
}

async function runPlan(flags: Flags): Promise<number> {
  const env = requiredFlag(flags, "env", "plan");
  const { LAYERS } = await import("@hcp/platform");
  const { planEnvironments } = await import("./plan.js");
  const { summary } = await import("./report.js");
  const jsonFile = stringFlag(flags, "json");
  const concurrency = stringFlag(flags, "concurrency");
  if (concurrency !== undefined && !/^[1-9]\d*$/.test(concurrency)) {
    throw new UsageError(`--concurrency is a positive whole number, not '${concurrency}'`, "plan");
  }
  const root = await rootOf(flags);
  const layers = stringFlag(flags, "layers")
    ?.split(",")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const unknown = layers?.filter((l) => !(LAYERS as readonly string[]).includes(l)) ?? [];
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown layer(s) ${unknown
        .map((l) => {
          const best = closestTo(l, LAYERS);
          return best ? `'${l}' (did you mean ${best}?)` : `'${l}'`;
        })
        .join(", ")}; layers are ${LAYERS.join(", ")}`,
      "plan",
    );
  }
  const evidenceFile = stringFlag(flags, "evidence");
  if (evidenceFile && switchFlag(flags, "no-policies")) {
    throw new UsageError("--evidence needs the policy run: drop --no-policies", "plan");
  }
  if (
    evidenceFile &&
    jsonFile &&
    userPath(`${evidenceFile.replace(/\.md$/, "")}.json`) === userPath(jsonFile)
  ) {
    throw new UsageError(
      `--evidence ${evidenceFile} writes its JSON to ${jsonFile}, the --json plan document: give one of them another name`,
      "plan",
    );
  }
  const workers = stringFlag(flags, "workers") ?? "shared";
  if (!(WORKER_REUSE as readonly string[]).includes(workers)) {
    throw new UsageError(
      `--workers is one of ${WORKER_REUSE.join(", ")}, not '${workers}' (shared: warm workers reused across stacks; per-stack: a fresh process per stack)`,
      "plan",
    );
  }
  const started = Date.now();
  const policyRun = switchFlag(flags, "no-policies")
    ? undefined
    : await startPolicies(
        path.resolve(root, stringFlag(flags, "policy-pack") ?? DEFAULT_PACK),
        stringFlag(flags, "policy-config"),
      );
  let run: PlanRun;
  try {
    run = await planEnvironments({
      root,
      env,
      workers: workers as WorkerReuse,
      ...(layers ? { layers: layers as LayerName[] } : {}),
      ...(concurrency ? { concurrency: Number(concurrency) } : {}),
      ...(policyRun ? { analyze: (stack, topology) => policyRun.session.analyze(stack, topology) } : {}),
      onStack: (stack, outcome, ms) =>
        console.error(`  ${outcome === "ok" ? "✓" : "✗"} ${stack} (${(ms / 1000).toFixed(1)} s)`),
    });
  } finally {
    policyRun?.stop();
  }
  const policies = policyRun?.info;
  if (policyRun) {
    console.error(
      `  policies: ${policyRun.info.pack.name}@${policyRun.info.pack.version}, ${policyRun.info.pack.policies} policies, preview and as-deployed views (${(policyRun.session.analysisMs / 1000).toFixed(1)} s of analysis, alongside synthesis)`,
    );
  }
  const fixes = new Map([...(policies?.catalog.values() ?? [])].map((r) => [r.name, r.remediationSteps]));
  console.log(summary(run.document, switchFlag(flags, "verbose"), fixes));
  if (jsonFile) {
    writeOutput(userPath(jsonFile), `${JSON.stringify(run.document, null, 2)}\n`);
    console.log(`Plan written to ${jsonFile}`);
  }
  if (evidenceFile && policies) {
    const { writeEvidence } = await import("./evidenceFiles.js");
    const written = writeEvidence(userPath(evidenceFile), run, root, policies.pack, policies.catalog);
    console.log(`Evidence written to ${written.markdown} and ${written.json}`);
  }
  const errors = run.document.environments.flatMap((e) => e.errors);
  console.log(`Planned in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  const { findingsOf, groupViolations } = await import("./findings.js");
  const violations = groupViolations(run.document.environments.flatMap((e) => findingsOf(e.stacks)));
  const mandatory = violations.filter((v) => v.level === "mandatory").length;
  if (!switchFlag(flags, "no-policies")) {
    // After a plan error some stacks were not analyzed: no line that could read as a clean result.
    console.log(
      errors.length > 0
        ? `Policy findings: incomplete (${errors.length} plan error(s); stacks that failed were not analyzed): ${mandatory} mandatory among the stacks that did synthesize.`
        : `Policy findings: ${mandatory} mandatory, ${violations.length - mandatory} advisory (preview and as-deployed views).`,
    );
  }
  // A schema error is exit 2 with contract errors: the program ran, but what it would send does not
  // fit the interface its consumer (the API server, a CRD's structural schema) accepts.
  if (errors.some((e) => e.kind === "config" || e.kind === "contract" || e.kind === "schema")) {
    return EXIT.config;
  }
  if (errors.length > 0) {
    return EXIT.program;
  }
  return mandatory > 0 ? EXIT.policy : EXIT.ok;
}

/** `diff <base.json> <head.json> [--markdown <file>]`. */
async function runDiff(args: Args): Promise<number> {
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

function requiredFlag(flags: Flags, name: string, command: string): string {
  const v = stringFlag(flags, name);
  if (!v) {
    throw new UsageError(`--${name} is required`, command);
  }
  return v;
}

/** `policy-config --env <env>`: the generated `--policy-pack-config` of an environment. */
async function runPolicyConfig(args: Args): Promise<number> {
  const { mergeConfig, packConfigFor } = await import("./policy/config.js");
  const root = await rootOf(args.flags);
  const packDir = path.resolve(root, stringFlag(args.flags, "policy-pack") ?? DEFAULT_PACK);
  const topology = await topologyOf(root, requiredFlag(args.flags, "env", args.command));
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
  const { affectedStacks, ciStack } = await import("./ci.js");
  const { readPackageGraph } = await import("./workspace.js");
  const { discover } = await import("./discover.js");
  const root = await rootOf(args.flags);
  const changed = requiredFlag(args.flags, "changed", args.command);
  const files = (
    changed === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(userPath(changed), "utf8")
  ).split(/\r?\n/);
  const built = discover(root).layers;
  const graph = readPackageGraph(root);
  const include = (await environmentsOf(root, requiredFlag(args.flags, "env", args.command))).flatMap(
    (topology) =>
      affectedStacks(files, topology, { graph, builtLayers: built }).map((a) => ({
        ...ciStack(topology, a.id),
        reason: a.reason,
      })),
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
  const { LAYERS } = await import("@hcp/platform");
  const { deployPlan } = await import("./ci.js");
  const { discover } = await import("./discover.js");
  const root = await rootOf(args.flags);
  const plan = deployPlan(
    await topologyOf(root, requiredFlag(args.flags, "env", args.command)),
    discover(root).layers,
  );
  const layer = stringFlag(args.flags, "layer");
  if (layer !== undefined && !(LAYERS as readonly string[]).includes(layer)) {
    throw new UsageError(
      `unknown layer '${layer}'${didYouMean(layer, LAYERS)}; layers are ${LAYERS.join(", ")}`,
      args.command,
    );
  }
  const layers = layer ? plan.layers.filter((l) => l.layer === layer) : plan.layers;
  const format = stringFlag(args.flags, "format") ?? "json";
  if (format === "tsv") {
    // One stack per line, `<work dir>\t<stack name>`, for a shell loop; nothing for an unbuilt layer.
    emit(args.flags, layers.flatMap((l) => l.stacks.map((s) => `${s.workDir}\t${s.stackName}`)).join("\n"));
  } else if (format === "json") {
    emit(args.flags, JSON.stringify(layer ? { ...plan, layers } : plan, null, 2));
  } else {
    throw new UsageError(
      `--format is json or tsv, not '${format}'${didYouMean(format, ["json", "tsv"])}`,
      args.command,
    );
  }
  return EXIT.ok;
}

/** `environments`: `{ nonproduction: [...], production: [...] }` for the deploy workflow's matrices. */
async function runEnvironments(args: Args): Promise<number> {
  const { deployTargets } = await import("./ci.js");
  const root = await rootOf(args.flags);
  emit(args.flags, JSON.stringify(deployTargets(await environmentsOf(root, "all"))));
  return EXIT.ok;
}

/** `ci-setup --env <env>`: the GitHub and AWS settings CI needs for an environment. */
async function runCiSetup(args: Args): Promise<number> {
  const { ciSetupChecklist } = await import("./ci.js");
  const root = await rootOf(args.flags);
  emit(
    args.flags,
    ciSetupChecklist(await topologyOf(root, requiredFlag(args.flags, "env", args.command))).join("\n"),
  );
  return EXIT.ok;
}

const RUNNERS: Readonly<Record<string, (args: Args) => Promise<number>>> = {
  plan: (args) => runPlan(args.flags),
  diff: runDiff,
  audit: runAudit,
  "policy-config": runPolicyConfig,
  affected: runAffected,
  "deploy-order": runDeployOrder,
  environments: runEnvironments,
  "ci-setup": runCiSetup,
};

async function main(argv: readonly string[]): Promise<number> {
  try {
    const args = parseCommandLine(argv);
    return await RUNNERS[args.command](args);
  } catch (e) {
    if (e instanceof HelpRequest) {
      console.log(usage(e.command));
      return EXIT.ok;
    }
    if (e instanceof UsageError) {
      const command = e.command ?? "plan";
      console.error(`${e.message}\n\n${usage(command)}`);
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
