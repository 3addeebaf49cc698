import type { SdkTypeInfo } from "./sdkTypes";
import { TYPE_OUTPUTS } from "./types";

/**
 * How the mocks make up what the cloud would compute. Every computed string embeds a token from
 * {@link MockResourceContext.token}; types whose computed outputs have a structure (EKS certificate
 * authority, Route 53 name servers, ...) have an entry in {@link TYPE_OUTPUTS}, everything else gets
 * generic values by property name.
 */

/** What an output generator knows about the resource being registered. */
export interface MockResourceContext {
  readonly type: string;
  /** Logical (Pulumi) name. */
  readonly name: string;
  /** Inputs with secrets unwrapped. */
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** Default tags of the resource's provider. */
  readonly providerTags: Readonly<Record<string, string>>;
  readonly sdk: SdkTypeInfo | undefined;
  /** A deterministic 17-hex token for an attribute. */
  token(attr: string): string;
  /** `name-<7 hex>`, as the engine auto-names a resource. */
  autoname(): string;
}

/** Computes a type's structured outputs. */
export type OutputsFn = (ctx: MockResourceContext) => Record<string, unknown>;

export function dnsSuffix(partition: string): string {
  return partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}

/** A regional ARN. */
export function arn(ctx: MockResourceContext, service: string, resource: string): string {
  return `arn:${ctx.partition}:${service}:${ctx.region}:${ctx.accountId}:${resource}`;
}

