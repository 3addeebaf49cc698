import type * as pulumi from "@pulumi/pulumi";
import { regionInfo } from "@hcp/platform";
import { revealSecrets, rpcSecret } from "../secrets";
import { ingressGroupLoadBalancerName } from "./albNames";
import { getSecretVersion } from "./calls/secretsmanager";
import { renderPolicyDocument } from "./policyDocument";
import { type SdkTypeInfo, sdkTypeInfo } from "./sdkTypes";
import { token as makeToken } from "./tokens";
import {
  computedOutputs,
  guardDutyDetectorId,
  type MockResourceContext,
  mockId,
  TYPE_OUTPUTS,
} from "./values";

/** A stack's exports as a stack reference sees them. */
export interface StackExports {
  /** Output values by name. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Names of outputs that are secrets. */
  readonly secretOutputNames: readonly string[];
}

/** Options of {@link StrictMocks}. */
export interface StrictMocksOptions {
  /** Stack being run (tokens are derived from it). */
  readonly stack: string;
  /** Account that providers without `allowedAccountIds` and calls report. */
  readonly accountId: string;
  /** Directories to resolve provider SDKs from (the program's package). */
  readonly searchPaths: readonly string[];
  /** Exports of the stacks the program may reference, by full name `<org>/<project>/<stack>`. */
  readonly stackOutputs: Readonly<Record<string, StackExports>>;
  /**
   * Preview of a new stack: custom resources get no id and no computed outputs, so the SDK treats
   * both as unknown exactly as in `pulumi preview` (inputs stay known; providers keep ids, as the
   * engine gives them).
   * @default false
   */
  readonly preview?: boolean;
}

interface ProviderInfo {
  readonly region: string;
  readonly accountId: string;
  readonly tags: Record<string, string>;
}

const PROVIDER_PREFIX = "pulumi:providers:";
const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/** Packages whose custom resources must use an explicit provider (default providers are disabled). */
const REQUIRE_EXPLICIT_PROVIDER = new Set(["aws", "kubernetes", "random", "tls"]);

/**
 * Mocks that refuse what the real engine or provider would refuse, and everything they cannot
 * answer faithfully: a resource type no installed SDK defines, a call without a mock, a custom
 * resource on a default provider, a stack reference to a stack that has no exports. Every refusal
 * names the resource or call; all are also kept in {@link errors} so a runner can report them even
 * when the SDK swallows a rejected registration.
 */
export class StrictMocks implements pulumi.runtime.Mocks {
  /** Every refusal, in order. */
  readonly errors: Error[] = [];
  /** Types that got generic outputs (no structured mock). */
  readonly genericTypes = new Set<string>();
  /** Stack references the program made, by full name. */
  readonly stackReferences = new Set<string>();
  /** Every call (invoke) the program made, in order, with its inputs (secrets revealed). */
  readonly calls: Array<{ readonly token: string; readonly inputs: Record<string, unknown> }> = [];

  private readonly providers = new Map<string, ProviderInfo>();

