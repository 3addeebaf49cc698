import type { PolicyProviderResource, PolicyResource } from "@pulumi/policy";

/**
 * Readers for facts several rules need: tags (the resource's own plus its provider's
 * `defaultTags`), the region a resource lives in, and how resources of a stack reference each other.
 */

type Tags = Readonly<Record<string, string>>;

function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * A provider input that is an object. The engine hands provider inputs to analyzers the way it
 * stores them, which for non-string values of bridged providers is JSON text; programs under test
 * hand them as objects. Both are accepted.
 */
function providerObject(value: unknown): Readonly<Record<string, unknown>> | undefined {
  if (typeof value === "string") {
    try {
      return asRecord(JSON.parse(value));
    } catch {
      return undefined;
    }
  }
  return asRecord(value);
}

/** The `defaultTags` of an AWS provider. */
export function providerDefaultTags(provider: PolicyProviderResource | undefined): Tags {
  if (!provider || !provider.type.startsWith("pulumi:providers:aws")) {
    return {};
  }
  const defaultTags = providerObject(provider.props["defaultTags"]);
  const tags = defaultTags ? providerObject(defaultTags["tags"]) : undefined;
  return (tags ?? {}) as Tags;
}

/** Keys of a tag map, without reading the (possibly unknown) values. */
function tagKeys(tags: unknown): string[] {
  return asRecord(tags) ? Object.keys(tags as object) : [];
}

/** The tag keys a resource ends up with: its own `tags`/`tagsAll` plus the provider's default tags. */
export function effectiveTagKeys(
  props: Readonly<Record<string, unknown>>,
  provider: PolicyProviderResource | undefined,
): Set<string> {
  return new Set([
    ...Object.keys(providerDefaultTags(provider)),
    ...tagKeys(props["tags"]),
    ...tagKeys(props["tagsAll"]),
  ]);
}

/** The value a tag ends up with (the resource's own tag wins over the provider's default). */
export function effectiveTag(
  props: Readonly<Record<string, unknown>>,
  provider: PolicyProviderResource | undefined,
  key: string,
): string | undefined {
  for (const source of [asRecord(props["tags"]), asRecord(props["tagsAll"])]) {
    if (source && key in source) {
      return source[key] as string;
    }
  }
  return providerDefaultTags(provider)[key];
}

/** True if the resource is tagged (directly or by its provider) as holding PHI. */
export function holdsPhi(
  props: Readonly<Record<string, unknown>>,
  provider: PolicyProviderResource | undefined,
): boolean {
  return effectiveTag(props, provider, "DataClassification") === "phi";
}

/**
 * The AWS region of a resource: its own `region` argument (AWS provider v7 resources can override
 * the provider's region), else its provider's `region`. `undefined` if neither says.
 */
export function resourceRegion(
  props: Readonly<Record<string, unknown>>,
  provider: PolicyProviderResource | undefined,
): string | undefined {
  const own = props["region"];
  if (typeof own === "string" && own !== "") {
    return own;
  }
  if (!provider || !provider.type.startsWith("pulumi:providers:aws")) {
    return undefined;
  }
  const region: unknown = provider.props["region"];
  return typeof region === "string" && region !== "" ? region : undefined;
}

/**
 * The resources a property of `resource` was computed from (the engine's property dependencies).
 * This links resources when the linking value itself (an id or ARN of a resource created in the
 * same preview) is unknown.
 */
export function dependenciesOf(resource: PolicyResource, property: string): readonly PolicyResource[] {
  return resource.propertyDependencies[property] ?? [];
}

/** True if `value` (possibly unknown) is a non-empty string. */
export function nonEmpty(value: unknown): boolean {
  return typeof value === "string" && value.trim() !== "";
}
