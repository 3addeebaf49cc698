import * as fs from "node:fs";
import { aliasMatches } from "./aliases";
import {
  PLAN_FORMAT,
  type PlanDocument,
  type PlanError,
  type PlannedResource,
  type PolicyFinding,
  SECRET,
  type StackPlan,
  UNKNOWN,
} from "./model";
import { isStateful, replacementTrigger } from "./stateful";

/**
 * Compares two plan documents (`pnpm plan --json`) the way a reviewer reads a pull request: per
 * stack (matched by `project/stack`) the resources added, removed, renamed and changed (by URN, with
 * the input paths that differ), and the policy findings that appear or go away. A head resource
 * whose alias (own or inherited from a renamed parent, as the engine computes it: `aliases.ts`)
 * names a base resource's URN is that resource renamed, its state kept, not a delete and an add.
 * Stateful resources (`stateful.ts`) that would be deleted or replaced are listed on their own. The documents are
 * already redacted (secrets are {@link SECRET}), so nothing here can reveal a secret: two secret
 * values compare equal because their content is not in the document.
 */

/** Why a plan document could not be used (exit code 2 of `plan:diff`). */
export class PlanInputError extends Error {
  override readonly name = "PlanInputError";
}

/** What kind of value changed. */
export type ChangeKind = "input" | "option" | "output";

/** One value that differs between base and head. `undefined` on a side means "not set". */
export interface ValueChange {
  readonly kind: ChangeKind;
  /** `a.b[0].c`; `policy(json).Statement[0]` inside a JSON document held in a string. */
  readonly path: string;
  readonly old?: unknown;
  readonly new?: unknown;
}

/** A resource as listed in a diff. */
export interface ResourceRef {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
}

/** A resource present in both plans whose inputs or options differ. */
export interface ResourceChange extends ResourceRef {
  readonly changes: readonly ValueChange[];
}

/** A resource whose URN changed, with an alias that keeps its state. */
export interface RenamedResource extends ResourceRef {
  /** The resource as the base plan named it. */
  readonly from: ResourceRef;
  /** Inputs or options that differ besides the name (references to renamed resources excepted). */
  readonly changes: readonly ValueChange[];
}

/** A stateful resource (data, keys, secrets, logs, the cluster) that this change would lose. */
export interface StatefulRisk extends ResourceRef {
  readonly action: "delete" | "replace";
  /** Why: no alias keeps it, or the input whose change makes the provider replace it. */
  readonly reason: string;
}

/** How a stack differs. */
export type StackStatus = "added" | "removed" | "changed" | "unchanged";

/** The diff of one stack. */
export interface StackDiff {
  /** `project/stack`. */
  readonly label: string;
  readonly environment: string;
  readonly status: StackStatus;
  readonly added: readonly ResourceRef[];
  readonly removed: readonly ResourceRef[];
  readonly changed: readonly ResourceChange[];
  /** Resources renamed with an alias: their state is kept (neither in `added` nor `removed`). */
  readonly renamed: readonly RenamedResource[];
  /** Stateful resources that would be deleted or replaced. */
  readonly statefulRisks: readonly StatefulRisk[];
  /** Stack outputs (the layer's contract) that differ. */
  readonly outputs: readonly ValueChange[];
  readonly newFindings: readonly PolicyFinding[];
  readonly resolvedFindings: readonly PolicyFinding[];
  /** All findings of the stack in head (new or not). */
  readonly headFindings: readonly PolicyFinding[];
}

/** A plan error with its environment. */
export interface EnvironmentError extends PlanError {
  readonly environment: string;
}

/** The diff of two plan documents. */
export interface PlanDiff {
  /** Stacks in head order, then stacks only in base. */
  readonly stacks: readonly StackDiff[];
  readonly baseErrors: readonly EnvironmentError[];
  readonly headErrors: readonly EnvironmentError[];
}

/** Reads and checks a plan document; throws {@link PlanInputError} naming the file and the problem. */
export function readPlanDocument(file: string): PlanDocument {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new PlanInputError(`${file}: cannot read the plan document (${(e as Error).message}).`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PlanInputError(
      `${file}: not JSON (${(e as Error).message}). Write plan documents with pnpm plan --env <env> --json <file>.`,
    );
  }
  return checkPlanDocument(doc, file);
}

