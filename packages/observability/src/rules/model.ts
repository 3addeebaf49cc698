import { stringify } from "yaml";

/**
 * The rule library's model: alerting and recording rules as data, each alert with the promtool unit
 * test cases that prove it fires when it should and stays silent in the situations that made the
 * seed rules page wrongly. Rendered to Prometheus rule files (promtool) and PrometheusRule specs
 * (prometheus-operator), from the same objects.
 */

/** How urgent an alert is; Alertmanager routes on it (critical pages, warning goes to chat). */
export type Severity = "critical" | "warning" | "info" | "none";

/** Who owns an alert (Alertmanager routes on it). */
export type Team = "platform" | "data" | "app" | "security";

/** Every team, in routing order. */
export const TEAMS: readonly Team[] = ["platform", "data", "app", "security"];

/** One input series of a promtool test: `series` selector and promtool's expanding value notation. */
export interface TestSeries {
  readonly series: string;
  readonly values: string;
}

/** A promtool test case of one alert. */
export interface AlertCase {
  /** What the case shows, e.g. "a finished Job pod is not reported". */
  readonly name: string;
  /** Sample interval of the input series. @default "1m" */
  readonly interval?: string;
  readonly series: readonly TestSeries[];
  /** When the alert is evaluated, relative to the first sample (e.g. "10m"). */
  readonly at: string;
  /**
   * The alerts expected at `at`: each is the labels the firing alert carries besides `alertname` and
   * the rule's own labels, and how its `$value` renders in the annotations (the text the templates'
   * one value expression produces). Empty: the alert must not fire.
   */
  readonly expect: ReadonlyArray<{
    readonly labels: Readonly<Record<string, string>>;
    readonly value?: string;
  }>;
}

/** An alerting rule. */
export interface AlertRule {
  readonly kind: "alert";
  readonly alert: string;
  readonly expr: string;
  /** How long the condition must hold; `0s` when one evaluation is proof enough. */
  readonly for: string;
  readonly severity: Severity;
  readonly team: Team;
  /** Extra labels (e.g. `compliance: lgpd`); values are strings. */
  readonly labels?: Readonly<Record<string, string>>;
  /** One line; may use `{{ $labels.x }}` and at most one `$value` expression (shared with description). */
  readonly summary: string;
  readonly description: string;
  /** Runbook section: file under docs/runbooks (without `.md`) and heading anchor. */
  readonly runbook: { readonly file: string; readonly anchor: string };
  readonly cases: readonly AlertCase[];
}

/** A recording rule. */
export interface RecordingRule {
  readonly kind: "record";
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A rule group (evaluated together, in order). */
export interface RuleGroup {
  readonly name: string;
  /** @default - the global evaluation interval */
  readonly interval?: string;
  readonly rules: ReadonlyArray<AlertRule | RecordingRule>;
}

/** Where runbook links point: `<base>/<file>.md#<anchor>`. */
export interface RenderContext {
  /** e.g. `https://github.com/<owner>/<repo>/blob/main/docs/runbooks`. */
  readonly runbookBaseUrl: string;
}

/** The runbook URL of an alert. */
export function runbookUrl(rule: AlertRule, ctx: RenderContext): string {
  return `${ctx.runbookBaseUrl}/${rule.runbook.file}.md#${rule.runbook.anchor}`;
}

/** A rule as Prometheus (and prometheus-operator's `spec.groups[].rules[]`) reads it. */
export type RenderedRule =
  | {
      readonly alert: string;
      readonly expr: string;
      readonly for: string;
      readonly labels: Record<string, string>;
      readonly annotations: Record<string, string>;
    }
  | { readonly record: string; readonly expr: string; readonly labels?: Record<string, string> };

/** A group as Prometheus reads it. */
export interface RenderedGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: RenderedRule[];
}

/** The labels every firing alert of a rule carries besides the series' own. */
export function ruleLabels(rule: AlertRule): Record<string, string> {
  return { severity: rule.severity, team: rule.team, ...(rule.labels ?? {}) };
}

/** The annotations of an alert as rendered into the rule file. */
export function ruleAnnotations(rule: AlertRule, ctx: RenderContext): Record<string, string> {
  return { summary: rule.summary, description: rule.description, runbook_url: runbookUrl(rule, ctx) };
}

/** Renders groups to Prometheus' structure. */
export function renderGroups(groups: readonly RuleGroup[], ctx: RenderContext): RenderedGroup[] {
  return groups.map((g) => ({
    name: g.name,
    ...(g.interval ? { interval: g.interval } : {}),
    rules: g.rules.map((r): RenderedRule =>
      r.kind === "alert"
        ? {
            alert: r.alert,
            expr: r.expr,
            for: r.for,
            labels: ruleLabels(r),
            annotations: ruleAnnotations(r, ctx),
          }
        : { record: r.record, expr: r.expr, ...(r.labels ? { labels: { ...r.labels } } : {}) },
    ),
  }));
}

/** A Prometheus rule file (`groups:`) as YAML. */
export function ruleFileYaml(groups: readonly RuleGroup[], ctx: RenderContext): string {
  return `# Rendered by @hcp/observability from its rule library; do not edit.\n${stringify(
    { groups: renderGroups(groups, ctx) },
    { lineWidth: 0 },
  )}`;
}

/** Every alerting rule of some groups. */
export function alertsOf(groups: readonly RuleGroup[]): AlertRule[] {
  return groups.flatMap((g) => g.rules.filter((r): r is AlertRule => r.kind === "alert"));
}

const LABEL_REF = /\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;
const VALUE_EXPR = /\{\{[^}]*\$value[^}]*\}\}/g;

