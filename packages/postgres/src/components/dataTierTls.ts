import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";

/** One certificate the CA issues. */
export interface CertificateRequest {
  /** Secret holding tls.crt, tls.key and ca.crt. */
  readonly secretName: string;
  readonly commonName: string;
  /** DNS names; empty for a client-only certificate. */
  readonly dnsNames: readonly string[];
  readonly usages: ReadonlyArray<"server auth" | "client auth">;
}

/** Arguments of {@link DataTierTls}. */
export interface DataTierTlsArgs {
  readonly namespace: pulumi.Input<string>;
  /** Certificates to issue, by key. */
  readonly certificates: Readonly<Record<string, CertificateRequest>>;
  /**
   * Lifetime of the issued certificates, hours. PostgreSQL, PgBouncer and pgBackRest read their
   * certificate at start/reload: the renewal window leaves weeks for the reload the runbook does.
   * @default 8760 (one year), renewed 720 hours (30 days) before expiry
   */
  readonly durationHours?: number;
}

const CERT_MANAGER = "cert-manager.io/v1";

/**
 * A CA chain local to the namespace (cert-manager): a self-signed Issuer signs the namespace CA,
 * whose CA Issuer signs the PostgreSQL, PgBouncer and pgBackRest certificates. Every Secret carries
 * `ca.crt`, which is what the members and clients verify each other with (verify-full).
 */
export class DataTierTls extends pulumi.ComponentResource {
  readonly caIssuer: k8s.apiextensions.CustomResource;
  readonly certificates: Readonly<Record<string, k8s.apiextensions.CustomResource>>;

  constructor(name: string, args: DataTierTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:postgres:DataTierTls", name, {}, opts);
    const after = (...local: pulumi.Resource[]) => ({
      parent: this,
      dependsOn: inheritedDependsOn(opts, ...local),
    });
    const ns = args.namespace;
    const ecdsa = { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" };
    const selfSigned = new k8s.apiextensions.CustomResource(
      `${name}-selfsigned`,
      {
        apiVersion: CERT_MANAGER,
        kind: "Issuer",
        metadata: { name: "data-selfsigned", namespace: ns },
        spec: { selfSigned: {} },
      },
      after(),
    );
    const ca = new k8s.apiextensions.CustomResource(
      `${name}-ca`,
      {
        apiVersion: CERT_MANAGER,
        kind: "Certificate",
        metadata: { name: "data-ca", namespace: ns },
        spec: {
          isCA: true,
          commonName: "hcp-data-ca",
          secretName: "data-ca",
          duration: "87600h",
          renewBefore: "8760h",
          privateKey: ecdsa,
          issuerRef: { name: "data-selfsigned", kind: "Issuer", group: "cert-manager.io" },
        },
      },
      after(selfSigned),
    );
    this.caIssuer = new k8s.apiextensions.CustomResource(
      `${name}-ca-issuer`,
      {
        apiVersion: CERT_MANAGER,
        kind: "Issuer",
        metadata: { name: "data-ca", namespace: ns },
        spec: { ca: { secretName: "data-ca" } },
      },
      after(ca),
    );
    const hours = args.durationHours ?? 8760;
    this.certificates = Object.fromEntries(
      Object.entries(args.certificates).map(([key, cert]) => [
        key,
        new k8s.apiextensions.CustomResource(
          `${name}-${key}`,
          {
            apiVersion: CERT_MANAGER,
            kind: "Certificate",
            metadata: { name: cert.secretName, namespace: ns },
            spec: {
              secretName: cert.secretName,
              commonName: cert.commonName,
              ...(cert.dnsNames.length > 0 ? { dnsNames: [...cert.dnsNames] } : {}),
              usages: ["digital signature", "key encipherment", ...cert.usages],
              duration: `${hours}h`,
              renewBefore: `${Math.min(720, Math.floor(hours / 3))}h`,
              privateKey: ecdsa,
              issuerRef: { name: "data-ca", kind: "Issuer", group: "cert-manager.io" },
            },
          },
          after(this.caIssuer),
        ),
      ]),
    );
    this.registerOutputs({});
  }
}
