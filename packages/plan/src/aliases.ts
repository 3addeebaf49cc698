import type { PlannedResource } from "./model";

/**
 * Which resources of a head plan take over the state of a base plan's resource through `aliases`,
 * computed the way the Pulumi engine does it (pkg/resource/deploy/step_generator.go,
 * `generateAliases` / `collapseAliasToUrn` / `inheritedChildAlias`):
 *
 * - each alias is collapsed to a URN: a URN alias as is; a spec fills what it leaves out from the
 *   resource (name, type, parent, project, stack), and a parent that was itself renamed contributes
 *   its old URN;
 * - a child of a renamed parent also inherits the parent's old URN: its type chain under the
 *   parent's old qualified type, and its name with the parent's old name as prefix when its name
 *   starts with the parent's new name (the `${name}-<identity>` convention); its own aliases are
 *   multiplied out the same way;
 * - resources are matched in registration order, first by URN, then by alias; the alias actually
 *   matched is what the resource's children inherit.
 *
 * Under `pulumi.runtime.setMocks` the SDK sends alias specs (the mock monitor supports them), so the
 * plan document holds specs and the inheritance from parents is the engine's job, done here. Older
 * SDK paths send collapsed alias URNs (the Node SDK's `allAliases` multiplies parent aliases out
 * itself); those are used as they are.
 */

/** An alias as the plan document records it (the recorder's `Alias` proto `toObject()`, or a URN). */
interface AliasRecord {
  readonly urn?: string;
  readonly spec?: {
    readonly name?: string;
    readonly type?: string;
    readonly stack?: string;
    readonly project?: string;
    readonly parenturn?: string;
    readonly noparent?: boolean;
  };
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The engine's form of a URN (the mock monitor qualifies children of the root stack with it). */
function engineUrn(urn: string): string {
  return urn.replace(/^(urn:pulumi:[^:]*::[^:]*::)pulumi:pulumi:Stack\$/, "$1");
}

interface UrnParts {
  readonly stack: string;
  readonly project: string;
  /** `parentType$...$type`. */
  readonly qualifiedType: string;
  readonly type: string;
  readonly name: string;
}

function parseUrn(urn: string): UrnParts | undefined {
  const parts = urn.split("::");
  if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) {
    return undefined;
  }
  const qualifiedType = parts[2];
  return {
    stack: parts[0].slice("urn:pulumi:".length),
    project: parts[1],
    qualifiedType,
    type: qualifiedType.split("$").pop()!,
    name: parts.slice(3).join("::"),
  };
}

function createUrn(
  name: string,
  type: string,
  parent: string | undefined,
  project: string,
  stack: string,
): string {
  const parentType = parent ? parseUrn(parent)?.qualifiedType : undefined;
  return `urn:pulumi:${stack}::${project}::${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

function records(r: PlannedResource): AliasRecord[] {
  return r.options.aliases.flatMap((a): AliasRecord[] => {
    if (typeof a === "string") {
      return a ? [{ urn: a }] : [];
    }
    if (typeof a === "object" && a !== null) {
      return [a];
    }
    return [];
  });
}

/** Old URN → new URN of every resource of `head` that takes over a `base` resource through an alias. */
export function aliasMatches(
  base: readonly PlannedResource[],
  head: readonly PlannedResource[],
): Map<string, string> {
  const olds = new Set(base.map((r) => r.urn));
  const headUrns = new Set(head.map((r) => r.urn));
  // New URN → the old URN it was matched to (the engine's `sg.aliases`).
  const matchedFrom = new Map<string, string>();
  const claimed = new Map<string, string>();

  const collapse = (goal: PlannedResource, self: UrnParts, alias: AliasRecord): string | undefined => {
    if (alias.urn) {
      return engineUrn(alias.urn);
    }
    const spec = alias.spec;
    if (!spec) {
      return undefined;
    }
    let parent = spec.parenturn ? engineUrn(spec.parenturn) : goal.parent;
    if (spec.parenturn && parent && matchedFrom.has(parent)) {
      parent = matchedFrom.get(parent);
    }
    if (spec.noparent || (parent && parseUrn(parent)?.qualifiedType === ROOT_STACK_TYPE)) {
      parent = undefined;
    }
    return createUrn(
      spec.name || goal.name,
      spec.type || goal.type,
      parent,
      spec.project || self.project,
      spec.stack || self.stack,
    );
  };

  const inherited = (
    childType: string,
    childName: string,
    parentName: string,
    parentAlias: string,
    self: UrnParts,
  ) => {
    const old = parseUrn(parentAlias);
    if (!old) {
      return undefined;
    }
    const name = childName.startsWith(parentName) ? old.name + childName.slice(parentName.length) : childName;
    return `urn:pulumi:${self.stack}::${self.project}::${old.qualifiedType}$${childType}::${name}`;
  };

  for (const goal of head) {
    if (olds.has(goal.urn)) {
      continue;
    }
    const self = parseUrn(goal.urn);
    if (!self) {
      continue;
    }
    const own = records(goal)
      .map((a) => collapse(goal, self, a))
      .filter((u): u is string => u !== undefined);
    const candidates = [...own];
    const parentAlias = goal.parent ? matchedFrom.get(goal.parent) : undefined;
    const parentName = goal.parent ? parseUrn(goal.parent)?.name : undefined;
    if (parentAlias && parentName !== undefined) {
      candidates.push(inherited(goal.type, goal.name, parentName, parentAlias, self) ?? "");
      for (const a of own) {
        const parts = parseUrn(a);
        if (parts) {
          candidates.push(inherited(parts.type, parts.name, parentName, parentAlias, self) ?? "");
        }
      }
    }
    const match = candidates.find((c) => olds.has(c) && !headUrns.has(c) && !claimed.has(c));
    if (match) {
      matchedFrom.set(goal.urn, match);
      claimed.set(match, goal.urn);
    }
  }
  return claimed;
}
