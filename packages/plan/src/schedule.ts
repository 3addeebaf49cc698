/**
 * Runs tasks of a dependency graph with bounded parallelism: a task starts once all its
 * dependencies finished successfully; tasks whose dependency failed are skipped (reported with the
 * failed dependency); independent tasks run concurrently up to `concurrency`.
 */

/** A node of the graph. */
export interface Task<T> {
  readonly id: string;
  readonly dependsOn: readonly string[];
  readonly run: () => Promise<T>;
}

/** How a task ended. */
export type Outcome<T> =
  | { readonly status: "ok"; readonly value: T }
  | { readonly status: "failed"; readonly error: Error }
  | { readonly status: "skipped"; readonly because: string };

/** Runs the graph; rejects only for a malformed graph (unknown dependency or cycle). */
export async function runGraph<T>(
  tasks: readonly Task<T>[],
  concurrency: number,
): Promise<Map<string, Outcome<T>>> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  for (const t of tasks) {
    for (const d of t.dependsOn) {
      if (!byId.has(d)) {
        throw new Error(`task ${t.id} depends on unknown task ${d}`);
      }
    }
  }
  const outcomes = new Map<string, Outcome<T>>();
  const running = new Map<string, Promise<void>>();
  const limit = Math.max(1, concurrency);

  const ready = (t: Task<T>) => t.dependsOn.every((d) => outcomes.has(d));
  while (outcomes.size < tasks.length) {
    let progressed = false;
    for (const t of tasks) {
      if (outcomes.has(t.id) || running.has(t.id) || !ready(t)) {
        continue;
      }
      const blocked = t.dependsOn.find((d) => outcomes.get(d)?.status !== "ok");
      if (blocked !== undefined) {
        const o = outcomes.get(blocked)!;
        outcomes.set(t.id, {
          status: "skipped",
          because: o.status === "skipped" ? o.because : blocked,
        });
        progressed = true;
        continue;
      }
      if (running.size >= limit) {
        continue;
      }
      const p = t.run().then(
        (value) => void outcomes.set(t.id, { status: "ok", value }),
        (e: unknown) =>
          void outcomes.set(t.id, { status: "failed", error: e instanceof Error ? e : new Error(String(e)) }),
      );
      running.set(
        t.id,
        p.finally(() => running.delete(t.id)),
      );
      progressed = true;
    }
    if (running.size > 0) {
      await Promise.race(running.values());
    } else if (!progressed) {
      const stuck = tasks.filter((t) => !outcomes.has(t.id)).map((t) => t.id);
      throw new Error(`dependency cycle among: ${stuck.join(", ")}`);
    }
  }
  return outcomes;
}
