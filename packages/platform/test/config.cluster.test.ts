import * as assert from "node:assert/strict";
import * as path from "node:path";
import { configNow } from "../src/config/clock";
import {
  DEFAULT_CLUSTER_VERSION,
  EKS_VERSIONS,
  eksCalendarEnd,
  eksStandardSupportVersions,
  eksSupportStatus,
} from "../src/config/eks";
import { keyPath, NAMESPACE, parseEnvironmentConfig } from "../src/config/parse";
import { ConfigError, type ConfigProblem, type ConfigWarning } from "../src/config/problems";
import { readStackConfigFile } from "../src/config/load";
import { validateEnvironment } from "../src/config/validate";

const repoRoot = path.resolve(__dirname, "../../..");

type Raw = Record<string, unknown>;

/** The namespace's raw values of a repository environment file (as the parser receives them). */
function repoRaw(environment: string): Raw {
  const { values } = readStackConfigFile(path.join(repoRoot, `Pulumi.${environment}.yaml`));
  const raw: Raw = {};
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith(`${NAMESPACE}:`)) {
      raw[key.slice(NAMESPACE.length + 1)] = structuredClone(value);
    }
  }
  return raw;
}

/** Sets a value at a path of plain objects/arrays. */
function set(root: Raw, segments: ReadonlyArray<string | number>, value: unknown): Raw {
  let cur = root as Record<string | number, unknown>;
  for (const s of segments.slice(0, -1)) {
    cur = cur[s] as Record<string | number, unknown>;
  }
  const last = segments[segments.length - 1];
  if (value === undefined) {
    delete cur[last];
  } else {
    cur[last] = value;
  }
  return root;
}

/** Problems of the rules this file covers (other rules' problems are ignored). */
function problemsAt(raw: Raw, now: Date, paths: readonly string[]): ConfigProblem[] {
  return validateEnvironment(raw, keyPath, now).filter((p) => paths.includes(p.path));
}

const VERSION = keyPath("cluster", "version");
const KUBE_PROXY = keyPath("cluster", "addons", "kubeProxy");
const nat = (i: number) => keyPath("regions", i, "natGateways");
const systemMin = (i: number) => keyPath("regions", i, "sizes", "nodeGroups", "system", "minSize");
const RULE_PATHS = [VERSION, KUBE_PROXY, nat(0), nat(1), systemMin(0), systemMin(1)];

const NOV_2026 = new Date("2026-11-23T12:00:00Z");

