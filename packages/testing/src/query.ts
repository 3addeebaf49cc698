import type { RegisteredResource } from "./recorder";

/** Resources of a type. */
export function ofType(resources: readonly RegisteredResource[], type: string): RegisteredResource[] {
  return resources.filter((r) => r.type === type);
}

/** The one resource of a type (and name suffix, if given); throws listing candidates otherwise. */
export function one(
  resources: readonly RegisteredResource[],
  type: string,
  name?: string,
): RegisteredResource {
  const matches = ofType(resources, type).filter(
    (r) => name === undefined || r.name === name || r.name.endsWith(name),
  );
  if (matches.length !== 1) {
    const names = ofType(resources, type).map((r) => r.name);
    throw new Error(
      `expected exactly one ${type}${name ? ` named *${name}` : ""}, found ${matches.length} (have: ${names.join(", ") || "none"})`,
    );
  }
  return matches[0];
}

/** Direct children of a resource. */
export function childrenOf(
  resources: readonly RegisteredResource[],
  parent: RegisteredResource,
): RegisteredResource[] {
  return resources.filter((r) => r.parent === parent.urn);
}

/** The resource with a URN. */
export function byUrn(resources: readonly RegisteredResource[], urn: string): RegisteredResource | undefined {
  return resources.find((r) => r.urn === urn);
}

/** A value at a dotted/indexed path (`a.b[0].c`) of an object. */
export function at(value: unknown, pathText: string): unknown {
  let cur: unknown = value;
  for (const seg of pathText.match(/[^.[\]]+/g) ?? []) {
    if (typeof cur !== "object" || cur === null) {
      return undefined;
    }
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