/** A global (region-less) ARN, as IAM uses. */
export function globalArn(ctx: MockResourceContext, service: string, resource: string): string {
  return `arn:${ctx.partition}:${service}::${ctx.accountId}:${resource}`;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function nameOr(ctx: MockResourceContext, prop = "name"): string {
  return str(ctx.inputs[prop]) ?? (str(ctx.inputs[`${prop}Prefix`]) ?? "") + ctx.autoname();
}

function serviceOf(type: string): string {
  return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

function kindOf(type: string): string {
  const t = type.split(":")[2] ?? "resource";
  return t.charAt(0).toLowerCase() + t.slice(1);
}

const ID_PREFIX: Record<string, string> = {
  vpc: "vpc",
  subnet: "subnet",
  securityGroup: "sg",
  routeTable: "rtb",
  internetGateway: "igw",
  natGateway: "nat",
  eip: "eipalloc",
  networkAcl: "acl",
  vpcEndpoint: "vpce",
  flowLog: "fl",
  launchTemplate: "lt",
  vpcPeeringConnection: "pcx",
  route: "r",
};

/** The physical id the mocks give a custom resource. */
export function mockId(ctx: MockResourceContext): string {
  const kind = kindOf(ctx.type);
  const pkg = ctx.type.split(":")[0];
  if (pkg === "aws" && ID_PREFIX[kind]) {
    return `${ID_PREFIX[kind]}-${ctx.token("id")}`;
  }
  if (pkg === "kubernetes") {
    const meta = obj(ctx.inputs["metadata"]);
    const ns = str(meta["namespace"]);
    const name = str(meta["name"]) ?? ctx.name;
    return ns ? `${ns}/${name}` : name;
  }
  const specific = ID_OVERRIDES[ctx.type];
  return specific ? specific(ctx) : `${kind}-${ctx.token("id")}`;
}

const ID_OVERRIDES: Record<string, (ctx: MockResourceContext) => string> = {
  "aws:s3/bucket:Bucket": (ctx) => bucketName(ctx),
  "aws:iam/role:Role": (ctx) => nameOr(ctx),
  "aws:cloudwatch/logGroup:LogGroup": (ctx) => nameOr(ctx),
  "aws:eks/cluster:Cluster": (ctx) => nameOr(ctx),
  "aws:ecr/repository:Repository": (ctx) => nameOr(ctx),
  "aws:kms/key:Key": (ctx) => kmsKeyId(ctx),
  "aws:kms/replicaKey:ReplicaKey": (ctx) => kmsKeyId(ctx),
  "aws:route53/zone:Zone": (ctx) => `Z${ctx.token("zoneId").toUpperCase()}`,
  "aws:guardduty/detector:Detector": (ctx) => guardDutyDetectorId(ctx.token("detectorId")),
};

/** A GuardDuty detector id: 32 lowercase hex characters. */
export function guardDutyDetectorId(hex: string): string {
  return `${hex}${"0".repeat(32 - hex.length)}`.slice(0, 32);
}

export function bucketName(ctx: MockResourceContext): string {
  const prefix = str(ctx.inputs["bucketPrefix"]);
  // S3 appends 26 characters to a bucket prefix; the engine appends "-<7 hex>" to a logical name.
  return (
    str(ctx.inputs["bucket"]) ??
    (prefix ? `${prefix}${ctx.autoname().slice(-7)}${"0".repeat(19)}` : ctx.autoname())
  );
}

export function kmsKeyId(ctx: MockResourceContext): string {
  const t = ctx.token("keyId");
  return ctx.inputs["multiRegion"] === true || ctx.type.endsWith("ReplicaKey")
    ? `mrk-${t}${"0".repeat(32 - t.length)}`
    : `${t}${"0".repeat(32 - t.length)}`;
}

/**
 * Structured computed outputs, by type. Each domain keeps its entries in `types/<domain>.ts`; see
 * `types/index.ts`.
 */
export { TYPE_OUTPUTS } from "./types";

/**
 * Computed outputs for a type: the structured ones from {@link TYPE_OUTPUTS}, then a generic value
 * for every other property the SDK marks as computed and the inputs do not set.
 */
export function computedOutputs(ctx: MockResourceContext): Record<string, unknown> {
  const pkg = ctx.type.split(":")[0];
  const out: Record<string, unknown> = { ...(TYPE_OUTPUTS[ctx.type]?.(ctx) ?? {}) };
  if (pkg === "kubernetes") {
    return { ...out, ...kubernetesOutputs(ctx) };
  }
  for (const prop of ctx.sdk?.computed ?? []) {
    if (prop in out || ctx.inputs[prop] !== undefined) {
      continue;
    }
    out[prop] = genericValue(ctx, prop);
  }
  return out;
}

function kubernetesOutputs(ctx: MockResourceContext): Record<string, unknown> {
  const meta = obj(ctx.inputs["metadata"]);
  const out: Record<string, unknown> = {};
  if (ctx.inputs["metadata"] !== undefined || ctx.sdk?.inputs.includes("metadata")) {
    out["metadata"] = {
      ...meta,
      name: str(meta["name"]) ?? ctx.autoname(),
      uid: ctx.token("uid"),
    };
  }
  const spec = obj(ctx.inputs["spec"]);
  if (ctx.type === "kubernetes:core/v1:Service" && spec["type"] === "LoadBalancer") {
    out["status"] = {
      loadBalancer: {
        ingress: [
          { hostname: `k8s-${ctx.token("lb").slice(0, 12)}.elb.${ctx.region}.${dnsSuffix(ctx.partition)}` },
        ],
      },
    };
  }
  return out;
}

function genericValue(ctx: MockResourceContext, prop: string): unknown {
  const service = serviceOf(ctx.type);
  if (prop === "tagsAll") {
    return { ...ctx.providerTags, ...obj(ctx.inputs["tags"]) };
  }
  if (prop === "arn") {
    return arn(ctx, service, `${kindOf(ctx.type)}/${ctx.token("arn")}`);
  }
  if (/Arns$/.test(prop)) {
    return [arn(ctx, service, `${prop}/${ctx.token(prop)}`)];
  }
  if (/Arn$/.test(prop)) {
    return arn(ctx, service, `${prop}/${ctx.token(prop)}`);
  }
  if (/Ids$/.test(prop)) {
    return [`${prop.replace(/Ids$/, "").toLowerCase()}-${ctx.token(prop)}`];
  }
  if (/Id$/.test(prop)) {
    return `${prop.replace(/Id$/, "").toLowerCase() || "id"}-${ctx.token(prop)}`;
  }
  if (/(Url|Uri)$/.test(prop)) {
    return `https://${ctx.token(prop)}.${service}.${ctx.region}.${dnsSuffix(ctx.partition)}`;
  }
  if (/(DnsName|Endpoint|Hostname|DomainName)$/i.test(prop)) {
    return `${ctx.token(prop)}.${service}.${ctx.region}.${dnsSuffix(ctx.partition)}`;
  }
  return `${prop}-${ctx.token(prop)}`;
}