/**
 * The annotation text an alert instance must show: `{{ $labels.x }}` replaced by the instance's
 * labels and the one `$value` expression by the case's stated rendering. Only these two template
 * forms are allowed in summaries and descriptions (checked by {@link templateProblems}).
 */
export function expectedText(
  template: string,
  labels: Readonly<Record<string, string>>,
  value?: string,
): string {
  return template
    .replace(LABEL_REF, (_, name: string) => labels[name] ?? "")
    .replace(VALUE_EXPR, () => {
      if (value === undefined) {
        throw new Error(`a case of a template with $value must say how the value renders: ${template}`);
      }
      return value;
    });
}

/** Problems with an alert's templates (only `$labels.x` and one distinct `$value` expression). */
export function templateProblems(rule: AlertRule): string[] {
  const problems: string[] = [];
  const values = new Set<string>();
  for (const text of [rule.summary, rule.description]) {
    const rest = text.replace(LABEL_REF, "").replace(VALUE_EXPR, (m) => {
      values.add(m.replace(/\s+/g, " "));
      return "";
    });
    if (/\{\{/.test(rest)) {
      problems.push(`${rule.alert}: only {{ $labels.x }} and one $value expression are allowed in: ${text}`);
    }
  }
  if (values.size > 1) {
    problems.push(`${rule.alert}: more than one distinct $value expression (${[...values].join(", ")})`);
  }
  return problems;
}

/** One promtool run: rule files (name → YAML) and the unit-test file exercising them. */
export interface PromtoolSuite {
  readonly name: string;
  readonly ruleFiles: Readonly<Record<string, string>>;
  readonly testFile: string;
}

/**
 * promtool unit-test suites, one per group with alerts: each loads only its group and the recording
 * groups it reads, and evaluates at the group's own interval (or the global one). promtool evaluates
 * every loaded rule at every step up to a case's `eval_time`, so the 3-day SLO cases against the
 * whole library would take minutes; per-group suites keep them to seconds and test the same rules.
 */
export function promtoolSuites(
  groups: readonly RuleGroup[],
  ctx: RenderContext,
  evaluationInterval: string,
): PromtoolSuite[] {
  const recordedBy = new Map<string, RuleGroup>();
  for (const g of groups) for (const r of g.rules) if (r.kind === "record") recordedBy.set(r.record, g);
  const fileOf = (g: RuleGroup) => `${g.name}.rules.yml`;
  return groups
    .filter((g) => alertsOf([g]).length > 0)
    .map((g) => {
      const needed = new Map<string, RuleGroup>([[g.name, g]]);
      const pending = [g];
      while (pending.length > 0) {
        const next = pending.pop()!;
        for (const r of next.rules) {
          for (const m of metricNames(r.expr)) {
            const dep = recordedBy.get(m);
            if (dep && !needed.has(dep.name)) {
              needed.set(dep.name, dep);
              pending.push(dep);
            }
          }
        }
      }
      const ruleFiles = Object.fromEntries(
        [...needed.values()].map((d) => [fileOf(d), ruleFileYaml([d], ctx)]),
      );
      return {
        name: g.name,
        ruleFiles,
        testFile: promtoolTests([g], ctx, Object.keys(ruleFiles), g.interval ?? evaluationInterval),
      };
    });
}

/** A promtool unit-test file for the alerts of `groups`, loading `ruleFiles`. */
export function promtoolTests(
  groups: readonly RuleGroup[],
  ctx: RenderContext,
  ruleFiles: readonly string[],
  evaluationInterval: string,
): string {
  const tests = alertsOf(groups).flatMap((rule) =>
    rule.cases.map((c) => ({
      name: `${rule.alert}: ${c.name}`,
      interval: c.interval ?? "1m",
      input_series: c.series.map((s) => ({ series: s.series, values: s.values })),
      alert_rule_test: [
        {
          eval_time: c.at,
          alertname: rule.alert,
          exp_alerts: c.expect.map((e) => {
            const labels = { ...e.labels, ...ruleLabels(rule) };
            return {
              exp_labels: labels,
              exp_annotations: {
                summary: expectedText(rule.summary, labels, e.value),
                description: expectedText(rule.description, labels, e.value),
                runbook_url: runbookUrl(rule, ctx),
              },
            };
          }),
        },
      ],
    })),
  );
  return stringify(
    { rule_files: [...ruleFiles], evaluation_interval: evaluationInterval, tests },
    { lineWidth: 0 },
  );
}

/** Prometheus' `humanizeDuration` template function for whole seconds (template/template.go). */
export function humanizeDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d !== 0) return `${d}d ${h}h ${m}m ${s}s`;
  if (h !== 0) return `${h}h ${m}m ${s}s`;
  if (m !== 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Metric names an expression reads (identifiers followed by a selector or standing alone). */
export function metricNames(expr: string): string[] {
  const keywords = new Set([
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    // Aggregation operators may be followed by `by (...)` before their parenthesis.
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
  ]);
  // Drop strings (label values, regexes) and label-matcher blocks first.
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]");
  const names = new Set<string>();
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\(?)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(stripped))) {
    const [, name, paren] = m;
    const before = stripped.slice(0, m.index);
    // A function call, a keyword, a grouping label list (`by (a, b)`) or a number suffix is not a metric.
    if (paren === "(" || keywords.has(name.toLowerCase())) continue;
    if (/(by|without|on|ignoring|group_left|group_right)\s*\([^)]*$/.test(before)) continue;
    if (/\d$/.test(before) || /^[0-9]/.test(name)) continue;
    if (/^(e[0-9]+|[smhdwy])$/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}
