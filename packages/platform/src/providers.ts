import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/**
 * Explicit providers. Default providers are disabled for every project
 * (`pulumi:disable-default-providers: ["*"]` in each Pulumi.yaml), so every AWS and Kubernetes
 * resource must be given one of these.
 */

/** Arguments of {@link awsProvider}. */
export interface AwsProviderArgs {
  /** Region the provider manages. */
  readonly region: string;
  /** The environment's account; the provider refuses credentials for any other. */
  readonly accountId: string;
  /** Applied to every taggable resource as `defaultTags`. */
  readonly tags: Readonly<Record<string, string>>;
}

/** An AWS provider for one region of an environment's account, with the standard tags. */
export function awsProvider(
  name: string,
  args: AwsProviderArgs,
  opts?: pulumi.CustomResourceOptions,
): aws.Provider {
  return new aws.Provider(
    name,
    {
      region: args.region as aws.Region,
      allowedAccountIds: [args.accountId],
      defaultTags: { tags: { ...args.tags } },
    },
    opts,
  );
}

/** Arguments of {@link kubernetesProvider}. */
export interface KubernetesProviderArgs {
  /** Kubeconfig of the cluster (a secret output of the cluster layer). */
  readonly kubeconfig: pulumi.Input<string>;
}

/** A Kubernetes provider for a cluster of the platform. */
export function kubernetesProvider(
  name: string,
  args: KubernetesProviderArgs,
  opts?: pulumi.CustomResourceOptions,
): k8s.Provider {
  return new k8s.Provider(
    name,
    {
      kubeconfig: args.kubeconfig,
      // Server-side apply lets several field managers (controllers, Helm, Pulumi) share objects safely.
      enableServerSideApply: true,
    },
    opts,
  );
}
