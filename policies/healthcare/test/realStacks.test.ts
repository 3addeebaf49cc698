import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type EnvironmentTopology,
  LAYER_SPECS,
  type LayerName,
  primaryRegion,
  stackId,
  stackLabel,
} from "@hcp/platform";
import { layerProgram, type ProgramRun, type RegisteredResource, repoTopology, runLayer } from "@hcp/testing";
import { policyConfigFor, RULES } from "../src/lib";
import { storageClassProblem } from "../src/policies/observability";
import { type Diagnostic, type Fixture, Analyzer } from "./harness";

/**
 * The pack against this repository's real stacks: every layer program that exists is run for each
 * region it runs in, as a preview of a new stack (computed values unknown, as `pulumi preview
 * --policy-pack` sees them) and as a deployed stack (every value known, as a later preview or an
 * audit of a stack export sees them: rules that could not decide on unknowns decide here), and its
 * resources go through Analyze and AnalyzeStack with the environment's policy config. There must be
 * no mandatory violation other than the layer defects listed below, which are reported to the layer
 * owners; the list must shrink, never hide a new violation.
 */

/**
 * Known violations caused by layer code (`<policy> <resource name>`), while the layer owners fix
 * them. Empty: the data tier's writable root filesystems (k8s-restricted-security-context on the
 * Patroni, pgBackRest, PgBouncer and bootstrap containers), found by this test, were fixed in the
 * layer. An entry that no longer occurs fails the test, so the list cannot go stale.
 */
const KNOWN_LAYER_DEFECTS: ReadonlySet<string> = new Set<string>([]);

function defectKey(f: { diagnostic: Diagnostic; urn: string }): string {
  return `${f.diagnostic.policyName} ${f.urn.split("::").pop() ?? ""}`;
}

const ORG = "organization";

function layerExists(layer: LayerName): boolean {
  return fs.existsSync(layerProgram(layer));
}

type Mode = "preview" | "deployed";

async function synthesize(
  mode: Mode,
  layer: LayerName,
  topology: EnvironmentTopology,
  region?: string,
): Promise<ProgramRun> {
  return runLayer({
    layer,
    topology,
    ...(region ? { region } : {}),
    organization: ORG,
    preview: mode === "preview",
  });
}

/** A registered resource as the engine describes it to analyzers (inputs, or state for AnalyzeStack). */
function fixture(
  r: RegisteredResource,
  byUrn: ReadonlyMap<string, RegisteredResource>,
  state: boolean,
): Fixture {
  const p = r.provider ? byUrn.get(r.provider) : undefined;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: state ? r.wireOutputs : r.wireInputs,
    provider: p ? { type: p.type, name: p.name, urn: p.urn, props: p.wireInputs } : undefined,
    protect: r.options.protect,
    ignoreChanges: r.options.ignoreChanges,
    parent: r.parent,
    dependencies: r.dependencies,
    propertyDependencies: r.propertyDependencies,
  };
}

interface Finding {
  readonly stack: string;
  readonly diagnostic: Diagnostic;
  readonly urn: string;
}

async function analyze(analyzer: Analyzer, label: string, run: ProgramRun): Promise<Finding[]> {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const findings: Finding[] = [];
  for (const r of run.resources.filter((x) => !x.read)) {
    const result = await analyzer.analyze(fixture(r, byUrn, false));
    findings.push(...result.diagnostics.map((d) => ({ stack: label, diagnostic: d, urn: r.urn })));
  }
  const stack = await analyzer.analyzeStack(run.resources.map((r) => fixture(r, byUrn, true)));
  findings.push(...stack.diagnostics.map((d) => ({ stack: label, diagnostic: d, urn: d.urn })));
  return findings;
}

/** Replaces text in every string of a wire value. */
function rewrite(value: unknown, from: RegExp, to: string): unknown {
  if (typeof value === "string") {
    return value.replace(from, to);
  }
  if (Array.isArray(value)) {
    return value.map((v) => rewrite(v, from, to));
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, from, to)]));
  }
  return value;
}

/**
 * The content rules really see the data tier's rendered configuration: weakening it (a non-TLS
 * pg_hba line, one full backup) in the real resources makes them fail.
 */
