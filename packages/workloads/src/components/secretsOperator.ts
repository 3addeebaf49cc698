import type * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn, PodIdentityRole, RestrictedNamespace } from "@hcp/kube";
import { INTERNET, POD_IDENTITY_AGENT, SECRET_STORE } from "../services";

/** Namespace and service account of the External Secrets Operator. */
export const ESO = { namespace: "external-secrets", serviceAccount: "external-secrets" } as const;

/** Arguments of {@link SecretsOperator}. */
export interface SecretsOperatorArgs {
  /** The `external-secrets` chart, at an exact version (`workloads.charts.externalSecrets`). */
  readonly chart: { readonly repository: string; readonly version: string };
  readonly kubernetesVersion: string;
  readonly clusterName: pulumi.Input<string>;
  /** Region of the Secrets Manager the store reads. */
  readonly region: string;
  /** Secrets (ARNs) the operator may read: the data tier's credentials, the application secrets. */
  readonly secretArns: pulumi.Input<pulumi.Input<string>[]>;
  /** KMS keys those secrets are encrypted with (decrypt through Secrets Manager only). */
  readonly kmsKeyArns: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * CIDRs of the VPC's private subnets: the control plane's ENIs (the API server's webhook calls,
   * the cluster endpoint) and the interface VPC endpoints (Secrets Manager, STS) live there. Not the
   * whole VPC: the public subnets hold the internet-facing ALB's nodes.
   */
  readonly privateSubnetCidrs: readonly string[];
}

/**
 * The External Secrets Operator (chart pinned in config) in its own restricted namespace, its Pod
 * Identity role (read exactly the listed secrets, decrypt through Secrets Manager only) and the
 * region's ClusterSecretStore (`external-secrets.io/v1`; the v1beta1 API is no longer served by
 * ESO 0.17 and later). Workloads' ExternalSecrets reference {@link SECRET_STORE}.
 */
export class SecretsOperator extends pulumi.ComponentResource {
  readonly role: PodIdentityRole;
  readonly store: k8s.apiextensions.CustomResource;

  constructor(name: string, args: SecretsOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:workloads:SecretsOperator", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const pods = { "app.kubernetes.io/instance": name };
    const namespace = new RestrictedNamespace(
      `${name}-namespace`,
      {
        name: ESO.namespace,
        kubernetesVersion: args.kubernetesVersion,
        policies: {
          operator: {
            pods,
            // The API server calls the admission webhook from the control plane's ENIs (private subnets).
            ingress: [{ peers: args.privateSubnetCidrs.map((cidr) => ({ cidr })), ports: [10250] }],
            egress: [
              { peers: args.privateSubnetCidrs.map((cidr) => ({ cidr })), ports: [443] },
              { peers: [INTERNET], ports: [443] },
              { peers: [{ cidr: POD_IDENTITY_AGENT.cidr }], ports: [POD_IDENTITY_AGENT.port] },
            ],
          },
        },
      },
      child,
    );
    this.role = new PodIdentityRole(
      `${name}-identity`,
      {
        clusterName: args.clusterName,
        namespace: ESO.namespace,
        serviceAccounts: [ESO.serviceAccount],
        description: "External Secrets Operator: reads the workloads' secrets from Secrets Manager",
        inlinePolicy: () =>
          pulumi.all([args.secretArns, args.kmsKeyArns]).apply(([secrets, keys]): aws.iam.PolicyDocument => ({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "ReadWorkloadSecrets",
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                Resource: secrets,
              },
              {
                Sid: "DecryptThroughSecretsManager",
                Effect: "Allow",
                Action: ["kms:Decrypt"],
                Resource: keys,
                Condition: {
                  StringEquals: { "kms:ViaService": `secretsmanager.${args.region}.amazonaws.com` },
                },
              },
            ],
          })),
      },
      child,
    );
    const chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: "external-secrets",
        version: args.chart.version,
        repositoryOpts: { repo: args.chart.repository },
        namespace: namespace.name,
        values: {
          installCRDs: true,
          fullnameOverride: name,
          serviceAccount: { create: true, name: ESO.serviceAccount },
          podLabels: pods,
          webhook: { podLabels: pods },
          certController: { podLabels: pods },
        },
      },
      { parent: this, dependsOn: inheritedDependsOn(opts, namespace, this.role) },
    );
    this.store = new k8s.apiextensions.CustomResource(
      `${name}-store`,
      {
        apiVersion: "external-secrets.io/v1",
        kind: "ClusterSecretStore",
        metadata: { name: SECRET_STORE },
        // No auth block: the controller's own credentials (Pod Identity) are used.
        spec: { provider: { aws: { service: "SecretsManager", region: args.region } } },
      },
      { parent: this, dependsOn: inheritedDependsOn(opts, chart) },
    );
    this.registerOutputs({});
  }
}