  constructor(private readonly options: StrictMocksOptions) {}

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    try {
      return this.doNewResource(args);
    } catch (e) {
      this.errors.push(e as Error);
      throw e;
    }
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    try {
      return this.doCall(args);
    } catch (e) {
      this.errors.push(e as Error);
      throw e;
    }
  }

  private doNewResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    if (args.type === STACK_REFERENCE) {
      return this.stackReference(args);
    }
    if (args.type.startsWith(PROVIDER_PREFIX)) {
      return this.provider(args, inputs);
    }
    const pkg = args.type.split(":")[0] ?? "";
    const sdk = sdkTypeInfo(args.type, this.options.searchPaths) ?? customResourceTypeInfo(args.type);
    if (!sdk && (args.custom || REQUIRE_EXPLICIT_PROVIDER.has(pkg))) {
      throw new Error(
        `StrictMocks: unknown resource type '${args.type}' (resource '${args.name}'): no installed Pulumi SDK ` +
          `defines it. Check the type token or the SDK version in pnpm-workspace.yaml's catalog.`,
      );
    }
    if (!args.custom && !sdk?.remote) {
      // A component of this program: its "state" is what it registers as outputs.
      return { id: undefined, state: {} };
    }
    const provider = this.providerFor(args.provider, pkg, args.type, args.name);
    if (this.options.preview) {
      return { id: undefined, state: sdk?.remote ? {} : inputs };
    }
    const ctx = this.context(args.type, args.name, inputs, provider, sdk);
    if (!hasStructuredMock(args.type)) {
      this.genericTypes.add(args.type);
    }
    const state = { ...inputs, ...computedOutputs(ctx) };
    return { id: sdk?.remote ? undefined : mockId(ctx), state };
  }

  private stackReference(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const input = (args.inputs as { name?: unknown }).name;
    const name = typeof input === "string" ? input : (args.id ?? args.name);
    this.stackReferences.add(name);
    const exports = this.options.stackOutputs[name];
    if (!exports) {
      const known = Object.keys(this.options.stackOutputs);
      throw new Error(
        `StrictMocks: stack reference to '${name}' from ${this.options.stack}, but that stack has no exports here ` +
          `(known: ${known.length > 0 ? known.join(", ") : "none"}). Deploy or plan it first, or add a fixture.`,
      );
    }
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(exports.outputs)) {
      outputs[key] = exports.secretOutputNames.includes(key) ? rpcSecret(value) : value;
    }
    return {
      id: name,
      state: { name, outputs, secretOutputNames: [...exports.secretOutputNames] },
    };
  }

  private provider(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, unknown>) {
    const pkg = args.type.slice(PROVIDER_PREFIX.length);
    const id = `${pkg}-provider-${makeToken(this.options.stack, args.type, args.name)}`;
    const plain = revealSecrets(inputs).value as Record<string, unknown>;
    const region = typeof plain["region"] === "string" ? plain["region"] : "";
    const allowed = parseMaybeJson(plain["allowedAccountIds"]);
    const defaultTags = parseMaybeJson(plain["defaultTags"]) as { tags?: Record<string, string> } | undefined;
    if (pkg === "aws" && !region) {
      throw new Error(`StrictMocks: AWS provider '${args.name}' has no region; every provider must set one.`);
    }
    this.providers.set(id, {
      region,
      accountId:
        Array.isArray(allowed) && typeof allowed[0] === "string" ? allowed[0] : this.options.accountId,
      tags: defaultTags?.tags ?? {},
    });
    return { id, state: inputs };
  }

  private providerFor(ref: string | undefined, pkg: string, type: string, name: string): ProviderInfo {
    const id = ref ? ref.slice(ref.lastIndexOf("::") + 2) : "";
    const info = this.providers.get(id);
    if (!info) {
      if (REQUIRE_EXPLICIT_PROVIDER.has(pkg)) {
        throw new Error(
          `StrictMocks: resource '${name}' (${type}) uses the default ${pkg} provider, which is disabled ` +
            `(pulumi:disable-default-providers). Pass an explicit provider, e.g. through the component's providers.`,
        );
      }
      return { region: "us-east-1", accountId: this.options.accountId, tags: {} };
    }
    return info;
  }

  private context(
    type: string,
    name: string,
    rawInputs: Record<string, unknown>,
    provider: ProviderInfo,
    sdk: ReturnType<typeof sdkTypeInfo>,
  ): MockResourceContext {
    const stack = this.options.stack;
    return {
      type,
      name,
      inputs: revealSecrets(rawInputs).value as Record<string, unknown>,
      region: provider.region,
      accountId: provider.accountId,
      partition: regionInfo(provider.region)?.partition ?? "aws",
      providerTags: provider.tags,
      sdk,
      token(attr: string) {
        return makeToken(stack, type, name, attr);
      },
      autoname() {
        return `${name}-${makeToken(stack, type, name, "autoname").slice(0, 7)}`;
      },
    };
  }

  private doCall(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    this.calls.push({ token: args.token, inputs: revealSecrets(inputs).value as Record<string, unknown> });
    const pkg = args.token.split(":")[0] ?? "";
    const provider = this.providerFor(args.provider, pkg, args.token, "(call)");
    const partition = regionInfo(provider.region)?.partition ?? "aws";
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          id: provider.accountId,
          accountId: provider.accountId,
          arn: `arn:${partition}:sts::${provider.accountId}:assumed-role/mock/mock`,
          userId: "AROAMOCK:mock",
        };
      case "aws:index/getPartition:getPartition":
        return { id: partition, partition, dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
      case "aws:index/getRegion:getRegion":
        return {
          id: provider.region,
          name: provider.region,
          region: provider.region,
          description: provider.region,
        };
      case "aws:index/getAvailabilityZones:getAvailabilityZones": {
        const count = regionInfo(provider.region)?.azCount ?? 3;
        const letters = "abcdef".slice(0, count).split("");
        return {
          id: provider.region,
          names: letters.map((l) => `${provider.region}${l}`),
          zoneIds: letters.map((_, i) => `${provider.region.replace(/-/g, "").slice(0, 4)}-az${i + 1}`),
          groupNames: [provider.region],
        };
      }
      case "aws:secretsmanager/getSecretVersion:getSecretVersion":
        return getSecretVersion(revealSecrets(inputs).value as Record<string, unknown>, {
          stack: this.options.stack,
          region: provider.region,
          accountId: provider.accountId,
          partition,
        });
      case "aws:elb/getServiceAccount:getServiceAccount": {
        // Elastic Load Balancing's log-delivery account of the region (AWS documentation).
        const account = ELB_LOG_ACCOUNTS[provider.region];
        if (!account) {
          throw new Error(`StrictMocks: no ELB log-delivery account known for ${provider.region}; add it.`);
        }
        return { id: account, arn: `arn:${partition}:iam::${account}:root` };
      }
      case "aws:elb/getHostedZoneId:getHostedZoneId": {
        const zone = ELB_HOSTED_ZONES[provider.region];
        if (!zone) {
          throw new Error(`StrictMocks: no ELB hosted zone id known for ${provider.region}; add it.`);
        }
        return { id: zone };
      }
      case "aws:lb/getLoadBalancer:getLoadBalancer":
        return applicationLoadBalancer(revealSecrets(inputs).value as Record<string, unknown>, {
          region: provider.region,
          accountId: provider.accountId,
          partition,
        });
      case "aws:guardduty/getDetector:getDetector": {
        // The account's detector in the provider's region (`cluster.guardDuty.detector: existing`),
        // one per account and region, so its id depends on nothing else.
        const id = guardDutyDetectorId(makeToken(provider.accountId, provider.region, "guardduty-detector"));
        return {
          id,
          arn: `arn:${partition}:guardduty:${provider.region}:${provider.accountId}:detector/${id}`,
          status: "ENABLED",
          findingPublishingFrequency: "SIX_HOURS",
          serviceRoleArn: `arn:${partition}:iam::${provider.accountId}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty`,
          features: [],
          tags: {},
          region: provider.region,
        };
      }
      case "aws:iam/getPolicyDocument:getPolicyDocument":
        return {
          id: "policy",
          json: renderPolicyDocument(revealSecrets(inputs).value as Record<string, unknown>),
        };
      default:
        throw new Error(
          `StrictMocks: no mock for call '${args.token}'. Add it to @hcp/testing (src/mocks/strict.ts) with ` +
            `faithful results, or avoid the call.`,
        );
    }
  }
}

