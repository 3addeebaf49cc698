import * as pulumi from "@pulumi/pulumi";

/**
 * The `dependsOn` a component's children need: Pulumi does not pass a component's own `dependsOn`
 * on to its children (a child is registered with its own options only, and the engine orders it by
 * those), so a component created "after X" must hand X to the children that actually act (create
 * node groups, install add-ons, start pods), plus their local dependencies.
 */
export function inheritedDependsOn(
  opts: pulumi.ComponentResourceOptions | undefined,
  ...local: pulumi.Resource[]
): pulumi.Resource[] {
  const inherited = opts?.dependsOn;
  if (inherited === undefined) {
    return local;
  }
  const list: unknown[] = Array.isArray(inherited) ? inherited : [inherited];
  const resources = list.filter((d): d is pulumi.Resource => pulumi.Resource.isInstance(d));
  if (resources.length !== list.length) {
    throw new Error(
      "inheritedDependsOn: a component's dependsOn must be resources, not outputs or promises of resources " +
        "(they cannot be handed on to its children). Fix: pass the resources themselves.",
    );
  }
  return [...resources, ...local];
}
