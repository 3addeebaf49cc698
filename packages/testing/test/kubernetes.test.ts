import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { readStackConfigFile } from "@hcp/platform";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  CORE_MODELS,
  CRD_MODEL_PACKAGES,
  formatSchemaReport,
  isKubernetesObject,
  modelModule,
  type ProgramRun,
  repoRoot,
  runProgram,
  validateKubernetesObjects,
} from "../src";

/** Runs `objects` as a program (under a kubernetes provider) as a preview or a deployment. */
async function run(objects: (provider: k8s.Provider) => void, preview = true): Promise<ProgramRun> {
  return runProgram({
    project: "p",
    stack: "staging-sa-east-1",
    searchPaths: [__dirname],
    preview,
    program: () => {
      objects(new k8s.Provider("k8s", { kubeconfig: "{}" }));
    },
  });
}

const deploymentSpec = {
  replicas: 2,
  selector: { matchLabels: { app: "api" } },
  template: {
    metadata: { labels: { app: "api" } },
    spec: {
      containers: [{ name: "api", image: "registry.example/api:1.0.0", ports: [{ containerPort: 8443 }] }],
    },
  },
};

const certificateSpec = {
  secretName: "api-tls",
  dnsNames: ["api.hcp.svc"],
  issuerRef: { name: "ca", kind: "Issuer", group: "cert-manager.io" },
  privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
};

function certificate(provider: k8s.Provider, name: string, spec: Record<string, unknown>) {
  return new k8s.apiextensions.CustomResource(
    name,
    { apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name, namespace: "hcp-api" }, spec },
    { provider },
  );
}

