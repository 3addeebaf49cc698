import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError } from "@hcp/platform";
import { repoRoot } from "@hcp/testing";
import { planEnvironments } from "./plan";
import { summary } from "./report";

/**
 * `pnpm plan --env <name|all> [--json <file>] [--concurrency <n>] [--verbose]`
 *
 * Exit codes: 0 ok; 2 configuration or contract errors (a bad Pulumi.<env>.yaml, an unknown
 * environment, a consumer reading an output its producer does not export); 3 a program failed for
 * another reason.
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
    const arg = rest[i]!;
    if (!arg.startsWith("--")) {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
    const [key, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    if (inline !== undefined) {
      flags.set(key, inline);
    } else if (i + 1 < rest.length && !rest[i + 1]!.startsWith("--")) {
      flags.set(key, rest[++i]!);
    } else {
      flags.set(key, true);
    }
  }
  return { command, flags };
}

class UsageError extends Error {}

const USAGE = `usage: pnpm plan --env <environment|all> [--json <file>] [--concurrency <n>] [--verbose]`;

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
  const started = Date.now();
  const run = await planEnvironments({
    root: repoRoot(),
    env,
    ...(concurrency ? { concurrency: Number(concurrency) } : {}),
    onStack: (stack, outcome, ms) =>
      console.error(`  ${outcome === "ok" ? "✓" : "✗"} ${stack} (${(ms / 1000).toFixed(1)} s)`),
  });
  console.log(summary(run.document, flags.has("verbose")));
  if (jsonFile) {
    fs.writeFileSync(path.resolve(jsonFile), `${JSON.stringify(run.document, null, 2)}\n`);
    console.log(`Plan written to ${jsonFile}`);
  }
  const errors = run.document.environments.flatMap((e) => e.errors);
  console.log(`Planned in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (errors.some((e) => e.kind === "config" || e.kind === "contract")) {
    return EXIT.config;
  }
  return errors.length > 0 ? EXIT.program : EXIT.ok;
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

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(EXIT.program);
    },
  );
}
