import type { ProgramRun } from "./run";
import type { RegisteredResource } from "./recorder";

/**
 * The conventions of DESIGN §6 checked over what a program actually registered, so every layer's
 * tests enforce them the same way:
 *
 * - a component's type token is `hcp:<package>:<ClassName>` and names the class that registered it;
 * - every child's name starts with its component's name (`<component>` or `<component>-...`);
 * - siblings are not told apart by position (`-0`, `-1`, ..., `-1`, `-2`, ... or evenly stepped numbers
 *   such as rule numbers assigned in list order), which would make a reorder replace resources: names
 *   carry an identity (zone, service account, port);
 * - every custom resource, and every remote component, has an explicit provider (default providers
 *   are disabled in every project);
 * - stateful resources are `protect`ed in production;
 * - a component's `dependsOn` reaches every resource below it (Pulumi does not pass it on by itself).
 */

/** Types whose deletion or replacement loses data or identity. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws:kms/key:Key",
  "aws:kms/replicaKey:ReplicaKey",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:eks/cluster:Cluster",
  "aws:ebs/volume:Volume",
  "aws:secretsmanager/secret:Secret",
  "aws:route53/zone:Zone",
  "aws:ecr/repository:Repository",
  "aws:cloudtrail/trail:Trail",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:amp/workspace:Workspace",
  "aws:sns/topic:Topic",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:core/v1:PersistentVolumeClaim",
]);

/** A positional name that is nevertheless an identity, with the reason. */
export interface PositionalException {
  /** Matches the full logical name. */
  readonly name: RegExp;
  /** Why the number is the resource's identity, not its position in a list. */
  readonly because: string;
}

/** Options of {@link conventionViolations}. */
export interface ConventionOptions {
  /** Production stacks must protect stateful resources. */
  readonly tier: "production" | "nonproduction";
  /** Names whose trailing number is an identity (e.g. a pgBackRest `repo1`). @default - none */
  readonly positionalExceptions?: readonly PositionalException[];
  /**
   * Stateful resources that are deliberately not protected in production, with the reason (e.g. a
   * bucket whose contents are a cache). @default - none
   */
  readonly unprotectedStateful?: ReadonlyArray<{ readonly name: RegExp; readonly because: string }>;
}

/** One broken convention. */
export interface ConventionViolation {
  readonly rule:
    | "type-token"
    | "child-name"
    | "positional-name"
    | "explicit-provider"
    | "protect-stateful"
    | "inherited-depends-on";
  readonly urn: string;
  readonly message: string;
}

const TOKEN_RE = /^hcp:([a-z][a-z0-9]*):([A-Z][A-Za-z0-9]*)$/;
const POSITION_RE = /^(.*?)-?(\d+)$/;

function isStack(r: RegisteredResource): boolean {
  return r.type === "pulumi:pulumi:Stack";
}

function isProvider(r: RegisteredResource): boolean {
  return r.type.startsWith("pulumi:providers:");
}