describe("Kubernetes objects against the upstream schema", () => {
  it("accepts valid core objects and custom resources, and checks nothing that is not an object", async () => {
    const r = await run((provider) => {
      new k8s.apps.v1.Deployment(
        "api",
        { metadata: { namespace: "hcp-api" }, spec: deploymentSpec },
        { provider },
      );
      certificate(provider, "api-tls", certificateSpec);
      new k8s.storage.v1.StorageClassPatch(
        "gp2",
        {
          metadata: { name: "gp2", annotations: { "storageclass.kubernetes.io/is-default-class": "false" } },
        },
        { provider },
      );
    });
    const checked = r.resources.filter(isKubernetesObject).map((x) => x.type);
    assert.deepEqual(checked.sort(), [
      "kubernetes:apps/v1:Deployment",
      "kubernetes:cert-manager.io/v1:Certificate",
      "kubernetes:storage.k8s.io/v1:StorageClassPatch",
    ]);
    assert.deepEqual(await validateKubernetesObjects(r.resources), []);
  });

  it("fails a misspelt field in a Certificate with its path, the object and the closest field", async () => {
    const { dnsNames, ...rest } = certificateSpec;
    const r = await run((provider) => {
      certificate(provider, "api-tls", {
        ...rest,
        dnsName: dnsNames,
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicyy: "Always" },
      });
    });
    const [report, ...more] = await validateKubernetesObjects(r.resources);
    assert.equal(more.length, 0);
    assert.equal(report.kind, "Certificate");
    assert.equal(report.namespace, "hcp-api");
    assert.equal(report.name, "api-tls");
    assert.match(
      report.urn,
      /^urn:pulumi:staging-sa-east-1::p::kubernetes:cert-manager.io\/v1:Certificate::api-tls$/,
    );
    assert.deepEqual(report.problems, [
      { path: "spec.dnsName", message: "unknown field (did you mean dnsNames?)" },
      { path: "spec.privateKey.rotationPolicyy", message: "unknown field (did you mean rotationPolicy?)" },
    ]);
    const text = formatSchemaReport(report);
    assert.match(
      text,
      /cert-manager.io\/v1 Certificate hcp-api\/api-tls \(urn:pulumi:.*\) does not match its schema/,
    );
    assert.match(text, /@kubernetes-models\/cert-manager 6\.0\.0/);
  });

  it("fails a misspelt field and a wrong type in a Deployment, deep in the pod template", async () => {
    const { replicas, ...withoutReplicas } = deploymentSpec;
    const bad = {
      ...withoutReplicas,
      replicass: replicas,
      template: {
        ...deploymentSpec.template,
        spec: {
          containers: [{ name: "api", image: "i", ports: [{ containerPort: "8443", protocl: "TCP" }] }],
          restartPolicy: "Sometimes",
        },
      },
    };
    const r = await run((provider) => {
      new k8s.apps.v1.Deployment(
        "api",
        {
          metadata: { namespace: "hcp-api" },
          spec: bad as unknown as k8s.types.input.apps.v1.DeploymentSpec,
        },
        { provider },
      );
    });
    const [report] = await validateKubernetesObjects(r.resources);
    assert.equal(report.kind, "Deployment");
    assert.equal(report.name, "api", "auto-named objects are named by their Pulumi name");
    assert.deepEqual(
      report.problems.map((p) => `${p.path}: ${p.message}`),
      [
        "spec.template.spec.containers[0].ports[0].containerPort: must be of type integer",
        'spec.template.spec.restartPolicy: must be one of "Always", "Never", "OnFailure"',
        "spec.replicass: unknown field (did you mean replicas?)",
        "spec.template.spec.containers[0].ports[0].protocl: unknown field (did you mean protocol?)",
      ],
    );
  });

  it("reports a missing required field, except in a patch", async () => {
    const r = await run((provider) => {
      certificate(provider, "no-issuer", { secretName: "s", dnsNames: ["a"] });
      new k8s.apps.v1.DeploymentPatch(
        "patch",
        { metadata: { name: "x" }, spec: { replicas: 3 } },
        { provider },
      );
    });
    const reports = await validateKubernetesObjects(r.resources);
    assert.deepEqual(
      reports.map((x) => [x.name, x.problems]),
      [["no-issuer", [{ path: "spec.issuerRef", message: "is required" }]]],
    );
  });

  it("does not fail values that are unknown in a preview (whole required objects included)", async () => {
    const objects = (provider: k8s.Provider) => {
      const suffix = new random.RandomString(
        "suffix",
        { length: 6, special: false, upper: false },
        { provider: new random.Provider("random") },
      );
      // `result` is computed by the provider: unknown in a preview of a new stack.
      certificate(provider, "api-tls", {
        ...certificateSpec,
        secretName: suffix.result,
        commonName: suffix.result,
        issuerRef: suffix.result.apply(() => certificateSpec.issuerRef),
      });
      new k8s.apps.v1.Deployment(
        "api",
        {
          metadata: { namespace: "hcp-api" },
          spec: {
            ...deploymentSpec,
            replicas: suffix.length,
            selector: { matchLabels: { app: suffix.result } },
          },
        },
        { provider },
      );
    };
    const preview = await run(objects, true);
    const cert = preview.resources.find((x) => x.name === "api-tls")!;
    const spec = cert.wireInputs["spec"] as Record<string, unknown>;
    assert.equal(spec["secretName"], pulumi.runtime.unknownValue);
    assert.equal(spec["issuerRef"], pulumi.runtime.unknownValue);
    assert.deepEqual(await validateKubernetesObjects(preview.resources), []);
    assert.deepEqual(await validateKubernetesObjects((await run(objects, false)).resources), []);
  });

  it("checks a secret's content without showing it", async () => {
    const password = "s3cr3t-value-never-printed";
    const r = await run((provider) => {
      new k8s.core.v1.Secret(
        "creds",
        {
          metadata: { namespace: "hcp-api" },
          stringData: { password: pulumi.secret(password) },
          // A secret where the schema wants an object: reported at the secret, content not shown.
          immutable: pulumi.secret({ password }) as unknown as boolean,
        },
        { provider },
      );
    });
    const [report] = await validateKubernetesObjects(r.resources);
    assert.ok(report, "the wrongly typed secret field is reported");
    const text = formatSchemaReport(report);
    assert.match(text, /immutable: must be of type boolean/);
    assert.doesNotMatch(text, /s3cr3t/);
  });

  it("fails an object of an API group no package models, saying where to register it", async () => {
    const r = await run((provider) => {
      new k8s.apiextensions.CustomResource(
        "rollout",
        { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", metadata: { name: "api" }, spec: {} },
        { provider },
      );
      new k8s.apiextensions.CustomResource(
        "typo-kind",
        { apiVersion: "cert-manager.io/v1", kind: "Certificat", metadata: { name: "x" }, spec: {} },
        { provider },
      );
    });
    const reports = await validateKubernetesObjects(r.resources);
    assert.equal(reports.length, 2);
    assert.match(
      reports[0].problems[0].message,
      /no schema is registered for API group "argoproj.io".*CRD_MODEL_PACKAGES/,
    );
    assert.match(
      reports[1].problems[0].message,
      /@kubernetes-models\/cert-manager 6\.0\.0 .* has no cert-manager.io\/v1 Certificat/,
    );
  });

  it("has a model for every kind the later layers are designed to create", async () => {
    const designed: Array<[string, string]> = [
      ["monitoring.coreos.com/v1", "ServiceMonitor"],
      ["monitoring.coreos.com/v1", "PodMonitor"],
      ["monitoring.coreos.com/v1", "PrometheusRule"],
      ["external-secrets.io/v1", "ExternalSecret"],
      ["external-secrets.io/v1", "ClusterSecretStore"],
      ["security.istio.io/v1", "PeerAuthentication"],
      ["security.istio.io/v1", "AuthorizationPolicy"],
      ["cert-manager.io/v1", "ClusterIssuer"],
    ];
    for (const [apiVersion, kind] of designed) {
      const module = modelModule(apiVersion, kind);
      assert.ok(module, `${apiVersion} ${kind} has a package`);
      const mod = (await import(module.specifier)) as Record<string, { kind?: string }>;
      assert.equal(mod[kind]?.kind, kind, module.specifier);
    }
    assert.ok(Object.keys(CRD_MODEL_PACKAGES).every((g) => g.includes(".")));
  });
});

