/**
 * VPC endpoints: which AWS services nodes and pods reach without leaving the VPC, so image pulls,
 * credentials, keys, logs and secrets do not depend on NAT and never cross the internet.
 */

/** Interface endpoint services (the last part of `com.amazonaws.<region>.<service>`). */
export const INTERFACE_ENDPOINT_SERVICES = [
  "ecr.api",
  "ecr.dkr",
  "sts",
  "kms",
  "logs",
  "secretsmanager",
  "ec2",
  "elasticloadbalancing",
  "autoscaling",
  "eks-auth",
] as const;

/** One interface endpoint service. */
export type InterfaceEndpointService = (typeof INTERFACE_ENDPOINT_SERVICES)[number];

/** HTTPS: the only port interface endpoints serve. */
export const ENDPOINT_PORT = 443;

/**
 * The endpoint service name: `<reverse DNS prefix>.<region>.<service>`, e.g.
 * `com.amazonaws.sa-east-1.ecr.api`. The prefix comes from the provider's partition.
 */
export function endpointServiceName(reverseDnsPrefix: string, region: string, service: string): string {
  return `${reverseDnsPrefix}.${region}.${service}`;
}

/** A resource-name-safe form of a service (`ecr.api` -> `ecr-api`). */
export function endpointKey(service: string): string {
  return service.replace(/[^a-z0-9]+/g, "-");
}