/**
 * `aws.lb.getLoadBalancer` for the ALBs that exist in these mocks: those the AWS Load Balancer
 * Controller creates for an IngressGroup, found by its tags (`elbv2.k8s.aws/cluster`,
 * `ingress.k8s.aws/stack` = the group, `ingress.k8s.aws/resource: LoadBalancer`), or by name. The
 * name is the one the Ingress mock's host name starts with (`k8s-<group>-<hash>`); ARN and suffix
 * have the real shape (`arn:<partition>:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<16 hex>`).
 * Anything else (an ARN, tags no controller writes) has no answer here: the real data source
 * would fail with "no load balancer found", so this refuses too.
 */
function applicationLoadBalancer(
  inputs: Record<string, unknown>,
  where: { readonly region: string; readonly accountId: string; readonly partition: string },
): Record<string, unknown> {
  const tags = (inputs["tags"] ?? {}) as Record<string, unknown>;
  const group = tags["ingress.k8s.aws/stack"];
  let name: string;
  if (typeof inputs["name"] === "string" && inputs["name"] !== "") {
    name = inputs["name"];
  } else if (
    typeof group === "string" &&
    typeof tags["elbv2.k8s.aws/cluster"] === "string" &&
    tags["ingress.k8s.aws/resource"] === "LoadBalancer"
  ) {
    name = ingressGroupLoadBalancerName(group);
  } else {
    throw new Error(
      `StrictMocks: aws.lb.getLoadBalancer(${JSON.stringify(inputs)}) matches no load balancer: only the ALBs the ` +
        `AWS Load Balancer Controller creates for an IngressGroup (found by name or by its cluster, stack and ` +
        `resource tags) exist here.`,
    );
  }
  const id = makeToken(where.accountId, where.region, "alb", name).slice(0, 16);
  const suffix = `app/${name}/${id}`;
  const arn = `arn:${where.partition}:elasticloadbalancing:${where.region}:${where.accountId}:loadbalancer/${suffix}`;
  return {
    id: arn,
    arn,
    arnSuffix: suffix,
    name,
    dnsName: `${name}-${parseInt(id.slice(0, 8), 16)}.${where.region}.elb.amazonaws.com`,
    zoneId: ELB_HOSTED_ZONES[where.region] ?? "",
    loadBalancerType: "application",
    internal: false,
    ipAddressType: "ipv4",
    region: where.region,
    tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)])),
  };
}

