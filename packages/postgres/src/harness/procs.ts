import * as fs from "node:fs";

/**
 * Process-table helpers over /proc. Every kill goes to an exact PID whose start time still matches
 * the one recorded when the process was first seen, so a recycled PID is never signalled.
 */

/** A process identified by PID and kernel start time (clock ticks since boot). */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: number;
}

interface StatLine {
  readonly ppid: number;
  readonly startTime: number;
  readonly state: string;
}

function readStat(pid: number): StatLine | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state), rest[1] field 4 (ppid), rest[19] field 22 (starttime).
  return { state: rest[0] ?? "?", ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

/** The identity of a live process, or undefined when it is gone (zombies count as gone). */
export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  if (stat === undefined || stat.state === "Z" || stat.state === "X") return undefined;
  return { pid, startTime: stat.startTime };
}

/** True when the process recorded in `identity` is still running (not a zombie, PID not reused). */
export function isAlive(identity: ProcessIdentity): boolean {
  const now = identify(identity.pid);
  return now !== undefined && now.startTime === identity.startTime;
}

/** The command line of a process, arguments joined by spaces ("" when gone). */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** Every live descendant of `pid` (children first found, depth-first), excluding `pid` itself. */
export function descendants(pid: number): ProcessIdentity[] {
  const children = new Map<number, ProcessIdentity[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const child = Number(entry);
    const stat = readStat(child);
    if (stat === undefined || stat.state === "Z") continue;
    const list = children.get(stat.ppid) ?? [];
    list.push({ pid: child, startTime: stat.startTime });
    children.set(stat.ppid, list);
  }
  const found: ProcessIdentity[] = [];
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    found.push(next);
    stack.push(...(children.get(next.pid) ?? []));
  }
  return found;
}

/**
 * Live processes of user `uid` whose command line mentions `marker` (a unique temporary directory):
 * helpers that detach from their parent, such as pgBackRest's asynchronous archive-push process.
 */
export function processesMentioning(marker: string, uid: number): ProcessIdentity[] {
  const found: ProcessIdentity[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let owner: number;
    try {
      owner = fs.statSync(`/proc/${pid}`).uid;
    } catch {
      continue;
    }
    if (owner !== uid || !commandLine(pid).includes(marker)) continue;
    const identity = identify(pid);
    if (identity) found.push(identity);
  }
  return found;
}

/** Sends `signal` to each process that is still the one recorded; returns the PIDs signalled. */
export function signalAll(identities: readonly ProcessIdentity[], signal: NodeJS.Signals): number[] {
  const signalled: number[] = [];
  for (const identity of identities) {
    if (!isAlive(identity)) continue;
    try {
      process.kill(identity.pid, signal);
      signalled.push(identity.pid);
    } catch {
      // Exited between the check and the signal.
    }
  }
  return signalled;
}

/** The postmaster of a data directory (first line of postmaster.pid) if it is running. */
export function postmasterOf(dataDir: string): ProcessIdentity | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${dataDir}/postmaster.pid`, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const identity = identify(pid);
  if (identity === undefined) return undefined;
  // A stale pid file may name a PID that now belongs to something else.
  return /postgres|postmaster/.test(commandLine(pid)) ? identity : undefined;
}

/** Resolves once `check` returns a value other than undefined, polling every `intervalMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; detail?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      const detail = options.detail ? `\n${options.detail()}` : "";
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${cause}${detail}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