/** Every convention a run breaks (empty when it keeps them all). */
export function conventionViolations(run: ProgramRun, options: ConventionOptions): ConventionViolation[] {
  const out: ConventionViolation[] = [];
  const resources = run.resources.filter((r) => !r.read);
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const components = resources.filter((r) => !r.custom && !r.remote && !isStack(r));

  for (const c of components) {
    const m = TOKEN_RE.exec(c.type);
    if (!m) {
      out.push({
        rule: "type-token",
        urn: c.urn,
        message: `component type ${c.type} is not hcp:<package>:<ClassName>`,
      });
    } else if (c.className !== undefined && m[2] !== c.className) {
      out.push({
        rule: "type-token",
        urn: c.urn,
        message: `component type ${c.type} is registered by class ${c.className}: name the token hcp:${m[1]}:${c.className} (with an alias to the old type)`,
      });
    }
  }

  for (const r of resources) {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent && !isStack(parent) && !isProvider(r)) {
      if (r.name !== parent.name && !r.name.startsWith(`${parent.name}-`)) {
        out.push({
          rule: "child-name",
          urn: r.urn,
          message: `${r.name} is a child of ${parent.name}: its name must start with "${parent.name}-"`,
        });
      }
    }
  }

  // Siblings numbered 0..n-1 or 1..n under one stem are positional.
  const groups = new Map<string, RegisteredResource[]>();
  for (const r of resources) {
    const m = POSITION_RE.exec(r.name);
    if (m && m[1].length > 0) {
      const key = `${r.parent ?? ""}\u0000${r.type}\u0000${m[1]}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
  }
  for (const members of groups.values()) {
    if (members.length < 2) {
      continue;
    }
    const numbers = members.map((r) => Number(POSITION_RE.exec(r.name)![2])).sort((a, b) => a - b);
    // 0..n-1, 1..n, or any evenly stepped run (rule numbers 100, 110, 120 assigned in list order).
    const step = numbers[1] - numbers[0];
    const progression = step > 0 && numbers.every((n, i) => n === numbers[0] + step * i);
    if (!progression) {
      continue;
    }
    for (const r of members) {
      if (options.positionalExceptions?.some((e) => e.name.test(r.name))) {
        continue;
      }
      out.push({
        rule: "positional-name",
        urn: r.urn,
        message: `${r.name} is numbered by position among ${members.length} siblings: key it by what it is (zone, name, port) and alias the old name`,
      });
    }
  }

  for (const r of resources) {
    if ((r.custom || r.remote) && !isProvider(r)) {
      if (!r.provider || /::default(_[0-9_]+)?$/.test(r.provider) || r.provider.includes("::default_")) {
        out.push({
          rule: "explicit-provider",
          urn: r.urn,
          message: `${r.type} ${r.name} has no explicit provider`,
        });
      }
    }
  }

  if (options.tier === "production") {
    for (const r of resources) {
      if (STATEFUL_TYPES.has(r.type) && !r.options.protect) {
        if (options.unprotectedStateful?.some((e) => e.name.test(r.name))) {
          continue;
        }
        out.push({
          rule: "protect-stateful",
          urn: r.urn,
          message: `${r.type} ${r.name} holds state but is not protected in production`,
        });
      }
    }
  }

  // A component's dependencies (its dependsOn) must be dependencies of every custom resource below it.
  const childrenOf = new Map<string, RegisteredResource[]>();
  for (const r of resources) {
    if (r.parent) {
      childrenOf.set(r.parent, [...(childrenOf.get(r.parent) ?? []), r]);
    }
  }
  const descendants = (urn: string): RegisteredResource[] =>
    (childrenOf.get(urn) ?? []).flatMap((c) => [c, ...descendants(c.urn)]);
  for (const c of components) {
    if (c.dependencies.length === 0) {
      continue;
    }
    for (const d of descendants(c.urn).filter((x) => x.custom || x.remote)) {
      const missing = c.dependencies.filter((dep) => !d.dependencies.includes(dep));
      if (missing.length > 0) {
        const names = missing.map((u) => u.slice(u.lastIndexOf("::") + 2));
        out.push({
          rule: "inherited-depends-on",
          urn: d.urn,
          message: `${d.name} is below ${c.name}, whose dependsOn it does not have (${names.length}: ${names.slice(0, 3).join(", ")}${names.length > 3 ? ", ..." : ""}): pass the component's dependsOn to its children`,
        });
      }
    }
  }
  return out;
}

/** Throws listing every convention the run breaks. */
export function assertConventions(run: ProgramRun, options: ConventionOptions): void {
  const violations = conventionViolations(run, options);
  if (violations.length > 0) {
    throw new Error(
      `${run.project}/${run.stack} breaks ${violations.length} convention(s):\n${violations
        .map((v) => `  - [${v.rule}] ${v.message}\n      ${v.urn}`)
        .join("\n")}`,
    );
  }
}