async function expectSensitive(analyzer: Analyzer, topology: EnvironmentTopology): Promise<void> {
  await analyzer.configure(policyConfigFor(topology));
  try {
    const run = await synthesize("deployed", "data", topology, primaryRegion(topology).name);
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const mutations: Array<[RegExp, string, string]> = [
      [/\bhostssl\b/g, "host", "postgres-hba-tls-only"],
      [/(repo\d+-retention-full)=\d+/g, "$1=1", "backup-retention-minimum"],
    ];
    for (const [from, to, policy] of mutations) {
      const targets = run.resources.filter((r) => from.test(JSON.stringify(r.wireInputs)));
      assert.ok(targets.length > 0, `no resource of the data stack renders ${from}`);
      for (const target of targets) {
        const mutated = {
          ...fixture(target, byUrn, false),
          props: rewrite(target.wireInputs, from, to) as Record<string, unknown>,
        };
        const result = await analyzer.analyze(mutated);
        assert.ok(
          result.diagnostics.some((d) => d.policyName === policy && d.enforcementLevel === "mandatory"),
          `${policy} did not catch ${from} -> ${to} in ${target.name}`,
        );
      }
    }
  } finally {
    await analyzer.configure({});
  }
}

function show(f: Finding): string {
  const message = f.diagnostic.message.split("\n").slice(1).join(" ") || f.diagnostic.message;
  return `${f.stack} [${f.diagnostic.enforcementLevel}] ${f.diagnostic.policyName} ${f.urn.split("::").pop() ?? ""}: ${message}`;
}

describe("the repository's stacks", function () {
  this.timeout(600_000);

  const runs: ReadonlyArray<readonly ["production" | "staging", Mode]> = [
    ["production", "preview"],
    ["staging", "preview"],
    ["production", "deployed"],
  ];
  for (const [env, mode] of runs) {
    it(`${env} (${mode}): no mandatory violation in any layer that exists, except known layer defects`, async () => {
      const analyzer = await Analyzer.start();
      const topology = repoTopology(env);
      await analyzer.configure(policyConfigFor(topology));
      const findings: Finding[] = [];
      const stacks: string[] = [];
      try {
        for (const layer of ["environment", "network", "cluster", "data"] as const) {
          if (!layerExists(layer)) {
            continue;
          }
          const spec = LAYER_SPECS[layer];
          const regions =
            spec.runsIn === undefined
              ? [undefined]
              : topology.regions.filter((r) => spec.runsIn?.includes(r.role)).map((r) => r.name);
          for (const region of regions) {
            const label = stackLabel(stackId(layer, topology.name, region));
            const run = await synthesize(mode, layer, topology, region);
            stacks.push(`${label} (${run.resources.length} resources)`);
            findings.push(...(await analyze(analyzer, label, run)));
          }
        }
      } finally {
        await analyzer.configure({});
      }
      const report = path.join(__dirname, "..", ".types", `real-stacks-${env}-${mode}.txt`);
      fs.mkdirSync(path.dirname(report), { recursive: true });
      fs.writeFileSync(report, [...stacks, "", ...findings.map(show)].join("\n") + "\n");
      assert.ok(
        stacks.some((s) => s.startsWith(`healthcare-platform/${env}`)),
        "the environment stack ran",
      );
      assert.ok(primaryRegion(topology));
      const mandatory = findings.filter((f) => f.diagnostic.enforcementLevel === "mandatory");
      const unexpected = mandatory.filter((f) => !KNOWN_LAYER_DEFECTS.has(defectKey(f)));
      assert.deepEqual(unexpected.map(show), [], `mandatory violations (all findings in ${report})`);
      const stale = [...KNOWN_LAYER_DEFECTS].filter((k) => !mandatory.some((f) => defectKey(f) === k));
      assert.deepEqual(stale, [], "fixed in the layer: remove from KNOWN_LAYER_DEFECTS");
      if (mode === "deployed") {
        // Every value is known: no rule may be left undecided.
        const undecided = findings.filter((f) => f.diagnostic.message.includes("during preview"));
        assert.deepEqual(undecided.map(show), []);
      }
      if (mode === "deployed" && layerExists("data")) {
        await expectSensitive(analyzer, topology);
      }
    });
  }
});

