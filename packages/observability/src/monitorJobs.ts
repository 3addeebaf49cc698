/**
 * Which `job` label the targets of a ServiceMonitor / PodMonitor get, and whether the rules' and
 * dashboards' `job` matchers select one of them. A rule that selects a job no monitor produces is
 * silent forever (the seeds' `PgbouncerDown` read `job="pgbouncer-exporter"` while the operator
 * named the job `hcp-data/pgbouncer-exporter`), so the build checks it.
 *
 * The naming follows prometheus-operator (pkg/prometheus/promcfg.go, `generatePodMonitorConfig` and
 * `generateServiceMonitorConfig`): a PodMonitor's job is `<namespace>/<name>`, a ServiceMonitor's the
 * Service's name; `jobLabel` then takes the value of that pod / Service label where it has one; the
 * endpoint's `relabelings` run after both.
 */

/** A monitor object as this layer creates it (the fields the job depends on). */
export interface MonitorManifest {
  readonly kind: "ServiceMonitor" | "PodMonitor";
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** The job of one monitor endpoint: a known name, or why it cannot be known from the monitor alone. */
export type ProducedJob = { readonly job: string } | { readonly unknown: string };

interface Relabeling {
  readonly action?: string;
  readonly sourceLabels?: readonly string[];
  readonly targetLabel?: string;
  readonly replacement?: string;
  readonly regex?: string;
}

/** The jobs of a monitor's endpoints, one per endpoint, in order. */
export function producedJobs(m: MonitorManifest): ProducedJob[] {
  const spec = m.spec as {
    readonly jobLabel?: string;
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> };
    readonly endpoints?: ReadonlyArray<{ readonly relabelings?: readonly Relabeling[] }>;
    readonly podMetricsEndpoints?: ReadonlyArray<{ readonly relabelings?: readonly Relabeling[] }>;
  };
  const endpoints = (m.kind === "PodMonitor" ? spec.podMetricsEndpoints : spec.endpoints) ?? [];
  return endpoints.map((ep): ProducedJob => {
    let job: ProducedJob =
      m.kind === "PodMonitor"
        ? { job: `${m.metadata.namespace}/${m.metadata.name}` }
        : {
            unknown: `the name of the Service ServiceMonitor ${m.metadata.namespace}/${m.metadata.name} selects`,
          };
    if (spec.jobLabel) {
      // The label's value replaces the default only on targets that carry it: known when the
      // selector pins it, else it may differ per target.
      const pinned = spec.selector?.matchLabels?.[spec.jobLabel];
      job = pinned ? { job: pinned } : { unknown: `the value of label ${spec.jobLabel} on each target` };
    }
    for (const r of ep.relabelings ?? []) {
      const action = (r.action ?? "replace").toLowerCase();
      if (action === "replace" && r.targetLabel === "job") {
        const literal =
          (r.sourceLabels ?? []).length === 0 &&
          r.replacement !== undefined &&
          !r.replacement.includes("$") &&
          (r.regex === undefined || r.regex === "(.*)");
        job = literal ? { job: r.replacement } : { unknown: `a relabeling of job from ${JSON.stringify(r)}` };
      } else if (["labeldrop", "labelkeep", "labelmap"].includes(action)) {
        job = { unknown: `a ${action} relabeling that may change job` };
      }
    }
    return job;
  });
}

/** A `job` matcher of a PromQL expression. */
export interface JobMatcher {
  readonly op: "=" | "!=" | "=~" | "!~";
  readonly value: string;
}

/** The `job` label matchers of an expression (in selectors: `job="x"`, `job=~"a|b"`, ...). */
export function jobMatchers(expr: string): JobMatcher[] {
  const re = /(?<![A-Za-z0-9_])job\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
  return [...expr.matchAll(re)].map((m) => ({
    op: m[1] as JobMatcher["op"],
    value: JSON.parse(`"${m[2]}"`) as string,
  }));
}

/** Whether a positive matcher selects a job (regexes are anchored, as in PromQL). */
export function matchesJob(m: JobMatcher, job: string): boolean {
  return m.op === "=" ? m.value === job : m.op === "=~" ? new RegExp(`^(?:${m.value})$`).test(job) : false;
}

/** An expression to check, named for the report (an alert, a recording rule, a panel). */
export interface NamedExpr {
  readonly name: string;
  readonly expr: string;
}

/** A positive `job` matcher that selects no job the monitors produce. */
export interface JobProblem {
  readonly name: string;
  readonly matcher: JobMatcher;
  readonly message: string;
}

/**
 * Every positive `job` matcher (`=`, `=~`) that selects none of the produced jobs. Negative matchers
 * select everything else and cannot be silent for this reason.
 */
export function jobMatcherProblems(exprs: readonly NamedExpr[], jobs: readonly ProducedJob[]): JobProblem[] {
  const known = jobs.flatMap((j) => ("job" in j ? [j.job] : []));
  const unknown = jobs.flatMap((j) => ("unknown" in j ? [j.unknown] : []));
  return exprs.flatMap(({ name, expr }) =>
    jobMatchers(expr)
      .filter((m) => (m.op === "=" || m.op === "=~") && !known.some((j) => matchesJob(m, j)))
      .map((matcher) => ({
        name,
        matcher,
        message:
          `${name} selects job${matcher.op}"${matcher.value}", which no monitor produces ` +
          `(jobs: ${known.join(", ") || "none"}${unknown.length ? `; not known from the monitors: ${unknown.join("; ")}` : ""}). ` +
          "Fix: select the job the monitor's relabeling sets (the metrics endpoint's name).",
      })),
  );
}
