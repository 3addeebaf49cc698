import { containersOf, podTemplate, WORKLOAD_TYPES, workloadEvidence } from "../k8s";
import { type ResourceChecks, type Rule, resourceRule } from "../policy";
import { isPlaceholder, plaintextSecretFindings, SECRET_NAME } from "../secrets";
import type { ArgsOf, TypeToken } from "../types";

/**
 * Secrets hygiene: credentials live in Kubernetes Secrets (encrypted by EKS with a customer-managed
 * key) or Pulumi secrets, never in ConfigMaps or literal environment values, where anyone who can
 * read the manifest or the state sees them.
 */

const workloadEnvChecks: ResourceChecks<object> = Object.fromEntries(
  WORKLOAD_TYPES.map((type) => [
    type,
    (props: ArgsOf<typeof type>, { report }: { report: (m: string) => void }) => {
      for (const { container, path, label } of containersOf(podTemplate(type, props))) {
        (container.env ?? []).forEach((env, i) => {
          if (SECRET_NAME.test(env.name) && typeof env.value === "string" && !isPlaceholder(env.value)) {
            report(
              `${label} (${path}.env[${i}]) sets ${env.name} as a literal value: use valueFrom.secretKeyRef.`,
            );
          }
        });
      }
    },
  ]),
);

/** No plaintext secrets in ConfigMaps or container environment values. */
export const k8sNoPlaintextSecrets = resourceRule({
  name: "k8s-no-plaintext-secrets",
  concern: "secrets-hygiene",
  description:
    "Secrets (passwords, tokens, keys, credentials in URLs) must not be written in ConfigMaps or as literal container env values: put them in a Kubernetes Secret (from a Pulumi secret) and reference it (env valueFrom.secretKeyRef, a mounted Secret volume).",
  remediationSteps:
    "Move the value into a k8s Secret built from a Pulumi secret (random.RandomPassword, config --secret) and reference it; keep only non-secret settings in the ConfigMap.",
  severity: "critical",
  enforcementLevel: "mandatory",
  controls: {
    hipaa: ["164.312(a)(1)", "164.312(d)"],
    lgpd: ["Art. 46"],
    docs: ["https://kubernetes.io/docs/concepts/configuration/secret/"],
  },
  evidence: {
    properties: {
      ...workloadEvidence(["containers[].env", "initContainers[].env"]),
      "kubernetes:core/v1:ConfigMap": ["data", "binaryData"],
    },
  },
  checks: {
    ...workloadEnvChecks,
    "kubernetes:core/v1:ConfigMap": (props, { report }) => {
      for (const [field, data] of [
        ["data", props.data],
        ["binaryData", props.binaryData],
      ] as const) {
        for (const key of Object.keys(data ?? {})) {
          const value = data?.[key];
          if (typeof value !== "string") {
            continue;
          }
          const findings = plaintextSecretFindings(key, field === "binaryData" ? decode(value) : value);
          if (findings.length > 0) {
            report(`${field}['${key}'] holds a secret in plain text: ${findings.join(", ")}.`);
          }
        }
      }
    },
  } satisfies ResourceChecks<object>,
});

function decode(base64: string): string {
  return Buffer.from(base64, "base64").toString("utf8");
}

/** Types this concern examines. */
export const SECRETS_HYGIENE_TYPES: readonly TypeToken[] = [
  ...WORKLOAD_TYPES,
  "kubernetes:core/v1:ConfigMap",
];

/** The rules of this concern. */
export const secretsHygieneRules: readonly Rule[] = [k8sNoPlaintextSecrets];