/** A copy of a wire value with `value` at the dotted `path` (objects created on the way). */
function withValue(root: unknown, path: string, value: unknown): unknown {
  const [head, ...rest] = path.split(".");
  const obj = typeof root === "object" && root !== null ? (root as Record<string, unknown>) : {};
  return { ...obj, [head]: rest.length === 0 ? value : withValue(obj[head], rest.join("."), value) };
}

function ruleDefault<T>(rule: string, key: string): T {
  const found = RULES.find((r) => r.policy.name === rule);
  assert.ok(found, rule);
  return found.defaults[key] as T;
}

describe("the observability stack's objects through grafana-not-public and monitoring-pvc-encrypted", function () {
  this.timeout(600_000);
  const topology = repoTopology("production");
  const region = primaryRegion(topology).name;

  it("accepts by name only classes the cluster layer defines encrypted (k8s-storage-class-encrypted's terms)", async () => {
    const run = await synthesize("deployed", "cluster", topology, region);
    const classes = new Map(
      run.resources
        .filter((r) => r.type === "kubernetes:storage.k8s.io/v1:StorageClass")
        .map((r) => {
          const props = r.wireInputs as Parameters<typeof storageClassProblem>[0];
          return [props.metadata?.name ?? r.name, props] as const;
        }),
    );
    const listed = ruleDefault<string[]>("monitoring-pvc-encrypted", "encryptedStorageClasses");
    const provisioners = ruleDefault<string[]>("monitoring-pvc-encrypted", "ebsProvisioners");
    assert.ok(listed.length > 0);
    for (const name of listed) {
      const props = classes.get(name);
      assert.ok(
        props,
        `the cluster layer defines no StorageClass '${name}' (it defines ${[...classes.keys()].join(", ")})`,
      );
      assert.equal(storageClassProblem(props, provisioners), undefined, name);
    }
  });

  it("passes the stack as it is and fails it with a public Grafana or a claim on another class", async () => {
    const analyzer = await Analyzer.start();
    await analyzer.configure(policyConfigFor(topology));
    try {
      const run = await synthesize("deployed", "observability", topology, region);
      const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
      const resources = run.resources.map((r) => fixture(r, byUrn, true));
      const chart = resources.find(
        (f) => f.type === "kubernetes:helm.sh/v4:Chart" && f.props["chart"] === "kube-prometheus-stack",
      );
      assert.ok(chart, "the observability stack deploys kube-prometheus-stack");
      const ours = (ds: readonly Diagnostic[], policy: string) =>
        ds.filter((d) => d.policyName === policy).map((d) => `[${d.enforcementLevel}] ${d.message}`);
      const asIs = await analyzer.analyzeStack(resources);
      assert.deepEqual(ours(asIs.diagnostics, "grafana-not-public"), []);
      assert.deepEqual(ours(asIs.diagnostics, "monitoring-pvc-encrypted"), []);
      const mutations: Array<[string, unknown, string, RegExp]> = [
        [
          "grafana.service.type",
          "LoadBalancer",
          "grafana-not-public",
          /values\.grafana\.service\.type is 'LoadBalancer'/,
        ],
        [
          "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName",
          "gp2",
          "monitoring-pvc-encrypted",
          /values\.prometheus\.prometheusSpec\.storageSpec\.volumeClaimTemplate\.spec\.storageClassName is 'gp2'/,
        ],
        [
          "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName",
          undefined,
          "monitoring-pvc-encrypted",
          /values\.alertmanager\.alertmanagerSpec\.storage\.volumeClaimTemplate\.spec\.storageClassName is not set/,
        ],
      ];
      for (const [path, value, policy, message] of mutations) {
        const mutated = resources.map((f) =>
          f === chart
            ? { ...f, props: { ...f.props, values: withValue(f.props["values"], path, value) } }
            : f,
        );
        const found = ours((await analyzer.analyzeStack(mutated)).diagnostics, policy);
        assert.ok(
          found.some((m) => m.startsWith("[mandatory]") && message.test(m)),
          `${policy} did not catch values.${path} = ${String(value)}: ${found.join("; ") || "(nothing)"}`,
        );
      }
    } finally {
      await analyzer.configure({});
    }
  });
});
