import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  descendants,
  identify,
  isAlive,
  postmasterOf,
  processesMentioning,
  signalAll,
  waitFor,
  type ProcessIdentity,
} from "./procs";

/**
 * A temporary directory owned by the `postgres` user plus every process started in it. Processes
 * run as `postgres` through spawn's uid/gid options (no runuser/su wrapper, so the PID we hold is
 * the program itself) and are stopped by PID: on `cleanup()` (mocha after hooks) and, as a last
 * resort, from process exit/signal handlers.
 */

/** The unprivileged account the engines run as (PostgreSQL refuses to run as root). */
export interface RunAs {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
}

function lookupRunAs(): RunAs {
  const user = "postgres";
  const current = os.userInfo();
  if (current.username === user) return { user, uid: current.uid, gid: current.gid };
  if (current.uid !== 0) {
    throw new Error(
      `integration tests must run as root (to start engines as ${user}) or as ${user}; running as ${current.username}`,
    );
  }
  const id = (flag: string): number => Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim());
  try {
    return { user, uid: id("-u"), gid: id("-g") };
  } catch {
    throw new Error(`user ${user} does not exist: install the postgresql-15 Debian package`);
  }
}

/** A process started by a sandbox. */
export interface Proc {
  readonly name: string;
  readonly identity: ProcessIdentity;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Set once the process has ended. */
  exitStatus: number | string | undefined;
}

/** Exit code (or signal name) and output of a finished command. */
export interface CommandResult {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Raise RLIMIT_NOFILE for this process only (applied by `prlimit`, which execs the program). */
  readonly maxOpenFiles?: number;
  /** Pipe stdout to the caller instead of the log file (stderr still goes to the log). */
  readonly pipeStdout?: boolean;
  /**
   * Who runs it: the engine user (default), or this test process's own user with its environment
   * (for tools that are not engines, such as a pyenv-installed `moto_server` the engine user cannot
   * reach). Either way the process is stopped by cleanup.
   * @default "engine"
   */
  readonly user?: "engine" | "self";
}

const live = new Set<Sandbox>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Synchronous: runs even when mocha exits on an uncaught failure.
  process.on("exit", () => {
    for (const sandbox of live) sandbox.killEverything();
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      for (const sandbox of live) sandbox.killEverything();
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    });
  }
}

export class Sandbox {
  readonly runAs: RunAs;
  readonly root: string;
  private readonly procs: Proc[] = [];
  private readonly dataDirs = new Set<string>();
  /** Postmasters (and their children) seen while running, kept so cleanup still finds them. */
  private readonly seen: ProcessIdentity[] = [];
  private cleaned = false;

