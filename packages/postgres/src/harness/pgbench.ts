/**
 * Parsing of pgbench 15 output (pure): the summary it prints and its per-transaction log (`-l`),
 * from which the benchmark computes throughput and latency percentiles over the interval in which
 * every client was running (pgbench's own figures include the ramp-up while clients log in).
 */

/** What pgbench printed at the end of a run. */
export interface PgbenchSummary {
  readonly clients: number;
  readonly threads: number;
  readonly processed: number;
  readonly failed: number;
  /** `tps = ... (without initial connection time)`. */
  readonly tps: number;
  readonly latencyAverageMs: number;
  readonly initialConnectionMs: number;
  /** "Run was aborted": a client hit an error it does not retry (e.g. a lost connection). */
  readonly aborted: boolean;
}

export function parsePgbench(stdout: string): PgbenchSummary {
  const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? NaN);
  return {
    clients: num(/number of clients: (\d+)/),
    threads: num(/number of threads: (\d+)/),
    processed: num(/number of transactions actually processed: (\d+)/),
    failed: num(/number of failed transactions: (\d+)/),
    tps: num(/tps = ([\d.]+)/),
    latencyAverageMs: num(/latency average = ([\d.]+) ms/),
    initialConnectionMs: num(/initial connection time = ([\d.]+) ms/),
    aborted: /Run was aborted/.test(stdout),
  };
}

/** One line of pgbench's per-transaction log. */
export interface PgbenchTransaction {
  readonly client: number;
  /** End of the transaction, epoch milliseconds (microsecond precision). */
  readonly endMs: number;
  /** Elapsed time of the transaction, ms; undefined when it failed or was skipped. */
  readonly latencyMs?: number;
}

/**
 * Parses `client_id transaction_no time script_no time_epoch time_us [...]` lines (pgbench 15:
 * `time` is microseconds, or `failed` / `skipped`). Throws on a line of another shape, so a
 * format change cannot silently produce empty statistics.
 */
export function parsePgbenchLog(text: string): PgbenchTransaction[] {
  const out: PgbenchTransaction[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const f = line.split(/\s+/);
    const [client, , time, , epoch, micros] = f;
    if (f.length < 6 || !/^\d+$/.test(client) || !/^\d+$/.test(epoch) || !/^\d+$/.test(micros)) {
      throw new Error(`pgbench log line ${i + 1} is not "client tx time script epoch us": ${line}`);
    }
    const endMs = Number(epoch) * 1000 + Number(micros) / 1000;
    if (/^\d+$/.test(time)) out.push({ client: Number(client), endMs, latencyMs: Number(time) / 1000 });
    else if (time === "failed" || time === "skipped") out.push({ client: Number(client), endMs });
    else throw new Error(`pgbench log line ${i + 1}: unknown time field "${time}": ${line}`);
  }
  return out;
}

/** Throughput and latencies over the interval in which every client was running. */
export interface SteadyState {
  /** Start of the interval: the last client's first transaction end (all clients logged in). */
  readonly fromMs: number;
  /** End: the first client's last transaction end (no client finished yet). */
  readonly toMs: number;
  readonly clients: number;
  readonly transactions: number;
  readonly failed: number;
  readonly tps: number;
  /** Latencies (ms) of the successful transactions ending inside the interval, ascending. */
  readonly latenciesMs: readonly number[];
}

/**
 * The steady part of a closed-loop run: transactions ending between the moment the last client
 * completed its first transaction and the moment the first client completed its last one.
 * Throws when that interval is empty (the run was too short for its clients to overlap).
 */
export function steadyState(transactions: readonly PgbenchTransaction[]): SteadyState {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (const t of transactions) {
    first.set(t.client, Math.min(first.get(t.client) ?? Infinity, t.endMs));
    last.set(t.client, Math.max(last.get(t.client) ?? -Infinity, t.endMs));
  }
  if (first.size === 0)
    throw new Error("pgbench logged no transaction: the run ended before any client got going");
  const fromMs = Math.max(...first.values());
  const toMs = Math.min(...last.values());
  if (!(toMs > fromMs)) {
    throw new Error(
      `no interval in which all ${first.size} clients were running (last first end ${fromMs}, first last end ${toMs}): run longer`,
    );
  }
  const inside = transactions.filter((t) => t.endMs > fromMs && t.endMs <= toMs);
  const latenciesMs = inside
    .flatMap((t) => (t.latencyMs === undefined ? [] : [t.latencyMs]))
    .sort((a, b) => a - b);
  return {
    fromMs,
    toMs,
    clients: first.size,
    transactions: latenciesMs.length,
    failed: inside.length - latenciesMs.length,
    tps: (latenciesMs.length * 1000) / (toMs - fromMs),
    latenciesMs,
  };
}
