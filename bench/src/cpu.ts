import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

/**
 * CPU time of processes and of the whole machine, from /proc (Linux): what the pooler benchmark
 * reports as PgBouncer's CPU share, and the breakdown (PgBouncer / PostgreSQL / pgbench / rest)
 * that says what bounds throughput on a 2-core machine.
 */

/** Fields of /proc/<pid>/stat the meter needs. */
export interface ProcStat {
  readonly state: string;
  readonly ppid: number;
  /** utime + stime, clock ticks. */
  readonly cpuTicks: number;
  readonly startTime: number;
}

/** Parses /proc/<pid>/stat (the command name, field 2, may contain spaces and parentheses). */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // rest[0] is field 3 (state); fields 14/15 (utime/stime) are rest[11]/rest[12]; 22 (starttime) rest[19].
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTime = Number(rest[19]);
  if (![utime, stime, startTime].every(Number.isFinite)) {
    throw new Error(`unexpected /proc/<pid>/stat fields: ${text.slice(0, 120)}`);
  }
  return { state: rest[0], ppid: Number(rest[1]), cpuTicks: utime + stime, startTime };
}

/** Busy and total ticks of all CPUs, from the first line of /proc/stat. */
export interface MachineTicks {
  readonly busy: number;
  readonly total: number;
}

export function parseMachineStat(text: string): MachineTicks {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error("no aggregate cpu line in /proc/stat");
  // user nice system idle iowait irq softirq steal (guest times are already in user/nice).
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (v.length < 8 || !v.every(Number.isFinite)) throw new Error(`unexpected /proc/stat line: ${line}`);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

let clockTicks: number | undefined;

/** USER_HZ (clock ticks per second) of this kernel. */
export function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  return clockTicks;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** A group of processes measured together: the PIDs it has now (re-evaluated at every sample). */
export type ProcessGroup = () => readonly number[];

/** CPU seconds per group and for the whole machine over a measured interval. */
export interface CpuUsage {
  readonly wallSeconds: number;
  /** CPU seconds each group used (processes that started during the interval count from 0). */
  readonly groups: Readonly<Record<string, number>>;
  /** CPU seconds the machine was busy, all processes (ours and the neighbours'). */
  readonly machineBusySeconds: number;
  readonly cpus: number;
}

/** Cumulative CPU ticks per group and of the machine at one instant. */
export interface CpuSample {
  readonly t: number;
  readonly groups: Readonly<Record<string, number>>;
  readonly machineBusy: number;
}

/**
 * Usage between the first sample at or after `fromMs` and the last at or before `toMs` (pure).
 * Throws when fewer than two samples fall inside.
 */
export function usageBetween(
  samples: readonly CpuSample[],
  fromMs: number,
  toMs: number,
  hz: number,
  cpus: number,
): CpuUsage {
  const inside = samples.filter((s) => s.t >= fromMs && s.t <= toMs);
  if (inside.length < 2) throw new Error(`fewer than 2 CPU samples between ${fromMs} and ${toMs}`);
  const a = inside[0];
  const b = inside[inside.length - 1];
  const groups = Object.fromEntries(
    Object.keys(b.groups).map((g) => [g, ((b.groups[g] ?? 0) - (a.groups[g] ?? 0)) / hz]),
  );
  return {
    wallSeconds: (b.t - a.t) / 1000,
    groups,
    machineBusySeconds: (b.machineBusy - a.machineBusy) / hz,
    cpus,
  };
}

/**
 * Samples groups of processes every `intervalMs`. Each sample holds the cumulative CPU of every
 * process seen so far (a process that has ended keeps its last value; a PID is keyed with its
 * start time so a reused PID is a new process), so the difference of two samples is the CPU used
 * in between.
 */
export class CpuMeter {
  readonly samples: CpuSample[] = [];
  private readonly latest = new Map<string, { group: string; ticks: number }>();
  private readonly baseline = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly groups: Readonly<Record<string, ProcessGroup>>,
    private readonly cpus: number,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  private sample(): void {
    const first = this.samples.length === 0;
    for (const [group, pids] of Object.entries(this.groups)) {
      for (const pid of pids()) {
        const stat = readStat(pid);
        if (!stat) continue;
        const key = `${pid}:${stat.startTime}`;
        // Processes already running at the first sample count from there; later ones from 0.
        if (!this.baseline.has(key)) this.baseline.set(key, first ? stat.cpuTicks : 0);
        this.latest.set(key, { group, ticks: stat.cpuTicks });
      }
    }
    const totals: Record<string, number> = Object.fromEntries(Object.keys(this.groups).map((g) => [g, 0]));
    for (const [key, { group, ticks }] of this.latest) {
      totals[group] = (totals[group] ?? 0) + ticks - (this.baseline.get(key) ?? 0);
    }
    const machine = parseMachineStat(fs.readFileSync("/proc/stat", "utf8"));
    this.samples.push({ t: Date.now(), groups: totals, machineBusy: machine.busy });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
  }

  /** CPU used between two instants of the sampled period. */
  usageBetween(fromMs: number, toMs: number): CpuUsage {
    return usageBetween(this.samples, fromMs, toMs, ticksPerSecond(), this.cpus);
  }
}
