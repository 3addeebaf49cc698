import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "@hcp/testing";
import { discover } from "../src/discover";

/**
 * The README's commands, as a newcomer runs them: every command of its `sh` blocks and every inline
 * `pnpm ...` command is either run here, from the repository root, exactly as written (placeholders
 * such as `<env>` replaced by each environment of the repository), or listed below as not run, with
 * the reason. Files they write must be what they claim (JSON parses) and land in ignored places.
 */

const ROOT = repoRoot();
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** Commands of the `sh` code blocks (continuations joined, comments dropped) and inline commands. */
export function readmeCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const fenced = blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, " ")
      .split("\n")
      .map((line) => line.replace(/(^|\s+)#\s.*$/, "").trim())
      .filter((line) => line !== ""),
  );
  const inline = [...markdown.replace(/^```[\s\S]*?^```$/gm, "").matchAll(/`([^`\n]+)`/g)]
    .map((m) => m[1].trim())
    // A command has arguments; `pnpm plan` or `pnpm <script>` in prose is a name.
    .filter((c) => /^(pnpm|mkdir) \S+ \S+/.test(c));
  return [...new Set([...fenced, ...inline])];
}

/** Commands not run here, and why. */
const NOT_RUN: ReadonlyArray<{ readonly match: RegExp; readonly reason: string }> = [
  { match: /^\.ci\/setup( --system)? && pnpm test$/, reason: "the whole suite: this test is part of it" },
  { match: /^\.ci\/setup && pnpm -s plan --env /, reason: "sets up the machine and plans every stack" },
  { match: /^pnpm install --frozen-lockfile$/, reason: "installs: already done to run this test" },
  {
    match: /^pnpm (-s )?plan --env /,
    reason: "plans every stack (minutes); pnpm test runs pnpm plan --env all",
  },
  {
    match: /^pnpm dr (promote|failback|fence)\b/,
    reason:
      "moves the database writer between regions through the environment's Patroni REST API (packages/dr's tests run it against simulated leaders)",
  },
  {
    match: /^(pulumi |export PULUMI_|SECRETS=|for stack in |\(cd packages\/|done$)/,
    reason: "needs the Pulumi CLI and the environment's AWS account",
  },
];

/** Commands run here: cheap subcommands of the plan tool. */
const RUN =
  /^(mkdir -p out && )?pnpm -s plan ((policy-config|deploy-order|environments|ci-setup|affected) |([a-z-]+ )?--help$)/;

const ENVIRONMENTS = discover(ROOT).environments;

function instances(command: string): string[] {
  if (!/<(env|name|environment)>/.test(command)) {
    return [command];
  }
  return ENVIRONMENTS.map((e) => command.replace(/<(env|name|environment)>/g, e));
}

describe("README commands", function () {
  this.timeout(180_000);
  const commands = readmeCommands(README);
  const outDir = path.join(ROOT, "out");
  const hadOut = fs.existsSync(outDir);
  const written = new Set<string>();

  after(() => {
    for (const file of written) {
      fs.rmSync(file, { force: true });
    }
    if (!hadOut && fs.existsSync(outDir) && fs.readdirSync(outDir).length === 0) {
      fs.rmdirSync(outDir);
    }
  });

  it("finds the README's commands, and knows each one: run here, or not run for a stated reason", () => {
    assert.ok(commands.length >= 10, `found ${commands.length} commands`);
    const unknown = commands.filter((c) => !RUN.test(c) && !NOT_RUN.some((n) => n.match.test(c)));
    assert.deepEqual(unknown, [], "every README command is run here or listed in NOT_RUN with a reason");
    assert.ok(commands.filter((c) => RUN.test(c)).length >= 3);
  });

  it("redirects or pipes only silent pnpm output (no `> tsx ...` banner in the file)", () => {
    for (const c of commands.filter((x) => /pnpm [^|>]*[|>]/.test(x.replace(/<[^>]*>/g, "")))) {
      assert.match(c, /pnpm -s /, c);
    }
  });

  it("writes output files only under the git-ignored out/ folder", () => {
    const ignore = fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n");
    assert.ok(ignore.includes("/out/"));
    for (const c of commands) {
      for (const m of c.matchAll(/(?:--out|--json|>) (\S+)/g)) {
        assert.match(m[1], /^out\//, `${c}: writes ${m[1]}`);
      }
    }
  });

  const runs = [
    ...new Set(
      readmeCommands(README)
        .filter((c) => RUN.test(c))
        .flatMap(instances),
    ),
  ];
  for (const instance of runs) {
    it(`runs as written: ${instance}`, () => {
      const r = spawnSync("bash", ["-o", "pipefail", "-c", instance], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, `${instance}\n${r.stderr}`);
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, /ELIFECYCLE/);
      const targets = [...instance.matchAll(/(?:--out|>) (\S+)/g)].map((m) => path.join(ROOT, m[1]));
      for (const file of targets) {
        written.add(file);
        const text = fs.readFileSync(file, "utf8");
        if (file.endsWith(".json")) {
          assert.doesNotThrow(() => JSON.parse(text) as unknown, `${file} is JSON`);
        }
      }
      if (targets.length === 0) {
        assert.notEqual(r.stdout.trim(), "", "prints something");
      }
    });
  }
});