/** Checks the shape of a parsed plan document. */
export function checkPlanDocument(doc: unknown, source: string): PlanDocument {
  const problems: string[] = [];
  const d = doc as Partial<PlanDocument> | null;
  if (typeof d !== "object" || d === null || Array.isArray(d)) {
    throw new PlanInputError(`${source}: expected a plan document (a JSON object), got ${describe(doc)}.`);
  }
  if (d.format !== PLAN_FORMAT) {
    problems.push(
      `format is ${JSON.stringify(d.format)}; this version of plan:diff reads format ${PLAN_FORMAT} (regenerate both plans with the same pnpm plan)`,
    );
  }
  if (!Array.isArray(d.environments)) {
    problems.push("environments is missing or not a list");
  } else {
    d.environments.forEach((env, i) => {
      if (typeof env?.environment !== "string") {
        problems.push(`environments[${i}].environment is not a string`);
      }
      if (!Array.isArray(env?.stacks)) {
        problems.push(`environments[${i}].stacks is not a list`);
        return;
      }
      env.stacks.forEach((s, j) => {
        const where = `environments[${i}].stacks[${j}]`;
        if (typeof s?.project !== "string" || typeof s?.stack !== "string") {
          problems.push(`${where} has no project/stack name`);
        } else if (!Array.isArray(s.resources)) {
          problems.push(`${where}.resources is not a list`);
        } else if (
          (s.resources as unknown[]).some(
            (r) => typeof (r as Partial<PlannedResource> | null)?.urn !== "string",
          )
        ) {
          problems.push(`${where}.resources has an entry without a urn`);
        }
      });
    });
  }
  if (problems.length > 0) {
    throw new PlanInputError(
      `${source} is not a plan document this tool can read:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  return d as PlanDocument;
}

function describe(v: unknown): string {
  return Array.isArray(v) ? "a list" : v === null ? "null" : typeof v;
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") {
    return `${path}[${key}]`;
  }
  const segment = IDENTIFIER.test(key) ? key : `[${JSON.stringify(key)}]`;
  return path === "" ? segment : segment.startsWith("[") ? `${path}${segment}` : `${path}.${segment}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A JSON object or array held in a string (IAM policies, rendered JSON configs), else `undefined`. */
function jsonDocument(v: unknown): unknown {
  if (typeof v !== "string" || !/^\s*[[{]/.test(v)) {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The paths where two document values differ. Equal placeholders ({@link SECRET} on both sides, or
 * {@link UNKNOWN} on both sides) are equal: the document holds nothing more to compare.
 */
export function diffValues(kind: ChangeKind, path: string, a: unknown, b: unknown): ValueChange[] {
  if (a === b) {
    return [];
  }
  if (a === undefined || b === undefined) {
    return [{ kind, path, ...(a === undefined ? {} : { old: a }), ...(b === undefined ? {} : { new: b }) }];
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: ValueChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      out.push(...diffValues(kind, childPath(path, i), a[i], b[i]));
    }
    return out;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffValues(kind, childPath(path, k), a[k], b[k]));
  }
  const ja = jsonDocument(a);
  const jb = jsonDocument(b);
  if (ja !== undefined && jb !== undefined) {
    return diffValues(kind, `${path}(json)`, ja, jb);
  }
  return [{ kind, path, old: a, new: b }];
}

/** `value` with every string that is a renamed resource's old URN replaced by its new URN. */
function renameReferences(value: unknown, renames: ReadonlyMap<string, string>): unknown {
  if (renames.size === 0) {
    return value;
  }
  if (typeof value === "string") {
    return renames.get(value) ?? value;
  }
  if (Array.isArray(value)) {
    return value.map((v) => renameReferences(v, renames));
  }
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameReferences(v, renames)]));
  }
  return value;
}

/** The changes between a base resource and its head counterpart (same URN, or renamed). */
function resourceChanges(
  b: PlannedResource,
  h: PlannedResource,
  renames: ReadonlyMap<string, string>,
): ValueChange[] {
  return [
    ...diffValues("input", "", renameReferences(b.inputs, renames), h.inputs),
    ...diffValues("option", "", renameReferences(optionView(b), renames), optionView(h)),
  ];
}

function statefulRisk(h: PlannedResource, changes: readonly ValueChange[]): StatefulRisk | undefined {
  if (!isStateful(h.type)) {
    return undefined;
  }
  const trigger = replacementTrigger(
    h.type,
    changes.filter((c) => c.kind === "input").map((c) => c.path),
    h.options.replaceOnChanges,
  );
  return trigger ? { ...ref(h), action: "replace", reason: `${trigger} changes` } : undefined;
}

/** Options and wiring that reviewers care about, compared as `kind: "option"`. */
function optionView(r: PlannedResource): Record<string, unknown> {
  return {
    protect: r.options.protect,
    retainOnDelete: r.options.retainOnDelete,
    ignoreChanges: r.options.ignoreChanges,
    replaceOnChanges: r.options.replaceOnChanges,
    additionalSecretOutputs: r.options.additionalSecretOutputs,
    ...(r.options.deleteBeforeReplace !== undefined
      ? { deleteBeforeReplace: r.options.deleteBeforeReplace }
      : {}),
    ...(r.provider !== undefined ? { provider: r.provider } : {}),
    dependencies: [...r.dependencies].sort(),
  };
}

function ref(r: PlannedResource): ResourceRef {
  return { urn: r.urn, type: r.type, name: r.name };
}

/** The stack resource is implied by the stack; it is not listed as a resource of its own. */
function listed(s: StackPlan | undefined): PlannedResource[] {
  return (s?.resources ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack");
}

function findingKey(f: PolicyFinding): string {
  return `${f.policy}\u0000${f.urn ?? ""}\u0000${f.message}`;
}

function diffFindings(base: readonly PolicyFinding[], head: readonly PolicyFinding[]) {
  const baseKeys = new Set(base.map(findingKey));
  const headKeys = new Set(head.map(findingKey));
  return {
    added: head.filter((f) => !baseKeys.has(findingKey(f))),
    resolved: base.filter((f) => !headKeys.has(findingKey(f))),
  };
}

function diffStack(environment: string, base: StackPlan | undefined, head: StackPlan | undefined): StackDiff {
  const plan = (head ?? base)!;
  const baseByUrn = new Map(listed(base).map((r) => [r.urn, r]));
  const headByUrn = new Map(listed(head).map((r) => [r.urn, r]));
  // Old URN → new URN of resources renamed with an alias.
  const renames = aliasMatches(listed(base), listed(head));
  const renamedTo = new Set(renames.values());
  const added = listed(head)
    .filter((r) => !baseByUrn.has(r.urn) && !renamedTo.has(r.urn))
    .map(ref);
  const removedResources = listed(base).filter((r) => !headByUrn.has(r.urn) && !renames.has(r.urn));
  const removed = removedResources.map(ref);
  const changed: ResourceChange[] = [];
  const renamed: RenamedResource[] = [];
  const statefulRisks: StatefulRisk[] = [];
  for (const h of listed(head)) {
    const b = baseByUrn.get(h.urn);
    if (!b) {
      continue;
    }
    const changes = resourceChanges(b, h, renames);
    if (changes.length > 0) {
      changed.push({ ...ref(h), changes });
      const risk = statefulRisk(h, changes);
      if (risk) {
        statefulRisks.push(risk);
      }
    }
  }
  for (const [from, to] of renames) {
    const b = baseByUrn.get(from)!;
    const h = headByUrn.get(to)!;
    const changes = resourceChanges(b, h, renames);
    renamed.push({ ...ref(h), from: ref(b), changes });
    const risk = statefulRisk(h, changes);
    if (risk) {
      statefulRisks.push(risk);
    }
  }
  for (const b of removedResources.filter((r) => isStateful(r.type))) {
    statefulRisks.push({
      ...ref(b),
      action: "delete",
      reason: "removed, and no alias in head keeps its state",
    });
  }
  const outputs = base && head ? diffValues("output", "", base.exports, head.exports) : [];
  const findings = diffFindings(base?.policyFindings ?? [], head?.policyFindings ?? []);
  const status: StackStatus = !base
    ? "added"
    : !head
      ? "removed"
      : added.length + removed.length + changed.length + renamed.length + outputs.length > 0
        ? "changed"
        : "unchanged";
  return {
    label: `${plan.project}/${plan.stack}`,
    environment,
    status,
    added,
    removed,
    changed,
    renamed,
    statefulRisks,
    outputs,
    newFindings: findings.added,
    resolvedFindings: findings.resolved,
    headFindings: head?.policyFindings ?? [],
  };
}

function stacksOfDocument(doc: PlanDocument): Map<string, { environment: string; plan: StackPlan }> {
  const out = new Map<string, { environment: string; plan: StackPlan }>();
  for (const env of doc.environments) {
    for (const s of env.stacks) {
      out.set(`${s.project}/${s.stack}`, { environment: env.environment, plan: s });
    }
  }
  return out;
}

function errorsOf(doc: PlanDocument): EnvironmentError[] {
  return doc.environments.flatMap((e) => e.errors.map((err) => ({ ...err, environment: e.environment })));
}

/** Compares two plan documents. */
export function diffPlans(base: PlanDocument, head: PlanDocument): PlanDiff {
  const baseStacks = stacksOfDocument(base);
  const headStacks = stacksOfDocument(head);
  const stacks: StackDiff[] = [];
  for (const [label, h] of headStacks) {
    stacks.push(diffStack(h.environment, baseStacks.get(label)?.plan, h.plan));
  }
  for (const [label, b] of baseStacks) {
    if (!headStacks.has(label)) {
      stacks.push(diffStack(b.environment, b.plan, undefined));
    }
  }
  return { stacks, baseErrors: errorsOf(base), headErrors: errorsOf(head) };
}

/** Totals of a diff, for summaries and the exit code. */
export interface DiffTotals {
  readonly stacksAdded: number;
  readonly stacksRemoved: number;
  readonly stacksChanged: number;
  readonly stacksUnchanged: number;
  readonly resourcesAdded: number;
  readonly resourcesRemoved: number;
  readonly resourcesChanged: number;
  /** Renamed with an alias, state kept. */
  readonly resourcesRenamed: number;
  readonly statefulDeleted: number;
  readonly statefulReplaced: number;
  readonly newMandatory: number;
  readonly newAdvisory: number;
  readonly resolved: number;
  readonly headMandatory: number;
  readonly headAdvisory: number;
}

/** Counts a diff. */
export function totals(diff: PlanDiff): DiffTotals {
  const sum = (f: (s: StackDiff) => number) => diff.stacks.reduce((n, s) => n + f(s), 0);
  const count = (status: StackStatus) => diff.stacks.filter((s) => s.status === status).length;
  const level = (fs: readonly PolicyFinding[], l: PolicyFinding["level"]) =>
    fs.filter((f) => f.level === l).length;
  return {
    stacksAdded: count("added"),
    stacksRemoved: count("removed"),
    stacksChanged: count("changed"),
    stacksUnchanged: count("unchanged"),
    resourcesAdded: sum((s) => s.added.length),
    resourcesRemoved: sum((s) => s.removed.length),
    resourcesChanged: sum((s) => s.changed.length),
    resourcesRenamed: sum((s) => s.renamed.length),
    statefulDeleted: sum((s) => s.statefulRisks.filter((x) => x.action === "delete").length),
    statefulReplaced: sum((s) => s.statefulRisks.filter((x) => x.action === "replace").length),
    newMandatory: sum((s) => level(s.newFindings, "mandatory")),
    newAdvisory: sum((s) => level(s.newFindings, "advisory")),
    resolved: sum((s) => s.resolvedFindings.length),
    headMandatory: sum((s) => level(s.headFindings, "mandatory")),
    headAdvisory: sum((s) => level(s.headFindings, "advisory")),
  };
}

/** Renders a document value for a human: placeholders as they are, everything else as JSON. */
export function showValue(v: unknown, maxChars = 200): string {
  if (v === undefined) {
    return "(not set)";
  }
  if (v === SECRET || v === UNKNOWN) {
    return v === UNKNOWN ? `${UNKNOWN} (known after deploy)` : SECRET;
  }
  // JSON.stringify is undefined only for functions and symbols, which plan documents never hold.
  const text = JSON.stringify(v) ?? typeof v;
  return text.length > maxChars ? `${text.slice(0, maxChars)}… (${text.length} chars)` : text;
}

/**
 * A line diff of two multi-line strings (rendered config files in ConfigMaps, user data): only the
 * changed lines, `-`/`+` prefixed, with at most `maxLines` lines. `undefined` if either side is not
 * a multi-line string.
 */
export function lineDiff(a: unknown, b: unknown, maxLines = 40): string[] | undefined {
  if (typeof a !== "string" || typeof b !== "string" || (!a.includes("\n") && !b.includes("\n"))) {
    return undefined;
  }
  const x = a.split("\n");
  const y = b.split("\n");
  // Longest common subsequence over lines; rendered configs are small (hundreds of lines).
  if (x.length * y.length > 4_000_000) {
    return [`(${x.length} → ${y.length} lines; too large to diff line by line)`];
  }
  const lcs: Uint32Array[] = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i === x.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push(`+ ${y[j++]}`);
    } else {
      out.push(`- ${x[i++]}`);
    }
  }
  return out.length > maxLines
    ? [...out.slice(0, maxLines), `… ${out.length - maxLines} more changed lines`]
    : out;
}

/** The one-line verdict on stateful resources, for the text report and the PR comment. */
export function statefulSummary(diff: PlanDiff): string {
  const risks = diff.stacks.flatMap((s) => s.statefulRisks);
  if (risks.length === 0) {
    return "Stateful resources: none would be replaced or deleted.";
  }
  const t = totals(diff);
  const parts = [
    ...(t.statefulDeleted > 0 ? [`${t.statefulDeleted} would be deleted`] : []),
    ...(t.statefulReplaced > 0 ? [`${t.statefulReplaced} would be replaced`] : []),
  ];
  return `Stateful resources: ${parts.join(", ")}: ${risks.map((r) => `${r.type} ${r.name} (${r.reason})`).join("; ")}.`;
}
