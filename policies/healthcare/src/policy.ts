import type {
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { RuleControls } from "./controls";
import type { ArgsOf, StateOf, TypeToken } from "./types";
import { Checks } from "./unknowns";

/**
 * Building blocks of the pack's rules. A rule is a `@pulumi/policy` policy plus what the pack needs
 * to know about it: its concern, the resource types it examines (for the coverage rule), and its
 * configuration defaults (which are also the `default`s of its `configSchema`).
 */

/** The concerns rules are grouped by (DESIGN §9). */
export const CONCERNS = [
  "encryption-at-rest",
  "encryption-in-transit",
  "retention",
  "residency",
  "resilience",
  "network-security",
  "kubernetes-security",
  "tagging",
  "coverage",
  "secrets-hygiene",
] as const;
export type Concern = (typeof CONCERNS)[number];

/** PHI-protecting rules block a deployment; hygiene rules report. */
export type RuleEnforcement = "mandatory" | "advisory";

/**
 * A property path of a resource type: a top-level argument of the SDK type, optionally followed by
 * `.child` segments, with `[]` after a list to mean "each element" (`rules[].destination.bucket`).
 */
export type EvidencePath<T extends TypeToken> =
  ArgumentName<ArgsOf<T>> | `${ArgumentName<ArgsOf<T>>}.${string}` | `${ArgumentName<ArgsOf<T>>}[].${string}`;

/** The argument names of an SDK type, of any member when the arguments are a union (helm v3 Chart). */
type ArgumentName<A> = A extends unknown ? keyof A & string : never;

/** Per examined type, the properties a rule's verdict depends on. */
export type EvidenceProperties = { readonly [T in TypeToken]?: readonly EvidencePath<T>[] };

/**
 * What an evidence report shows for each resource a rule examined: the values the verdict depends
 * on (secrets shown as `[secret]`, values unknown in a preview as `[unknown]`).
 */
export interface RuleEvidence {
  /** Properties of the types the rule's checks examine. */
  readonly properties?: EvidenceProperties;
  /**
   * For a check across types: resource properties (`tags.DataClassification`, `region`), the
   * provider's (`provider:region`, `provider:defaultTags.tags.DataClassification`) or the resource
   * options (`option:protect`, `option:ignoreChanges`).
   */
  readonly generic?: readonly string[];
}

/** A JSON schema for each configuration key of a rule. */
export type ConfigSchemaOf<C> = { readonly [K in keyof C]-?: PolicyConfigJSONSchema };

/** Configuration of a rule: the defaults (our posture) and the schema of each key. */
export interface RuleConfig<C> {
  readonly defaults: C;
  readonly schema: ConfigSchemaOf<C>;
}

interface RuleSpecBase<C> {
  /** Stable kebab-case name (policy config keys and CI reports refer to it). */
  readonly name: string;
  readonly concern: Concern;
  /** What the rule requires and how to fix a violation (every violation message starts with it). */
  readonly description: string;
  /** Step-by-step fix, shown by the Pulumi CLI / Cloud with the policy. */
  readonly remediationSteps: string;
  readonly severity: Severity;
  readonly enforcementLevel: RuleEnforcement;
  readonly config?: RuleConfig<C>;
  /**
   * The HIPAA sections and LGPD articles the rule implements and the documentation of the setting
   * it checks (src/controls.ts). Optional in the type so a new rule compiles; a pack test fails
   * until it is given.
   */
  readonly controls?: RuleControls;
  /** The properties the rule's verdict depends on, for evidence reports; a pack test requires it. */
  readonly evidence?: RuleEvidence;
}

/** What a resource check gets besides the typed props. */
export interface ResourceContext<C> {
  /** The rule's configuration: schema defaults overridden by `--policy-pack-config`. */
  readonly config: C;
  /** The analyzer's arguments (type, urn, name, opts, provider, stackTags...). */
  readonly args: ResourceValidationArgs;
  /** Reports a violation of this resource. Never put property values that may be secret in it. */
  readonly report: (message: string) => void;
}

/** A check of one resource type; `props` are the resource's inputs, typed by the SDK. */
export type ResourceCheck<T extends TypeToken, C> = (props: ArgsOf<T>, ctx: ResourceContext<C>) => void;

/** Checks by resource type. */
export type ResourceChecks<C> = { readonly [T in TypeToken]?: ResourceCheck<T, C> };

/** A check that applies across resource types (tags, residency, resource options). */
export interface GenericCheck<C> {
  /** Short text for "not applicable" answers, e.g. "taggable AWS resources". */
  readonly scope: string;
  readonly appliesTo: (type: string) => boolean;
  readonly check: (ctx: ResourceContext<C>) => void;
}

/** Specification of a resource rule. */
export interface ResourceRuleSpec<C> extends RuleSpecBase<C> {
  /** Type-specific checks; their types count as examined for the coverage rule. */
  readonly checks?: ResourceChecks<C>;
  /** A check across types; it does not count as examining any type for coverage. */
  readonly generic?: GenericCheck<C>;
}

/** A resource of a stack with typed state. */
export interface TypedResource<T extends TypeToken> {
  readonly resource: PolicyResource;
  readonly props: StateOf<T>;
}

/** What a stack check gets. */
export interface StackContext<C> {
  readonly config: C;
  readonly args: StackValidationArgs;
  /** Reports a violation, attributed to a resource if `urn` is given. */
  readonly report: (message: string, urn?: string) => void;
  /**
   * Runs a check of one resource so that an unknown value in it does not hide what the other
   * checks find; the rule still reports that it could not fully run during preview.
   */
  readonly each: (check: () => void) => void;
  /** Resources of a type, with typed state. */
  readonly ofType: <T extends TypeToken>(...types: T[]) => TypedResource<T>[];
}

/** Specification of a stack rule. */
export interface StackRuleSpec<C> extends RuleSpecBase<C> {
  /** Types whose resources the rule examines (for the coverage rule). */
  readonly examines: readonly TypeToken[];
  readonly validate: (ctx: StackContext<C>) => void;
}

/** A rule of the pack. */
export interface Rule {
  readonly policy: ResourceValidationPolicy | StackValidationPolicy;
  readonly concern: Concern;
  readonly kind: "resource" | "stack";
  /** Types the rule examines specifically (generic checks excluded). */
  readonly examines: readonly TypeToken[];
  /** Configuration defaults (also in `policy.configSchema`). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** True if the rule has a check across types (generic), which needs generic evidence. */
  readonly generic: boolean;
  readonly controls: RuleControls | undefined;
  readonly evidence: RuleEvidence | undefined;
}

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function configSchema<C>(spec: RuleSpecBase<C>): ResourceValidationPolicy["configSchema"] {
  if (!spec.config) {
    return undefined;
  }
  const { defaults, schema } = spec.config;
  const properties: Record<string, PolicyConfigJSONSchema> = {};
  for (const key of Object.keys(schema) as (keyof C & string)[]) {
    properties[key] = { ...schema[key], default: defaults[key] as PolicyConfigJSONSchema["default"] };
  }
  return { properties };
}

/** The rule's config: defaults, overridden key by key by the configured values. */
function resolveConfig<C>(spec: RuleSpecBase<C>, getConfig: () => object): C {
  return { ...(spec.config?.defaults ?? ({} as C)), ...(getConfig() as Partial<C>) };
}

function base<C>(spec: RuleSpecBase<C>) {
  if (!NAME.test(spec.name)) {
    throw new Error(`rule name '${spec.name}' must be kebab-case`);
  }
  return {
    name: spec.name,
    description: spec.description,
    remediationSteps: spec.remediationSteps,
    severity: spec.severity,
    enforcementLevel: spec.enforcementLevel,
    tags: [spec.concern],
    configSchema: configSchema(spec),
  };
}

/** Defines a rule that validates resources one at a time (the analyzer's `analyze` call). */
export function resourceRule<C extends object = Record<string, never>>(spec: ResourceRuleSpec<C>): Rule {
  const checks = (spec.checks ?? {}) as Readonly<Record<string, ResourceCheck<TypeToken, C> | undefined>>;
  const examines = Object.keys(checks) as TypeToken[];
  const scope = [...examines, ...(spec.generic ? [spec.generic.scope] : [])].join(", ");
  const validate: ResourceValidation = (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const check = checks[args.type];
    const generic = spec.generic?.appliesTo(args.type) ? spec.generic : undefined;
    if (!check && !generic) {
      args.notApplicable(`Policy applies to ${scope}`);
    }
    const ctx: ResourceContext<C> = {
      config: resolveConfig(spec, () => args.getConfig()),
      args,
      report: (message) => reportViolation(message),
    };
    const run = new Checks();
    if (check) {
      run.run(() => check(args.props as ArgsOf<TypeToken>, ctx));
    }
    if (generic) {
      run.run(() => generic.check(ctx));
    }
    run.finish();
  };
  if (examines.length === 1 && !spec.generic) {
    // Lets the server skip other types without calling the rule (as `validateResourceOfType` does).
    (validate as ResourceValidation & { __pulumiType?: string }).__pulumiType = examines[0];
  }
  return {
    policy: { ...base(spec), validateResource: validate },
    concern: spec.concern,
    kind: "resource",
    examines,
    defaults: spec.config?.defaults ?? {},
    generic: spec.generic !== undefined,
    controls: spec.controls,
    evidence: spec.evidence,
  };
}

/** Defines a rule that validates the whole stack (the analyzer's `analyzeStack` call). */
export function stackRule<C extends object = Record<string, never>>(spec: StackRuleSpec<C>): Rule {
  const validateStack: StackValidation = (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const run = new Checks();
    const ctx: StackContext<C> = {
      config: resolveConfig(spec, () => args.getConfig()),
      args,
      report: (message, urn) => reportViolation(message, urn),
      each: (check) => run.run(check),
      ofType: <T extends TypeToken>(...types: T[]) =>
        args.resources
          .filter((r) => (types as string[]).includes(r.type))
          .map((resource) => ({ resource, props: resource.props as StateOf<T> })),
    };
    run.run(() => spec.validate(ctx));
    run.finish();
  };
  return {
    policy: { ...base(spec), validateStack },
    concern: spec.concern,
    kind: "stack",
    examines: spec.examines,
    defaults: spec.config?.defaults ?? {},
    generic: false,
    controls: spec.controls,
    evidence: spec.evidence,
  };
}