describe("EKS version calendar", () => {
  it("classifies a version by the instant it is judged at", () => {
    assert.equal(eksSupportStatus("1.34", new Date("2025-10-01T23:59:59Z")), "unreleased");
    assert.equal(eksSupportStatus("1.34", new Date("2025-10-02T00:00:00Z")), "standard");
    assert.equal(eksSupportStatus("1.34", new Date("2026-12-01T23:59:59Z")), "standard");
    assert.equal(eksSupportStatus("1.34", new Date("2026-12-02T00:00:00Z")), "extended");
    assert.equal(eksSupportStatus("1.34", new Date("2027-12-02T00:00:00Z")), "unsupported");
    assert.equal(eksSupportStatus("1.27", NOV_2026), "unknown");
  });

  it("lists the versions in standard support on a day", () => {
    assert.deepEqual(eksStandardSupportVersions(NOV_2026), ["1.34", "1.35"]);
    assert.deepEqual(eksStandardSupportVersions(new Date("2026-01-01T00:00:00Z")), ["1.32", "1.33", "1.34"]);
  });

  it("has 14-month standard and 12-month extended windows, in version order", () => {
    for (const [i, row] of EKS_VERSIONS.entries()) {
      const released = new Date(`${row.released}T00:00:00Z`);
      const standard = new Date(`${row.standardSupportEnds}T00:00:00Z`);
      const extended = new Date(`${row.extendedSupportEnds}T00:00:00Z`);
      const months = (a: Date, b: Date) =>
        (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
      assert.ok([13, 14].includes(months(released, standard)), `${row.version} standard window`);
      assert.equal(months(standard, extended), 12, `${row.version} extended window`);
      if (i > 0) {
        assert.ok(row.version > EKS_VERSIONS[i - 1].version);
      }
    }
    assert.ok(EKS_VERSIONS.some((v) => v.version === DEFAULT_CLUSTER_VERSION));
  });
});

describe("config rules: cluster version, kube-proxy, production capacity", () => {
  const cases: Array<{
    name: string;
    env: "production" | "staging";
    change: (raw: Raw) => Raw;
    now?: Date;
    expect: Array<{ path: string; received: RegExp; allowed: RegExp; fix: RegExp }>;
  }> = [
    { name: "production as committed", env: "production", change: (r) => r, expect: [] },
    { name: "staging as committed", env: "staging", change: (r) => r, expect: [] },
    {
      name: "a version that left standard support",
      env: "production",
      change: (r) =>
        set(set(r, ["cluster", "version"], "1.31"), ["cluster", "addons", "kubeProxy"], "v1.31.2-eksbuild.3"),
      expect: [
        {
          path: VERSION,
          received: /^"1\.31" \(left EKS standard support on 2025-11-26\)$/,
          allowed: /^a version in EKS standard support on 2026-11-23: 1\.34, 1\.35$/,
          fix: /^upgrade to 1\.35 one minor version at a time/,
        },
      ],
    },
    {
      name: "the default version once its standard support ended, past the calendar's last day",
      env: "staging",
      now: new Date("2027-03-27T00:00:00Z"),
      change: (r) =>
        set(
          set(r, ["cluster", "version"], undefined),
          ["cluster", "addons", "kubeProxy"],
          "v1.35.0-eksbuild.2",
        ),
      expect: [
        {
          path: VERSION,
          received: /^"1\.35" \(left EKS standard support on 2027-03-27\)$/,
          allowed:
            /^a version in EKS standard support on 2027-03-27; the calendar \(EKS_VERSIONS in packages\/platform\/src\/config\/eks\.ts\) knows none that day, it covers only until 2027-03-27$/,
          fix: /^add the versions EKS released since to EKS_VERSIONS in packages\/platform\/src\/config\/eks\.ts/,
        },
      ],
    },
    {
      name: "a version the table does not know",
      env: "staging",
      change: (r) =>
        set(set(r, ["cluster", "version"], "1.39"), ["cluster", "addons", "kubeProxy"], "v1.39.0-eksbuild.1"),
      expect: [
        {
          path: VERSION,
          received: /not in the EKS version table/,
          allowed: /1\.34, 1\.35/,
          fix: /add it with its calendar dates to EKS_VERSIONS in packages\/platform\/src\/config\/eks\.ts/,
        },
      ],
    },
    {
      name: "a version not yet released",
      env: "staging",
      now: new Date("2025-12-01T00:00:00Z"),
      change: (r) =>
        set(set(r, ["cluster", "version"], "1.35"), ["cluster", "addons", "kubeProxy"], "v1.35.0-eksbuild.1"),
      expect: [
        {
          path: VERSION,
          received: /not released on EKS before 2026-01-27/,
          allowed: /1\.32, 1\.33, 1\.34$/,
          fix: /upgrade to 1\.34/,
        },
      ],
    },
    {
      name: "kube-proxy built for another minor",
      env: "production",
      change: (r) => set(r, ["cluster", "addons", "kubeProxy"], "v1.33.3-eksbuild.6"),
      expect: [
        {
          path: KUBE_PROXY,
          received: /^"v1\.33\.3-eksbuild\.6"$/,
          allowed: /kube-proxy build for Kubernetes 1\.35 \(v1\.35\.x-eksbuild\.N\)/,
          fix: /describe-addon-versions --addon-name kube-proxy --kubernetes-version 1\.35/,
        },
      ],
    },
    {
      name: "a single NAT gateway in production",
      env: "production",
      change: (r) => set(r, ["regions", 1, "natGateways"], "single"),
      expect: [
        {
          path: nat(1),
          received: /^"single"$/,
          allowed: /^perAz in a production environment/,
          fix: /^set natGateways: perAz$/,
        },
      ],
    },
    {
      name: "a single NAT gateway in staging is fine",
      env: "staging",
      change: (r) => set(r, ["regions", 0, "natGateways"], "single"),
      expect: [],
    },
    {
      name: "one system node in production",
      env: "production",
      change: (r) => set(r, ["regions", 0, "sizes", "nodeGroups", "system", "minSize"], 1),
      expect: [
        {
          path: systemMin(0),
          received: /^1$/,
          allowed: /^at least 2 in a production environment/,
          fix: /^set minSize to 2$/,
        },
      ],
    },
    {
      name: "one system node in staging is fine",
      env: "staging",
      change: (r) => set(r, ["regions", 1, "sizes", "nodeGroups", "system", "minSize"], 1),
      expect: [],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const problems = problemsAt(c.change(repoRaw(c.env)), c.now ?? NOV_2026, RULE_PATHS);
      assert.equal(problems.length, c.expect.length, JSON.stringify(problems, null, 2));
      for (const [i, want] of c.expect.entries()) {
        const got = problems[i];
        assert.equal(got.path, want.path);
        assert.match(got.received, want.received);
        assert.match(got.allowed, want.allowed);
        assert.match(got.fix, want.fix);
      }
    });
  }

  it("warns, instead of refusing, about a version newer than the calendar once the calendar has run out", () => {
    const raw = set(
      set(repoRaw("staging"), ["cluster", "version"], "1.36"),
      ["cluster", "addons", "kubeProxy"],
      "v1.36.0-eksbuild.1",
    );
    const warnings: ConfigWarning[] = [];
    const pastCalendar = new Date(`${eksCalendarEnd()}T00:00:00Z`);
    const problems = validateEnvironment(raw, keyPath, pastCalendar, (w) => warnings.push(w));
    assert.deepEqual(
      problems.filter((p) => p.path === VERSION),
      [],
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].path, VERSION);
    assert.match(
      warnings[0].message,
      /1\.36 is not in the EKS version calendar, which covers standard support only until/,
    );
    assert.match(warnings[0].fix, /EKS_VERSIONS in packages\/platform\/src\/config\/eks\.ts/);
    // Inside the calendar the same version is refused: the table is authoritative while it lasts.
    const before = new Date(Date.parse(`${eksCalendarEnd()}T00:00:00Z`) - 86_400_000);
    assert.ok(validateEnvironment(raw, keyPath, before).some((p) => p.path === VERSION));
  });

  it("judges the committed environments at the pinned clock, not the machine's", () => {
    assert.equal(configNow().toISOString(), "2026-06-01T00:00:00.000Z", "mocha loads test-clock.cjs");
    assert.equal(configNow({ HCP_CONFIG_NOW: "2031-01-01" }).getUTCFullYear(), 2031);
    assert.throws(
      () => configNow({ HCP_CONFIG_NOW: "next tuesday" }),
      /HCP_CONFIG_NOW="next tuesday" is not a date\. Fix:/,
    );
  });

  it("reports every problem at once through the parser", () => {
    const raw = repoRaw("production");
    set(raw, ["cluster", "version"], "1.29");
    set(raw, ["regions", 0, "natGateways"], "single");
    set(raw, ["regions", 1, "sizes", "nodeGroups", "system", "minSize"], 0);
    const values: Record<string, unknown> = { "pulumi:disable-default-providers": ["*"] };
    for (const [key, value] of Object.entries(raw)) {
      values[`${NAMESPACE}:${key}`] = value;
    }
    let error: unknown;
    try {
      parseEnvironmentConfig("production", { values, secretKeys: new Set() }, "Pulumi.production.yaml");
    } catch (e) {
      error = e;
    }
    assert.ok(ConfigError.isInstance(error), String(error));
    const paths = error.problems.map((p) => p.path);
    for (const p of [VERSION, KUBE_PROXY, nat(0), systemMin(1)]) {
      assert.ok(paths.includes(p), `${p} missing from ${paths.join(", ")}`);
    }
  });
});
