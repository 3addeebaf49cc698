import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, readStackConfigFile } from "../src";

const STAGING = path.join(__dirname, "..", "..", "..", "Pulumi.staging.yaml");

/** The 1-based number of the first line of the staging file matching `re`, and its indentation. */
function lineOf(lines: readonly string[], re: RegExp): { line: number; indent: number } {
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matches ${re}`);
  return { line: i + 1, indent: lines[i].length - lines[i].trimStart().length };
}

/** The single problem reading the staging file with one line changed reports. */
function syntaxProblem(edit: (lines: string[]) => void): string {
  const lines = fs.readFileSync(STAGING, "utf8").split("\n");
  edit(lines);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-yaml-"));
  const file = path.join(dir, "Pulumi.staging.yaml");
  fs.writeFileSync(file, lines.join("\n"));
  try {
    readStackConfigFile(file);
  } catch (e) {
    assert.ok(ConfigError.isInstance(e), String(e));
    assert.equal(e.problems.length, 1, e.message);
    return e.message.split("\n")[1];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.fail("the file was read without an error");
}

describe("YAML syntax errors in a stack config file", () => {
  const lines = fs.readFileSync(STAGING, "utf8").split("\n");

  it("names the line of a key indented one step too deep (the parser reports the line before)", () => {
    const az = lineOf(lines, /^\s+azCount:/);
    const problem = syntaxProblem((l) => {
      l[az.line - 1] = `  ${l[az.line - 1]}`;
    });
    assert.equal(
      problem,
      `  - line ${az.line}, column ${az.indent + 3}: got a key indented deeper than the key before it; ` +
        "allowed: YAML 1.2 (a Pulumi stack configuration file); fix: indent it exactly like the keys next to it",
    );
  });

  it("names the line and column of an unclosed [ (the parser reports the line after)", () => {
    const types = lineOf(lines, /instanceTypes: \[/);
    const problem = syntaxProblem((l) => {
      l[types.line - 1] = l[types.line - 1].replace("]", "");
    });
    const column = lines[types.line - 1].indexOf("[") + 1;
    assert.match(
      problem,
      new RegExp(
        `^  - line ${types.line}, column ${column}: got a flow sequence \\(\\[\\) that starts here and is never closed with \\]; `,
      ),
    );
  });

  it("names the opening quote of an unclosed string", () => {
    const owner = lineOf(lines, /healthcare-platform:owner:/);
    const problem = syntaxProblem((l) => {
      l[owner.line - 1] = l[owner.line - 1].replace(/owner: (\S)/, 'owner: "$1');
    });
    const column = lines[owner.line - 1].indexOf("owner: ") + "owner: ".length + 1;
    assert.match(
      problem,
      new RegExp(
        `^  - line ${owner.line}, column ${column}: got a quoted string that starts here and is never closed;`,
      ),
    );
  });

  it("names a duplicate key where it repeats, without stray punctuation from the parser", () => {
    const role = lineOf(lines, /^\s+role:/);
    const problem = syntaxProblem((l) => {
      l.splice(role.line, 0, `${" ".repeat(role.indent)}role: dr`);
    });
    assert.equal(
      problem,
      `  - line ${role.line + 1}, column ${role.indent + 1}: got a key defined a second time in the same mapping; ` +
        "allowed: YAML 1.2 (a Pulumi stack configuration file); fix: remove one of the two entries, or rename one",
    );
    assert.doesNotMatch(problem, /:;|\^/);
  });

  it("names the line of a tab used for indentation", () => {
    const az = lineOf(lines, /^\s+azCount:/);
    const problem = syntaxProblem((l) => {
      l[az.line - 1] = `\t${l[az.line - 1].trimStart()}`;
    });
    assert.match(problem, new RegExp(`^  - line ${az.line}, column 1: got a tab used for indentation; `));
  });

  it("reads the repository's files without a syntax error", () => {
    assert.ok(readStackConfigFile(STAGING).values["healthcare-platform:tier"]);
  });
});
