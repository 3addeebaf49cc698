import { standardTags, type DataClassification } from "@hcp/platform";
import type { ArgsOf, TypeToken } from "../src/lib";
import type { Fixture, ProviderFixture } from "./harness";

/**
 * Typed fixtures: props are typed by the resource's SDK argument type (`ArgsOf<T>`), so a misspelt
 * property or a wrong shape fails to compile.
 */

const PREFIX = "urn:pulumi:test::hcp::";

// The sentinels the engine sends for values unknown during a preview (@pulumi/policy/proxy.js).
const SENTINELS = {
  string: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  number: "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  boolean: "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  array: "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  object: "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
} as const;

/** A value unknown during preview; typed `never` so it fits any property of a typed fixture. */
export const unknown = {
  string: (): never => SENTINELS.string as never,
  number: (): never => SENTINELS.number as never,
  boolean: (): never => SENTINELS.boolean as never,
  array: (): never => SENTINELS.array as never,
  object: (): never => SENTINELS.object as never,
};

/** A secret value on the wire (the analyzer unwraps it). */
export function secret<T>(value: T): T {
  return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value } as unknown as T;
}

/** An AWS provider with the standard default tags of a layer. */
export function awsProvider(
  region = "sa-east-1",
  classification: DataClassification = "internal",
  options: { readonly encoding?: "object" | "json"; readonly tags?: Record<string, string> } = {},
): ProviderFixture {
  const tags =
    options.tags ??
    standardTags({
      environment: "production",
      region,
      layer: classification === "phi" ? "data" : "network",
      owner: "platform-team",
      dataClassification: classification,
    });
  const defaultTags = { tags };
  const name = `aws-${region}-${classification}`;
  return {
    type: "pulumi:providers:aws",
    name,
    urn: `${PREFIX}pulumi:providers:aws::${name}`,
    props: {
      region,
      allowedAccountIds: options.encoding === "json" ? JSON.stringify(["111122223333"]) : ["111122223333"],
      // The engine stores non-string provider inputs as JSON text; programs pass objects.
      defaultTags: options.encoding === "json" ? JSON.stringify(defaultTags) : defaultTags,
    },
  };
}

/** A Kubernetes provider. */
export const k8sProvider: ProviderFixture = {
  type: "pulumi:providers:kubernetes",
  name: "eks",
  urn: `${PREFIX}pulumi:providers:kubernetes::eks`,
  props: { enableServerSideApply: true },
};

/** Options of a fixture besides its props. */
export interface FixtureOptions {
  /** @default - an sa-east-1 provider with internal-data default tags (AWS), the EKS provider (Kubernetes) */
  readonly provider?: ProviderFixture | null;
  readonly protect?: boolean;
  readonly ignoreChanges?: readonly string[];
  /** Resources each property was computed from (the engine's property dependencies). */
  readonly dependsOn?: Readonly<Record<string, readonly Fixture[]>>;
  /** Outputs already known in the state (stack validations), e.g. `arn`. */
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** Types of the resource's parents, outermost first: the URN's type chain (e.g. a Helm chart). */
  readonly parentTypes?: readonly string[];
}

/** A resource of type `T` with SDK-typed inputs. */
export function res<T extends TypeToken>(
  type: T,
  name: string,
  props: ArgsOf<T>,
  options: FixtureOptions = {},
): Fixture {
  const provider =
    options.provider === null
      ? undefined
      : (options.provider ??
        (type.startsWith("aws:") ? awsProvider() : type.startsWith("kubernetes:") ? k8sProvider : undefined));
  const deps = options.dependsOn ?? {};
  return {
    type,
    name,
    urn: `${PREFIX}${[...(options.parentTypes ?? []), type].join("$")}::${name}`,
    props: { ...(props as Record<string, unknown>), ...(options.outputs ?? {}) },
    provider,
    protect: options.protect,
    ignoreChanges: options.ignoreChanges,
    dependencies: [
      ...new Set(
        Object.values(deps)
          .flat()
          .map((d) => d.urn),
      ),
    ],
    propertyDependencies: Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v.map((d) => d.urn)])),
  };
}

/** A resource of a type the pack has no typed shape for (coverage tests). */
export function untyped(type: string, name: string, props: Record<string, unknown> = {}): Fixture {
  return {
    type,
    name,
    urn: `${PREFIX}${type}::${name}`,
    props,
    provider: type.startsWith("aws:") ? awsProvider() : undefined,
  };
}

/** The fixture with other options. */
export function withOptions(
  f: Fixture,
  options: Partial<Pick<Fixture, "protect" | "ignoreChanges" | "provider">>,
): Fixture {
  return { ...f, ...options };
}