describe("Kubernetes schema sources against the environments' pins", () => {
  /** `1.35` / `v1.19.1` → [1, 35] / [1, 19]: the minor version a schema describes. */
  const minor = (v: string) => v.replace(/^v/, "").split(".").slice(0, 2).map(Number) as [number, number];
  const atLeast = (a: [number, number], b: [number, number]) =>
    a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]);
  const environments = fs
    .readdirSync(repoRoot())
    .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
    .map(
      (f) =>
        readStackConfigFile(path.join(repoRoot(), f)).values["healthcare-platform:cluster"] as {
          version?: string;
          charts?: { certManager?: { version?: string } };
        },
    );

  it("models the cluster's Kubernetes minor (or a newer one) and cert-manager's chart minor (or a newer one)", () => {
    assert.ok(environments.length > 0);
    for (const cluster of environments) {
      // An older model would flag fields the cluster serves as unknown; see the README's table for
      // what a newer model lets through.
      assert.ok(
        atLeast(minor(CORE_MODELS.upstreamVersion), minor(cluster.version ?? "0.0")),
        `cluster.version ${cluster.version} is newer than ${CORE_MODELS.package} ${CORE_MODELS.packageVersion} (Kubernetes ${CORE_MODELS.upstreamVersion}): update the model package`,
      );
      const certManager = CRD_MODEL_PACKAGES["cert-manager.io"];
      assert.ok(
        atLeast(minor(certManager.upstreamVersion), minor(cluster.charts?.certManager?.version ?? "0.0")),
        `cert-manager chart ${cluster.charts?.certManager?.version} is newer than ${certManager.package} (${certManager.upstreamVersion}): update the model package`,
      );
    }
  });

  it("states the versions the installed packages really are", () => {
    const sources = [CORE_MODELS, ...new Set(Object.values(CRD_MODEL_PACKAGES))];
    for (const source of sources) {
      const manifest = JSON.parse(
        fs.readFileSync(
          path.join(repoRoot(), "packages", "testing", "node_modules", source.package, "package.json"),
          "utf8",
        ),
      ) as { version: string };
      assert.equal(manifest.version, source.packageVersion, source.package);
    }
    const own = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const source of sources) {
      assert.equal(
        own.dependencies[source.package],
        source.packageVersion,
        `${source.package} is pinned exactly`,
      );
    }
  });
});