  private constructor(label: string) {
    this.runAs = lookupRunAs();
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `hcp-${label}-`));
    fs.chmodSync(this.root, 0o755);
    fs.chownSync(this.root, this.runAs.uid, this.runAs.gid);
    fs.mkdirSync(this.path("logs"));
    fs.chownSync(this.path("logs"), this.runAs.uid, this.runAs.gid);
    installExitHandlers();
    live.add(this);
  }

  static create(label: string): Sandbox {
    return new Sandbox(label);
  }

  path(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  /** Creates a directory owned by the engine user (mode 0700 suits PostgreSQL data dirs). */
  mkdir(relative: string, mode = 0o700): string {
    const dir = this.path(relative);
    // Intermediate directories too: all owned by the engine user, traversable.
    const parts = path.relative(this.root, dir).split(path.sep);
    for (let i = 1; i <= parts.length; i++) {
      const current = path.join(this.root, ...parts.slice(0, i));
      if (!fs.existsSync(current)) fs.mkdirSync(current, { mode: 0o755 });
      fs.chownSync(current, this.runAs.uid, this.runAs.gid);
    }
    fs.chmodSync(dir, mode);
    return dir;
  }

  /** Writes a file owned by the engine user. */
  writeFile(relative: string, content: string, mode = 0o600): string {
    const file = this.path(relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    fs.chownSync(file, this.runAs.uid, this.runAs.gid);
    return file;
  }

  /** Remember a PostgreSQL data directory so its postmaster is stopped on cleanup. */
  trackDataDir(dataDir: string): void {
    this.dataDirs.add(dataDir);
  }

  /** The environment every engine process gets (no pyenv, no inherited PG* variables). */
  baseEnv(): Record<string, string> {
    return {
      PATH: "/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
      HOME: this.root,
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
    };
  }

  /** Starts `command` as the engine user, logging stdout/stderr to logs/<name>.log. */
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Proc {
    const logFile = this.path("logs", `${name}.log`);
    const log = fs.openSync(logFile, "a");
    fs.fchownSync(log, this.runAs.uid, this.runAs.gid);
    const [file, argv] =
      options.maxOpenFiles === undefined
        ? [command, args]
        : [
            "/usr/bin/prlimit",
            [`--nofile=${options.maxOpenFiles}:${options.maxOpenFiles}`, "--", command, ...args],
          ];
    const self = options.user === "self";
    const child = spawn(file, argv, {
      cwd: options.cwd ?? this.root,
      env: self ? { ...process.env, ...options.env } : { ...this.baseEnv(), ...options.env },
      ...(self ? {} : { uid: this.runAs.uid, gid: this.runAs.gid }),
      stdio: ["ignore", options.pipeStdout ? "pipe" : log, log],
    });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`could not start ${name}: ${command}`);
    const identity = identify(child.pid) ?? { pid: child.pid, startTime: -1 };
    let resolveExit!: (status: number | string) => void;
    const exited = new Promise<number | string>((resolve) => (resolveExit = resolve));
    const proc: Proc = { name, identity, child, logFile, exited, exitStatus: undefined };
    child.on("exit", (code, signal) => {
      proc.exitStatus = code ?? signal ?? "unknown";
      resolveExit(proc.exitStatus);
    });
    child.on("error", (error) => {
      proc.exitStatus = `spawn error: ${error.message}`;
      resolveExit(proc.exitStatus);
    });
    this.procs.push(proc);
    return proc;
  }

  /** Runs a command as the engine user to completion; throws with its output on failure. */
  run(
    command: string,
    args: readonly string[],
    options: { env?: Record<string, string>; input?: string } = {},
  ): string {
    try {
      return execFileSync(command, args, {
        cwd: this.root,
        env: { ...this.baseEnv(), ...options.env },
        uid: this.runAs.uid,
        gid: this.runAs.gid,
        encoding: "utf8",
        input: options.input,
        stdio: ["pipe", "pipe", "pipe"],
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      const e = error as { status?: number; stdout?: string; stderr?: string };
      throw new Error(
        `${command} ${args.join(" ")} failed (exit ${e.status ?? "?"}):\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
        { cause: error },
      );
    }
  }

  /** Runs a command as the engine user and returns its exit code and output (never throws). */
  runNoThrow(command: string, args: readonly string[], env: Record<string, string> = {}): CommandResult {
    const result = spawnSync(command, args, {
      cwd: this.root,
      env: { ...this.baseEnv(), ...env },
      uid: this.runAs.uid,
      gid: this.runAs.gid,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    return {
      code: result.status ?? result.signal ?? "unknown",
      stdout: result.stdout ?? "",
      stderr: result.stderr ?? "",
    };
  }

  /** Like `run` but asynchronous, for long commands (pgbench, pgbackrest) that must not block timers. */
  runAsync(
    command: string,
    args: readonly string[],
    options: { env?: Record<string, string>; maxOpenFiles?: number } = {},
  ): Promise<CommandResult> {
    const [file, argv] =
      options.maxOpenFiles === undefined
        ? [command, args]
        : [
            "/usr/bin/prlimit",
            [`--nofile=${options.maxOpenFiles}:${options.maxOpenFiles}`, "--", command, ...args],
          ];
    const child = spawn(file, argv, {
      cwd: this.root,
      env: { ...this.baseEnv(), ...options.env },
      uid: this.runAs.uid,
      gid: this.runAs.gid,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid !== undefined) {
      const identity = identify(child.pid);
      if (identity) this.seen.push(identity);
    }
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => {
      child.on("close", (code, signal) => resolve({ code: code ?? signal ?? "unknown", stdout, stderr }));
      child.on("error", (error) => resolve({ code: `spawn error: ${error.message}`, stdout, stderr }));
    });
  }

  /**
   * The postmaster of `dataDir` and all its children, recorded so cleanup can still stop the
   * children after the postmaster itself has been killed.
   */
  postgresProcesses(dataDir: string): ProcessIdentity[] {
    const postmaster = postmasterOf(dataDir);
    if (postmaster === undefined) return [];
    const all = [postmaster, ...descendants(postmaster.pid)];
    this.seen.push(...all);
    return all;
  }

  /** SIGKILL a process and its descendants (a node loss). Returns the PIDs killed. */
  killTree(root: ProcessIdentity): number[] {
    const all = isAlive(root) ? [root, ...descendants(root.pid)] : [];
    this.seen.push(...all);
    return signalAll(all, "SIGKILL");
  }

  /** Stops a spawned process: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(proc: Proc, graceMs = 10_000): Promise<void> {
    if (proc.exitStatus !== undefined) return;
    signalAll([proc.identity], "SIGTERM");
    const done = await Promise.race([
      proc.exited.then(() => true),
      new Promise((r) => setTimeout(r, graceMs, false)),
    ]);
    if (!done) {
      this.killTree(proc.identity);
      await proc.exited;
    }
  }

  /** Synchronous last-resort stop of every process this sandbox started or saw. */
  killEverything(): void {
    const targets: ProcessIdentity[] = [];
    for (const dataDir of this.dataDirs) {
      const postmaster = postmasterOf(dataDir);
      if (postmaster) targets.push(postmaster, ...descendants(postmaster.pid));
    }
    for (const proc of this.procs) {
      if (isAlive(proc.identity)) targets.push(proc.identity, ...descendants(proc.identity.pid));
    }
    targets.push(...this.seen);
    // Detached helpers (pgBackRest's archive-push:async daemonizes) are found by the sandbox path.
    if (this.runAs.uid !== process.getuid?.())
      targets.push(...processesMentioning(this.root, this.runAs.uid));
    signalAll(targets, "SIGKILL");
  }

  /**
   * Stops everything, waits until every process is gone, and removes the directory unless
   * HCP_KEEP_SANDBOX is set (then its path is printed for post-mortem reading of logs/).
   */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    this.killEverything();
    await Promise.all(this.procs.map((p) => p.exited));
    const remaining = (): ProcessIdentity[] => [
      ...this.seen.filter(isAlive),
      ...processesMentioning(this.root, this.runAs.uid),
    ];
    await waitFor("sandbox processes to exit", () => (remaining().length === 0 ? true : undefined), {
      timeoutMs: 15_000,
      detail: () =>
        `still alive: ${remaining()
          .map((p) => p.pid)
          .join(", ")}`,
    }).catch((error: Error) => console.warn(`      ${error.message}`));
    live.delete(this);
    if (process.env.HCP_KEEP_SANDBOX) {
      console.log(`      sandbox kept at ${this.root}`);
    } else {
      fs.rmSync(this.root, { recursive: true, force: true });
    }
  }

  /** The last `lines` lines of a process log, for failure messages. */
  tail(proc: Proc | string, lines = 30, keep: (line: string) => boolean = () => true): string {
    const file = typeof proc === "string" ? proc : proc.logFile;
    try {
      const text = fs.readFileSync(file, "utf8").trimEnd().split("\n").filter(keep);
      return `--- ${path.basename(file)} (last ${lines} lines) ---\n${text.slice(-lines).join("\n")}`;
    } catch {
      return `--- ${file}: no log ---`;
    }
  }
}
