import { type AliasedResource, engineUrn, matchState, type RecordedAlias } from "@hcp/testing";
import type { PlannedResource } from "./model";

/**
 * Which resources of a head plan take over the state of a base plan's resource through `aliases`.
 * The matching is the engine's (own aliases collapsed to URNs, a renamed parent's old URN inherited
 * by its children, first match in registration order), implemented once in `@hcp/testing`'s
 * {@link matchState}; the plan document records aliases as the registration log does.
 */
function asAliased(r: PlannedResource): AliasedResource {
  // URN aliases (older SDKs send them collapsed) may carry the mock monitor's root-stack qualifier.
  const aliases = r.options.aliases
    .filter(
      (a): a is RecordedAlias => (typeof a === "string" && a !== "") || (typeof a === "object" && a !== null),
    )
    .map((a) => (typeof a === "string" ? engineUrn(a) : a));
  return { urn: r.urn, type: r.type, name: r.name, parent: r.parent, options: { aliases } };
}

/** Old URN → new URN of every resource of `head` that takes over a `base` resource through an alias. */
export function aliasMatches(
  base: readonly PlannedResource[],
  head: readonly PlannedResource[],
): Map<string, string> {
  const { matches } = matchState(
    head.map(asAliased),
    base.map((r) => r.urn),
  );
  const out = new Map<string, string>();
  for (const m of matches) {
    if (m.kind === "alias" && m.old !== undefined) {
      out.set(m.old, m.urn);
    }
  }
  return out;
}
