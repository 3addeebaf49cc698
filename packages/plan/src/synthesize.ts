import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import type { StackExports } from "@hcp/testing";
import type { JobMessage, ResultMessage, WorkerJob, WorkerResult } from "./worker";

/** Why a stack could not be synthesized. */
export class SynthesisError extends Error {
  override readonly name = "SynthesisError";

  constructor(
    readonly stackLabel: string,
    readonly errors: ReadonlyArray<{ name: string; message: string }>,
    readonly stderr: string,
  ) {
    super(`${stackLabel}: ${errors.map((e) => e.message).join("\n")}`);
  }
}

/** A successful synthesis and what the programs printed. */
export interface Synthesized {
  readonly result: Extract<WorkerResult, { ok: true }>;
  readonly log: string[];
  /** Wall time from handing the job to a worker to its result. */
  readonly durationMs: number;
  /** CPU time the worker spent on this job (both views; SDK modules it loads first count, its start-up does not). */
  readonly cpuMs: number;
}

/**
 * How worker processes are used:
 * - `shared`: a pool of long-lived workers started up front, each serving stack after stack. The
 *   SDKs load once per worker instead of once per stack, and a worker is already warm when its
 *   next stack becomes ready. Programs are still loaded fresh for every run (`runProgram`).
 * - `per-stack`: a fresh process per stack, started when the stack is ready and ended after it: full
 *   process isolation at the cost of a cold start (TypeScript transpilation, the Pulumi SDKs) per
 *   stack. For debugging a suspected leak between stacks, and as the benchmark's baseline.
 */
export type WorkerReuse = "shared" | "per-stack";

/** The values {@link WorkerReuse} takes, for flag parsing. */
export const WORKER_REUSE: readonly WorkerReuse[] = ["shared", "per-stack"];

const WORKER = path.join(__dirname, "worker.ts");
const PLAN_DIR = path.resolve(__dirname, "..");
/** Keep this much of a worker's stderr for a crash report. */
const STDERR_TAIL_CHARS = 20_000;

/** Environment for a child: the parent's, minus anything that would make the SDK talk to a real engine. */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
}

interface Pending {
  readonly stackLabel: string;
  readonly started: number;
  readonly resolve: (s: Synthesized) => void;
  readonly reject: (e: Error) => void;
}

/** One worker process and the job it is running, if any. */
class Worker {
  private stderr = "";
  private pending: Pending | undefined;
  private exited = false;
  jobsDone = 0;

  constructor(
    private readonly child: ChildProcess,
    private readonly onIdle: (w: Worker) => void,
    private readonly onExit: (w: Worker) => void,
  ) {
    // A worker's own output goes through the job's capture; this is what escapes it (a crash).
    child.stdout?.on("data", (d: Buffer) => this.keep(d));
    child.stderr?.on("data", (d: Buffer) => this.keep(d));
    child.on("message", (m: ResultMessage) => this.settle(m));
    child.on("exit", (code, signal) => {
      this.exited = true;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(
        new SynthesisError(
          p.stackLabel,
          [{ name: "WorkerCrash", message: `worker exited with ${code ?? signal} while synthesizing` }],
          this.stderr,
        ),
      );
      this.onExit(this);
    });
  }

  static start(onIdle: (w: Worker) => void, onExit: (w: Worker) => void): Worker {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER], {
      cwd: PLAN_DIR,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    return new Worker(child, onIdle, onExit);
  }

  get idle(): boolean {
    return !this.pending && !this.exited;
  }

  run(job: WorkerJob, p: Pending, id: number): void {
    this.pending = p;
    const message: JobMessage = { type: "job", id, job };
    this.child.send(message, (e) => {
      if (e && this.pending === p) {
        this.pending = undefined;
        p.reject(
          new SynthesisError(p.stackLabel, [{ name: "WorkerCrash", message: e.message }], this.stderr),
        );
      }
    });
  }

  stop(): void {
    if (!this.exited && this.child.connected) {
      this.child.disconnect();
    }
  }

  private keep(d: Buffer): void {
    this.stderr = (this.stderr + d.toString()).slice(-STDERR_TAIL_CHARS);
  }

  private settle(m: ResultMessage): void {
    const p = this.pending;
    if (m?.type !== "result" || !p) {
      return;
    }
    this.pending = undefined;
    this.jobsDone += 1;
    const log = m.log.map((l) => l.trim()).filter((l) => l.length > 0);
    if (m.result.ok) {
      p.resolve({ result: m.result, log, durationMs: Date.now() - p.started, cpuMs: m.cpuMs });
    } else {
      p.reject(new SynthesisError(p.stackLabel, m.result.errors, log.join("\n")));
    }
    this.onIdle(this);
  }
}

/**
 * Worker processes that synthesize stacks, at most `size` at a time. Call {@link WorkerPool.close}
 * when done: shared workers otherwise stay alive waiting for jobs.
 */
export class WorkerPool {
  private readonly workers = new Set<Worker>();
  private readonly queue: Array<{ job: WorkerJob; pending: Omit<Pending, "started"> }> = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly size: number,
    readonly reuse: WorkerReuse,
  ) {
    if (reuse === "shared") {
      // Started now so their start-up overlaps whatever the caller does before the first job.
      for (let i = 0; i < size; i++) {
        this.spawn();
      }
    }
  }

  /** Synthesizes one stack on the next free worker. */
  synthesize(job: WorkerJob, stackLabel: string): Promise<Synthesized> {
    if (this.closed) {
      return Promise.reject(new Error(`worker pool closed before ${stackLabel} was synthesized`));
    }
    return new Promise<Synthesized>((resolve, reject) => {
      this.queue.push({ job, pending: { stackLabel, resolve, reject } });
      this.dispatch();
    });
  }

  /** Ends every worker (a running job is not waited for). */
  close(): void {
    this.closed = true;
    for (const w of this.workers) {
      w.stop();
    }
  }

  private spawn(): Worker {
    const w = Worker.start(
      (idle) => this.released(idle),
      (gone) => {
        this.workers.delete(gone);
        this.dispatch();
      },
    );
    this.workers.add(w);
    return w;
  }

  private released(w: Worker): void {
    if (this.reuse === "per-stack") {
      // Out of the pool at once, so the next stack's process need not wait for this one's exit.
      this.workers.delete(w);
      w.stop();
    }
    this.dispatch();
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let worker = [...this.workers].find((w) => w.idle && (this.reuse === "shared" || w.jobsDone === 0));
      if (!worker && this.workers.size < this.size) {
        worker = this.spawn();
      }
      if (!worker) {
        return;
      }
      const { job, pending } = this.queue.shift()!;
      worker.run(job, { ...pending, started: Date.now() }, this.nextId++);
    }
  }
}

/** The exports a consumer's stack reference gets from a synthesized producer (as if deployed). */
export function exportsOf(result: Extract<WorkerResult, { ok: true }>): StackExports | undefined {
  return result.deployedOutputs
    ? { outputs: result.deployedOutputs, secretOutputNames: result.secretOutputNames }
    : undefined;
}