/** ELB access-log delivery accounts (docs: "Enable access logs for your Application Load Balancer"). */
const ELB_LOG_ACCOUNTS: Readonly<Record<string, string>> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-2": "797873946194",
  "sa-east-1": "507241528517",
  "eu-west-1": "156460612806",
};

/** Canonical hosted zone ids of Application (and Classic) Load Balancers, by region. */
const ELB_HOSTED_ZONES: Readonly<Record<string, string>> = {
  "us-east-1": "Z35SXDOTRQ7X7K",
  "us-east-2": "Z3AADJGX6KTTL2",
  "us-west-2": "Z1H1FL5HABSF5",
  "sa-east-1": "Z2P70J7HTTTPLU",
  "eu-west-1": "Z32O12XQLNTSW2",
};

function parseMaybeJson(v: unknown): unknown {
  if (typeof v === "string" && /^[[{]/.test(v.trim())) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * Kubernetes custom resources (`k8s.apiextensions.CustomResource`) register as
 * `kubernetes:<group>/<version>:<Kind>`; no SDK module defines those tokens. A group with a dot that is
 * not a built-in `*.k8s.io` API group (those come from the SDK) is a CRD such as `cert-manager.io/v1`.
 */
function customResourceTypeInfo(type: string): SdkTypeInfo | undefined {
  const match =
    /^kubernetes:([a-z0-9-]+(?:\.[a-z0-9-]+)+)\/(v\d+(?:(?:alpha|beta)\d+)?):([A-Z][A-Za-z0-9]*)$/.exec(type);
  if (!match || match[1].endsWith(".k8s.io")) {
    return undefined;
  }
  return { token: type, computed: [], inputs: ["apiVersion", "kind", "metadata", "spec"], remote: false };
}

/** True when a type's computed outputs are mocked with structure rather than generic values. */
function hasStructuredMock(type: string): boolean {
  return type in TYPE_OUTPUTS || type.startsWith("kubernetes:");
}
