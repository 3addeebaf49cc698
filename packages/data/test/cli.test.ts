import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main, parseRenderArgs } from "../src/cli/render";

function run(argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(
    argv,
    os.tmpdir(),
    (m: string) => out.push(m),
    (m: string) => err.push(m),
  );
  return { code, out, err };
}

describe("render CLI", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-render-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes the four artifacts and the SQL files for a primary region", () => {
    const { code, out } = run(["--env", "staging", "--region", "sa-east-1", "--out", dir]);
    assert.equal(code, 0);
    for (const f of ["patroni.yml", "pgbouncer.ini", "pgbackrest.conf", "sql/110-audit-hypertables.sql"]) {
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    }
    assert.match(out.join("\n"), /rendered staging\/sa-east-1/);
    assert.match(
      fs.readFileSync(path.join(dir, "patroni.yml"), "utf8"),
      /password: \$\{PATRONI_SUPERUSER_PASSWORD\}/,
    );
  });

  it("resolves a relative --out against the caller's directory", () => {
    assert.equal(parseRenderArgs(["--env", "a", "--region", "b", "--out", "x/y"], "/work").out, "/work/x/y");
  });

  const errors: ReadonlyArray<readonly [string, string[], RegExp]> = [
    [
      "an unknown environment",
      ["--env", "nope", "--region", "sa-east-1"],
      /unknown environment 'nope'.*Known environments: .*production/,
    ],
    [
      "a region outside the environment",
      ["--env", "staging", "--region", "eu-west-1"],
      /eu-west-1 is not part of environment staging/,
    ],
    [
      "a DR region",
      ["--env", "production", "--region", "us-east-1"],
      /us-east-1 is a dr region of production\. Fix: use sa-east-1/,
    ],
    ["missing options", ["--env", "production"], /missing --region, --out/],
    ["an unknown option", ["--env", "production", "--region", "sa-east-1", "--bogus", "1"], /bogus/],
  ];
  for (const [label, args, message] of errors) {
    it(`exits 2 with a clear message on ${label}`, () => {
      const argv = args.includes("--out") || label === "missing options" ? args : [...args, "--out", dir];
      const { code, err } = run(argv);
      assert.equal(code, 2);
      assert.match(err.join("\n"), message);
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  }
});
