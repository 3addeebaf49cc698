import {
  type AliasSpec,
  qualifiedType,
  type RecordedAlias,
  resourceUrn,
  urnName,
  urnStackAndProject,
} from "./recorder";

/**
 * Which old state each registration of a program would take over, computed the way the Pulumi engine
 * does (`stepGenerator.generateAliases` / `collapseAliasToUrn` / `inheritedChildAlias` in
 * pkg/resource/deploy/step_generator.go): a resource keeps the state at its own URN, else at the
 * first of its aliases found in the old state. Its aliases are its own (`aliases` option) plus, when
 * its parent took over an old URN through an alias, the URN it would have had under that old parent
 * (its name's prefix rewritten from the parent's new name to the old one, as for `${name}-child`).
 *
 * When the engine supports alias specs (current engines do, and so do the SDK's mocks), the SDK
 * sends only each resource's own aliases (`runtime/resource.js`: `allAliases` runs only for monitors
 * without alias specs), so a registration log alone cannot show that a renamed component's children
 * keep their state: this function is that missing half.
 */

/** A resource as the matcher needs it (a `RegisteredResource` is one). */
export interface AliasedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | undefined;
  readonly options: { readonly aliases: readonly RecordedAlias[] };
}

/** Where one new resource's state comes from. */
export interface StateMatch {
  readonly urn: string;
  /** The old URN it takes over (its own when unchanged), or undefined for a create. */
  readonly old: string | undefined;
  /** `same`: its own URN; `alias`: renamed or moved; `create`: no old state. */
  readonly kind: "same" | "alias" | "create";
}

/** The result of {@link matchState}. */
export interface StateMatches {
  /** One entry per new resource, in registration order. */
  readonly matches: readonly StateMatch[];
  /** Old URNs no new resource takes over: the engine deletes them. */
  readonly deleted: readonly string[];
  /** Aliases that claim an old URN another resource already took (the engine refuses the run). */
  readonly conflicts: readonly string[];
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * Matches `current` (in registration order: a parent before its children) against the URNs of the
 * old state.
 */
export function matchState(current: readonly AliasedResource[], previous: Iterable<string>): StateMatches {
  const olds = new Set(previous);
  const claimed = new Set<string>();
  const newUrns = new Set(current.map((r) => r.urn));
  /** New URN -> the old URN it took over through an alias (the engine's `sg.aliases`). */
  const aliased = new Map<string, string>();
  const matches: StateMatch[] = [];
  const conflicts: string[] = [];

  for (const r of current) {
    if (olds.has(r.urn)) {
      claimed.add(r.urn);
      matches.push({ urn: r.urn, old: r.urn, kind: "same" });
      continue;
    }
    const found = aliasesOf(r, aliased).find((a) => olds.has(a));
    if (found === undefined) {
      matches.push({ urn: r.urn, old: undefined, kind: "create" });
      continue;
    }
    if (claimed.has(found) || newUrns.has(found)) {
      conflicts.push(`${r.urn} claims ${found}, which another resource already has`);
    }
    claimed.add(found);
    aliased.set(r.urn, found);
    matches.push({ urn: r.urn, old: found, kind: "alias" });
  }
  return { matches, deleted: [...olds].filter((u) => !claimed.has(u)), conflicts };
}

/** Every alias of `r` the engine would try, own aliases first. */
export function aliasesOf(r: AliasedResource, aliased: ReadonlyMap<string, string> = new Map()): string[] {
  const out: string[] = [];
  const add = (urn: string) => {
    if (!out.includes(urn)) {
      out.push(urn);
    }
  };
  const own = r.options.aliases.map((a) => collapse(r, a, aliased));
  own.forEach(add);
  const parentAlias = r.parent ? aliased.get(r.parent) : undefined;
  if (r.parent && parentAlias) {
    const parentName = urnName(r.parent);
    add(inheritedChildAlias(r.type, r.name, parentName, parentAlias));
    for (const urn of own) {
      add(inheritedChildAlias(lastType(urn), urnName(urn), parentName, parentAlias));
    }
  }
  return out;
}

/** An alias as a URN: missing parts default to the resource's own. */
function collapse(r: AliasedResource, alias: RecordedAlias, aliased: ReadonlyMap<string, string>): string {
  if (typeof alias === "string") {
    return alias;
  }
  const spec: AliasSpec = alias;
  const here = urnStackAndProject(r.urn);
  let parent = spec.parent === undefined ? r.parent : (aliased.get(spec.parent) ?? spec.parent);
  if (spec.noParent || (parent !== undefined && qualifiedType(parent) === ROOT_STACK_TYPE)) {
    parent = undefined;
  }
  return resourceUrn(
    { stack: spec.stack ?? here.stack, project: spec.project ?? here.project },
    parent,
    spec.type ?? r.type,
    spec.name ?? r.name,
  );
}

/** The URN a child would have had under its parent's old URN (name prefix rewritten). */
function inheritedChildAlias(childType: string, childName: string, parentName: string, parentAlias: string) {
  const name = childName.startsWith(parentName)
    ? urnName(parentAlias) + childName.slice(parentName.length)
    : childName;
  return resourceUrn(urnStackAndProject(parentAlias), parentAlias, childType, name);
}

/** The resource's own type: the last element of a URN's type chain. */
function lastType(urn: string): string {
  return qualifiedType(urn).split("$").pop() ?? "";
}
