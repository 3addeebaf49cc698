/**
 * Where the schema of each Kubernetes API group comes from. Built-in groups (the core group, groups
 * without a dot, `*.k8s.io`) use `kubernetes-models`; a custom resource's group must be registered
 * here with the `@kubernetes-models/*` package that models its CRDs. Adding a CRD package is one
 * line in {@link CRD_MODEL_PACKAGES} (and the dependency in this package's package.json).
 */

/** A model package and the upstream release it was generated from (see the README's table). */
export interface SchemaSource {
  /** npm package (pinned exactly in package.json). */
  readonly package: string;
  readonly packageVersion: string;
  /** What the package's schemas were generated from. */
  readonly upstream: string;
  readonly upstreamVersion: string;
}

/** The models of the built-in Kubernetes API. */
export const CORE_MODELS: SchemaSource = {
  package: "kubernetes-models",
  packageVersion: "5.1.0",
  upstream: "Kubernetes OpenAPI",
  upstreamVersion: "1.36.0",
};

const CERT_MANAGER: SchemaSource = {
  package: "@kubernetes-models/cert-manager",
  packageVersion: "6.0.0",
  upstream: "cert-manager Go API types",
  upstreamVersion: "v1.20.2",
};
const PROMETHEUS_OPERATOR: SchemaSource = {
  package: "@kubernetes-models/prometheus-operator",
  packageVersion: "6.0.0",
  upstream: "prometheus-operator Go API types",
  upstreamVersion: "v0.91.0",
};
const EXTERNAL_SECRETS: SchemaSource = {
  package: "@kubernetes-models/external-secrets",
  packageVersion: "2.0.0",
  upstream: "external-secrets Go API types",
  upstreamVersion: "v0.16.2",
};
const ISTIO: SchemaSource = {
  package: "@kubernetes-models/istio",
  packageVersion: "3.0.1",
  upstream: "Istio CRDs (crd-all.gen.yaml)",
  upstreamVersion: "1.29.2",
};

/** API group of a custom resource → the package modelling it. One line per group. */
export const CRD_MODEL_PACKAGES: Readonly<Record<string, SchemaSource>> = {
  "cert-manager.io": CERT_MANAGER,
  "acme.cert-manager.io": CERT_MANAGER,
  "monitoring.coreos.com": PROMETHEUS_OPERATOR,
  "external-secrets.io": EXTERNAL_SECRETS,
  "generators.external-secrets.io": EXTERNAL_SECRETS,
  "security.istio.io": ISTIO,
  "networking.istio.io": ISTIO,
  "telemetry.istio.io": ISTIO,
};

/** True for an API group served by Kubernetes itself (modelled by `kubernetes-models`). */
export function isBuiltInGroup(group: string): boolean {
  return group === "" || !group.includes(".") || group.endsWith(".k8s.io");
}

/** The model module of `apiVersion` + `kind`, or `undefined` when no package covers the group. */
export function modelModule(
  apiVersion: string,
  kind: string,
): { readonly specifier: string; readonly source: SchemaSource } | undefined {
  const slash = apiVersion.lastIndexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (isBuiltInGroup(group)) {
    const dir = group === "" ? version : `${group}/${version}`;
    return { specifier: `${CORE_MODELS.package}/${dir}/${kind}`, source: CORE_MODELS };
  }
  const source = CRD_MODEL_PACKAGES[group];
  return source ? { specifier: `${source.package}/${group}/${version}/${kind}`, source } : undefined;
}
