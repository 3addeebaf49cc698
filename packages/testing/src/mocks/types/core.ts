import { rpcSecret } from "../../secrets";
import { arn, bucketName, dnsSuffix, globalArn, kmsKeyId, nameOr, obj, type OutputsFn, str } from "../values";

/** Structured outputs of the types the foundation and the environment layer use. */
export const CORE_OUTPUTS: Record<string, OutputsFn> = {
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
      arn: `arn:${ctx.partition}:s3:::${bucket}`,
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
      arn: globalArn(ctx, "iam", `role${p}${name}`),
      uniqueId: `AROA${ctx.token("uid").toUpperCase()}`,
    };
  },
  "aws:iam/policy:Policy": (ctx) => {
    const name = nameOr(ctx);
    return {
      name,
      arn: globalArn(ctx, "iam", `policy/${name}`),
      policyId: `ANPA${ctx.token("pid").toUpperCase()}`,
    };
  },
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (ctx) => ({
    arn: globalArn(ctx, "iam", `oidc-provider/${(str(ctx.inputs["url"]) ?? "").replace(/^https:\/\//, "")}`),
  }),
  "aws:cloudwatch/logGroup:LogGroup": (ctx) => {
    const name = nameOr(ctx);
    return { name, arn: arn(ctx, "logs", `log-group:${name}`) };
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
      arn: arn(ctx, "ecr", `repository/${name}`),
      registryId: ctx.accountId,
      repositoryUrl: `${ctx.accountId}.dkr.ecr.${ctx.region}.${dnsSuffix(ctx.partition)}/${name}`,
    };
  },
  "aws:cloudtrail/trail:Trail": (ctx) => {
    const name = nameOr(ctx);
    return { name, arn: arn(ctx, "cloudtrail", `trail/${name}`), homeRegion: ctx.region };
  },
  "aws:eks/cluster:Cluster": (ctx) => {
    const name = nameOr(ctx);
    const oidc = ctx.token("oidc").toUpperCase();
    return {
      name,
      arn: arn(ctx, "eks", `cluster/${name}`),
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
  // PEM-shaped, so consumers that check for a certificate (the data contract) see one; the body is a
  // token, not a real key or certificate.
  "tls:index/privateKey:PrivateKey": (ctx) => ({
    privateKeyPem: rpcSecret(pem("PRIVATE KEY", ctx.token("key"))),
    privateKeyOpenssh: rpcSecret(pem("OPENSSH PRIVATE KEY", ctx.token("ssh"))),
    privateKeyPemPkcs8: rpcSecret(pem("PRIVATE KEY", ctx.token("pkcs8"))),
    publicKeyPem: pem("PUBLIC KEY", ctx.token("pub")),
    publicKeyOpenssh: `ecdsa-sha2-nistp256 ${ctx.token("ssh-pub")}`,
    publicKeyFingerprintMd5: ctx.token("md5"),
    publicKeyFingerprintSha256: ctx.token("sha256"),
  }),
  "tls:index/selfSignedCert:SelfSignedCert": (ctx) => ({
    certPem: pem("CERTIFICATE", ctx.token("cert")),
    validityStartTime: "2026-01-01T00:00:00Z",
    validityEndTime: "2036-01-01T00:00:00Z",
    readyForRenewal: false,
  }),
  // A LoadBalancer Service gets its load balancer's host name, as the AWS Load Balancer Controller
  // reports it in the status.
  "kubernetes:core/v1:Service": (ctx) => {
    const spec = obj(ctx.inputs["spec"]);
    if (spec["type"] !== "LoadBalancer") {
      return {};
    }
    const host = `k8s-${ctx.token("lb").slice(0, 8)}-${ctx.token("lbid").slice(0, 10)}.elb.${ctx.region}.amazonaws.com`;
    return { status: { loadBalancer: { ingress: [{ hostname: host }] } } };
  },
};

function pem(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(body).toString("base64")}\n-----END ${label}-----\n`;
}
