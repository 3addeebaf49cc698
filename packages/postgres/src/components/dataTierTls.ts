import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { inheritedDependsOn } from "@hcp/kube";
import { PGBACKREST_CLIENT_CN } from "../render";
import type { DataTierNames } from "../render/layout";

/** One certificate the CA issues. */
export interface CertificateRequest {
  /** Secret holding tls.crt, tls.key and ca.crt. */
  readonly secretName: string;
  readonly commonName: string;
  /** DNS names; empty for a client-only certificate. */
  readonly dnsNames: readonly string[];
  readonly usages: ReadonlyArray<"server auth" | "client auth">;
}

/** Secret names of the data tier's certificates (mounted by the pods that use them). */
export const DATA_TIER_TLS_SECRETS = {
  postgres: "postgres-tls",
  pgbouncer: "pgbouncer-tls",
  pgbackrestClient: "pgbackrest-client-tls",
} as const;

/**
 * The certificates of a region's data tier, the same in the primary and in a DR region: the
 * members' (server and client: replication and rewind connect as clients; every in-cluster and
 * replication name, including the region's stable `replicationHost`, so verify-full holds from any
 * region), PgBouncer's (server) and the pgBackRest client's (the TLS server's allow-listed CN).
 */
export function dataTierCertificates(
  names: DataTierNames,
  replicationHost: string,
): Readonly<Record<keyof typeof DATA_TIER_TLS_SECRETS, CertificateRequest>> {
  return {
    postgres: {
      secretName: DATA_TIER_TLS_SECRETS.postgres,
      commonName: names.hosts.primary,
      dnsNames: [
        names.services.primary,
        `${names.services.primary}.${names.namespace}`,
        names.hosts.primary,
        names.hosts.replicas,
        names.hosts.membersWildcard,
        names.hosts.membersWildcard.slice(2),
        names.hosts.replication,
        replicationHost,
      ],
      usages: ["server auth", "client auth"],
    },
    pgbouncer: {
      secretName: DATA_TIER_TLS_SECRETS.pgbouncer,
      commonName: names.hosts.pgbouncer,
      dnsNames: [
        names.services.pgbouncer,
        `${names.services.pgbouncer}.${names.namespace}`,
        names.hosts.pgbouncer,
      ],
      usages: ["server auth"],
    },
    pgbackrestClient: {
      secretName: DATA_TIER_TLS_SECRETS.pgbackrestClient,
      commonName: PGBACKREST_CLIENT_CN,
      dnsNames: [],
      usages: ["client auth"],
    },
  };
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
  /** Common name of the tier's CA, e.g. `hcp-data-production-sa-east-1-ca`. */
  readonly caCommonName: string;
  /**
   * Validity of the CA certificate, years; it is replaced during its last year.
   * @default 10
   */
  readonly caValidityYears?: number;
  /**
   * `generate`: the component generates the CA (the primary region). `existing`: it uses a CA that
   * already exists (a DR region uses the environment's CA, read from the escrow secret's replica),
   * so every region's certificates chain to one CA and a cluster verifies any other region's
   * (verify-full) with the `ca.crt` it already has.
   * @default - `{ kind: "generate" }`
   */
  readonly ca?: { readonly kind: "generate" } | ExistingCa;
  /**
   * Keep a copy of the generated CA (certificate and key) in a Secrets Manager secret replicated to
   * the DR regions, where their DR stacks read it to sign their own certificates.
   * @default - no copy
   */
  readonly caEscrow?: CaEscrowArgs;
}

/** A CA that already exists. */
export interface ExistingCa {
  readonly kind: "existing";
  readonly certificatePem: pulumi.Input<string>;
  /** Secret input. */
  readonly privateKeyPem: pulumi.Input<string>;
}

/** Where the generated CA is kept for the DR regions. */
export interface CaEscrowArgs {
  /** Secrets Manager name, e.g. `hcp/production/data/ca`. */
  readonly secretName: string;
  /** KMS key of the secret (the data key). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** DR region -> the data key's replica there. */
  readonly replicas: Readonly<Record<string, pulumi.Input<string>>>;
  readonly protect: boolean;
  /** Days a deleted secret stays recoverable. @default 30 */
  readonly recoveryWindowDays?: number;
}

