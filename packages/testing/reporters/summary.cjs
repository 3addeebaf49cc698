// A mocha reporter: the spec reporter's output, plus, when HCP_TEST_SUMMARY names a file, a JSON
// summary of the run (passed count, failed and skipped tests with titles) for the root `pnpm test`
// runner (packages/testing/scripts/test-all.ts), which adds every suite up into one line.
//
// The reason of a skip is the `SKIPPED: <reason>` line a test, or the hook that skipped its suite,
// printed before calling `this.skip()` (the convention of skipBecause() in @hcp/testing).
"use strict";
const fs = require("node:fs");

// The mocha running this reporter is the package's own (resolved from where mocha was started).
const Mocha = require(require.resolve("mocha", { paths: [process.cwd()] }));
const { Spec } = Mocha.reporters;
const C = Mocha.Runner.constants;

const SKIP_LINE = /SKIPPED: (.+)/;

class Summary extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const result = { passed: 0, failed: [], skipped: [] };
    const reasons = new Map();
    let current;
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk, ...rest) => {
      const m = SKIP_LINE.exec(String(chunk));
      if (m && current) {
        reasons.set(current, m[1].trim());
      }
      return write(chunk, ...rest);
    };
    const reasonOf = (test) => {
      for (let r = test; r; r = r.parent) {
        if (reasons.has(r)) return reasons.get(r);
      }
      return "no reason given";
    };
    runner.on(C.EVENT_HOOK_BEGIN, (hook) => {
      // A "before all" hook that skips skips its whole suite; a "before each" hook, its test.
      current = /"(before|after) all"/.test(hook.title)
        ? hook.parent
        : (hook.ctx?.currentTest ?? hook.parent);
    });
    runner.on(C.EVENT_TEST_BEGIN, (test) => (current = test));
    runner.on(C.EVENT_TEST_PASS, () => result.passed++);
    runner.on(C.EVENT_TEST_FAIL, (test, err) =>
      result.failed.push({ title: test.fullTitle(), error: String(err?.message ?? err).split("\n")[0] }),
    );
    runner.on(C.EVENT_TEST_PENDING, (test) =>
      result.skipped.push({ title: test.fullTitle(), reason: reasonOf(test) }),
    );
    runner.once(C.EVENT_RUN_END, () => {
      process.stdout.write = write;
      const file = process.env.HCP_TEST_SUMMARY;
      if (file) {
        fs.writeFileSync(file, JSON.stringify(result));
      }
    });
  }
}

module.exports = Summary;
