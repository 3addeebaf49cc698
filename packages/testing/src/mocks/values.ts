import { rpcSecret } from "../secrets";
import type { SdkTypeInfo } from "./sdkTypes";

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
  /** A deterministic 17-hex token for an attribute, recorded as computed in this stack. */
  token(attr: string): string;
  /** `name-<7 hex>`, as the engine auto-names a resource (known at preview time, not recorded). */
  autoname(): string;
  /** Records a computed value that carries no token (e.g. an ARN built from a name) and returns it. */
  computed<T extends string>(value: T): T;
}

type OutputsFn = (ctx: MockResourceContext) => Record<string, unknown>;

function dnsSuffix(partition: string): string {
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

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function nameOr(ctx: MockResourceContext, prop = "name"): string {
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
};

function bucketName(ctx: MockResourceContext): string {
  const prefix = str(ctx.inputs["bucketPrefix"]);
  // S3 appends 26 characters to a bucket prefix; the engine appends "-<7 hex>" to a logical name.
  return (
    str(ctx.inputs["bucket"]) ??
    (prefix ? `${prefix}${ctx.autoname().slice(-7)}${"0".repeat(19)}` : ctx.autoname())
  );
}

function kmsKeyId(ctx: MockResourceContext): string {
  const t = ctx.token("keyId");
  return ctx.inputs["multiRegion"] === true || ctx.type.endsWith("ReplicaKey")
    ? `mrk-${t}${"0".repeat(32 - t.length)}`
    : `${t}${"0".repeat(32 - t.length)}`;
}

/** Structured computed outputs of the types the layers read them from. */
export const TYPE_OUTPUTS: Record<string, OutputsFn> = {
  "aws:kms/key:Key": (ctx) => {
    const keyId = kmsKeyId(ctx);
    return { keyId, arn: arn(ctx, "kms", `key/${keyId}`) };
  },
  "aws:kms/replicaKey:ReplicaKey": (ctx) => {
    const keyId = kmsKeyId(ctx);
    return { keyId, arn: arn(ctx, "kms", `key/${keyId}`) };
  },
  "aws:kms/alias:Alias": (ctx) => ({ arn: arn(ctx, "kms", str(ctx.inputs["name"]) ?? "alias/mock") }),
  "aws:s3/bucket:Bucket": (ctx) => {
    const bucket = bucketName(ctx);
    return {
      bucket,
      arn: ctx.computed(`arn:${ctx.partition}:s3:::${bucket}`),
      bucketDomainName: `${bucket}.s3.${dnsSuffix(ctx.partition)}`,
      bucketRegionalDomainName: `${bucket}.s3.${ctx.region}.${dnsSuffix(ctx.partition)}`,
      region: ctx.region,
    };
  },
  "aws:iam/role:Role": (ctx) => {
    const name = nameOr(ctx);
    const p = str(ctx.inputs["path"]) ?? "/";
    return {
      name,
      arn: ctx.computed(globalArn(ctx, "iam", `role${p}${name}`)),
      uniqueId: `AROA${ctx.token("uid").toUpperCase()}`,
    };
  },
  "aws:iam/policy:Policy": (ctx) => {
    const name = nameOr(ctx);
    return {
      name,
      arn: ctx.computed(globalArn(ctx, "iam", `policy/${name}`)),
      policyId: `ANPA${ctx.token("pid").toUpperCase()}`,
    };
  },
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (ctx) => ({
    arn: ctx.computed(
      globalArn(ctx, "iam", `oidc-provider/${(str(ctx.inputs["url"]) ?? "").replace(/^https:\/\//, "")}`),
    ),
  }),
  "aws:cloudwatch/logGroup:LogGroup": (ctx) => {
    const name = nameOr(ctx);
    return { name, arn: ctx.computed(arn(ctx, "logs", `log-group:${name}`)) };
  },
  "aws:route53/zone:Zone": (ctx) => {
    const zoneId = `Z${ctx.token("zoneId").toUpperCase()}`;
    return {
      zoneId,
      arn: `arn:${ctx.partition}:route53:::hostedzone/${zoneId}`,
      nameServers: [1, 2, 3, 4].map((i) => `ns-${i}${ctx.token(`ns${i}`).slice(0, 3)}.awsdns-${i}.net`),
    };
  },
  "aws:ecr/repository:Repository": (ctx) => {
    const name = nameOr(ctx);
    return {
      name,
      arn: ctx.computed(arn(ctx, "ecr", `repository/${name}`)),
      registryId: ctx.accountId,
      repositoryUrl: ctx.computed(
        `${ctx.accountId}.dkr.ecr.${ctx.region}.${dnsSuffix(ctx.partition)}/${name}`,
      ),
    };
  },
  "aws:cloudtrail/trail:Trail": (ctx) => {
    const name = nameOr(ctx);
    return { name, arn: ctx.computed(arn(ctx, "cloudtrail", `trail/${name}`)), homeRegion: ctx.region };
  },
  "aws:eks/cluster:Cluster": (ctx) => {
    const name = nameOr(ctx);
    const oidc = ctx.token("oidc").toUpperCase();
    return {
      name,
      arn: ctx.computed(arn(ctx, "eks", `cluster/${name}`)),
      endpoint: `https://${ctx.token("endpoint").toUpperCase()}.gr7.${ctx.region}.eks.${dnsSuffix(ctx.partition)}`,
      certificateAuthority: { data: Buffer.from(`mock-ca-${ctx.token("ca")}`).toString("base64") },
      identities: [
        { oidcs: [{ issuer: `https://oidc.eks.${ctx.region}.${dnsSuffix(ctx.partition)}/id/${oidc}` }] },
      ],
      vpcConfig: { ...obj(ctx.inputs["vpcConfig"]), clusterSecurityGroupId: `sg-${ctx.token("clusterSg")}` },
      status: "ACTIVE",
      platformVersion: "eks.1",
    };
  },
  "aws:eks/nodeGroup:NodeGroup": (ctx) => ({
    arn: arn(
      ctx,
      "eks",
      `nodegroup/${str(ctx.inputs["clusterName"]) ?? "cluster"}/${ctx.name}/${ctx.token("ng")}`,
    ),
    status: "ACTIVE",
    resources: [
      {
        autoscalingGroups: [{ name: `eks-${ctx.name}-${ctx.token("asg")}` }],
        remoteAccessSecurityGroupId: "",
      },
    ],
  }),
  "aws:ec2/vpc:Vpc": (ctx) => ({
    arn: arn(ctx, "ec2", `vpc/vpc-${ctx.token("id")}`),
    defaultSecurityGroupId: `sg-${ctx.token("defaultSg")}`,
    defaultNetworkAclId: `acl-${ctx.token("defaultAcl")}`,
    defaultRouteTableId: `rtb-${ctx.token("defaultRtb")}`,
    mainRouteTableId: `rtb-${ctx.token("defaultRtb")}`,
    ownerId: ctx.accountId,
  }),
  "aws:secretsmanager/secret:Secret": (ctx) => {
    const name = nameOr(ctx);
    return { name, arn: arn(ctx, "secretsmanager", `secret:${name}-${ctx.token("suffix").slice(0, 6)}`) };
  },
  "random:index/randomPassword:RandomPassword": (ctx) => {
    const length = typeof ctx.inputs["length"] === "number" ? ctx.inputs["length"] : 32;
    const seed = ctx.token("result");
    let result = "";
    while (result.length < length) {
      result += Buffer.from(seed + result.length)
        .toString("base64")
        .replace(/[^A-Za-z0-9]/g, "");
    }
    return { result: rpcSecret(result.slice(0, length)), bcryptHash: rpcSecret(`$2a$10$${seed}`) };
  },
  "random:index/randomId:RandomId": (ctx) => {
    const hex = ctx.token("id");
    return { hex, b64Url: Buffer.from(hex, "hex").toString("base64url"), dec: BigInt(`0x${hex}`).toString() };
  },
  "kubernetes:helm.sh/v4:Chart": () => ({ resources: [] }),
};

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