/** The JSON the CA escrow secret holds. */
export interface CaEscrowValue {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

const CERT_MANAGER = "cert-manager.io/v1";

/** Secret with the CA's certificate and key, which the CA Issuer signs with. */
const CA_SECRET = "data-ca-keypair";

/**
 * The tier's certificates: a CA generated by the program (its certificate is public and exported),
 * given to a cert-manager CA Issuer that signs the PostgreSQL, PgBouncer and pgBackRest
 * certificates. Every Secret carries `ca.crt`, which is what the members and clients verify each
 * other with (verify-full).
 */
export class DataTierTls extends pulumi.ComponentResource {
  /** The generated CA certificate (`undefined` with an existing CA). */
  readonly caCertificate: tls.SelfSignedCert | undefined;
  /** The escrow secret (`undefined` without `caEscrow`). */
  readonly caEscrowSecret: aws.secretsmanager.Secret | undefined;
  /** PEM of the CA certificate (public part): what clients verify the servers against. */
  readonly caCertificatePem: pulumi.Output<string>;
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
    // The CA is generated by Pulumi (not by a cert-manager self-signed Issuer) so that its public
    // certificate is known to the program and can be published in the layer's contract: a DR standby
    // and the applications verify the servers against it (verify-full). Its private key lives in the
    // stack state, encrypted by the stack's KMS secrets provider, and in the keypair Secret below.
    const years = args.caValidityYears ?? 10;
    const ca = args.ca ?? { kind: "generate" };
    let caKeyPem: pulumi.Output<string>;
    if (ca.kind === "existing") {
      this.caCertificate = undefined;
      this.caCertificatePem = pulumi.output(ca.certificatePem);
      caKeyPem = pulumi.secret(ca.privateKeyPem);
    } else {
      const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, after());
      this.caCertificate = new tls.SelfSignedCert(
        `${name}-ca-cert`,
        {
          privateKeyPem: caKey.privateKeyPem,
          isCaCertificate: true,
          subject: { commonName: args.caCommonName, organization: "healthcare-platform" },
          validityPeriodHours: years * 8766,
          // Replaced by the first `pulumi up` in its last year; leaf certificates are then reissued
          // (and the DR stacks, which deploy after this one, pick the new CA up from the escrow).
          earlyRenewalHours: 8766,
          allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        },
        after(caKey),
      );
      this.caCertificatePem = this.caCertificate.certPem;
      caKeyPem = caKey.privateKeyPem;
    }
    this.caEscrowSecret = undefined;
    if (args.caEscrow) {
      if (ca.kind === "existing") {
        throw new Error(
          `DataTierTls ${name}: caEscrow keeps a generated CA; an existing CA has its escrow already.`,
        );
      }
      const escrow = args.caEscrow;
      const secret = new aws.secretsmanager.Secret(
        `${name}-ca-escrow`,
        {
          name: escrow.secretName,
          description: "CA of the data tier (certificate and private key), for the DR regions' certificates",
          kmsKeyId: escrow.kmsKeyArn,
          recoveryWindowInDays: escrow.recoveryWindowDays ?? 30,
          replicas: Object.entries(escrow.replicas).map(([region, kmsKeyId]) => ({ region, kmsKeyId })),
          tags: { DataClassification: "confidential" },
        },
        { ...after(), protect: escrow.protect },
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-ca-escrow`,
        {
          secretId: secret.id,
          secretString: pulumi.jsonStringify({
            certificatePem: this.caCertificatePem,
            privateKeyPem: caKeyPem,
          } satisfies Record<keyof CaEscrowValue, pulumi.Input<string>>),
        },
        after(),
      );
      this.caEscrowSecret = secret;
    }
    const keypair = new k8s.core.v1.Secret(
      `${name}-ca-keypair`,
      {
        metadata: { name: CA_SECRET, namespace: ns },
        type: "kubernetes.io/tls",
        stringData: {
          "tls.crt": this.caCertificatePem,
          "tls.key": caKeyPem,
          "ca.crt": this.caCertificatePem,
        },
      },
      after(),
    );
    this.caIssuer = new k8s.apiextensions.CustomResource(
      `${name}-ca-issuer`,
      {
        apiVersion: CERT_MANAGER,
        kind: "Issuer",
        metadata: { name: "data-ca", namespace: ns },
        spec: { ca: { secretName: CA_SECRET } },
      },
      after(keypair),
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
    this.registerOutputs({ caCertificatePem: this.caCertificatePem });
  }
}
