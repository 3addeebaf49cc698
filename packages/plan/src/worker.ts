import { CONTRACTS, contractProblems, ExportContractError, LAYER_SPECS } from "@hcp/platform";
import { type RegisteredResource, runProgram, type StackExports } from "@hcp/testing";

/**
 * Child process that synthesizes stacks: `node --import tsx worker.ts`, jobs and results over the
 * IPC channel (never files or argv: a job carries upstream stacks' outputs, mock secrets included).
 * The Pulumi runtime is process-global, so a worker runs one job at a time; `runProgram` resets the
 * runtime and evicts the program's own modules for every run, so a worker may serve several stacks
 * in turn (the SDKs and shared libraries stay loaded; that is where most of a cold start goes). The
 * parent decides whether a worker serves one stack or many (`WorkerReuse`).
 */

/** What the parent asks for. */
export interface WorkerJob {
  readonly program: string;
  readonly project: string;
  readonly stack: string;
  readonly organization: string;
  readonly accountId: string;
  readonly config: { readonly values: Record<string, unknown>; readonly secretKeys: string[] };
  readonly stackOutputs: Record<string, StackExports>;
  /**
   * Also return the deployment run's outputs (secrets revealed) and check them against the layer's
   * contract, for the stacks that read this one. The deployment run itself always happens: its
   * resources are the as-deployed view the policy pack evaluates.
   */
  readonly deployedExports: boolean;
}

/** A registered resource as sent back (wire values only; nothing revealed). */
export type WireResource = Omit<RegisteredResource, "inputs">;

/** What the child reports. */
export type WorkerResult =
  | {
      readonly ok: true;
      /** Resources as a preview of a new stack registers them (computed values unknown). */
      readonly resources: WireResource[];
      /**
       * Resources as the deployment run registers them: ids and ARNs the (mock) cloud returned are
       * known, so policies that read them can be evaluated (the as-deployed view).
       */
      readonly deployedResources: WireResource[];
      /** Stack outputs as the preview shows them (wire format). */
      readonly wireOutputs: Record<string, unknown>;
      readonly secretOutputNames: string[];
      /**
       * Outputs of the deployment run, secrets revealed, for consumers' stack references only (never
       * printed); absent when no stack reads this one.
       */
      readonly deployedOutputs?: Record<string, unknown>;
      /** Why the deployed exports do not satisfy the layer's contract (absent when they do). */
      readonly contractError?: string;
      readonly genericTypes: string[];
      readonly stackReferences: string[];
    }
  | { readonly ok: false; readonly errors: Array<{ name: string; message: string }> };

/** A job as sent over IPC. */
export interface JobMessage {
  readonly type: "job";
  readonly id: number;
  readonly job: WorkerJob;
}

/** A job's answer: the result, what the programs printed, and the CPU time the job used. */
export interface ResultMessage {
  readonly type: "result";
  readonly id: number;
  readonly result: WorkerResult;
  readonly log: string[];
  readonly cpuMs: number;
}

/** Runs both views of one stack (preview, then deployment) and reports what the parent needs. */
export async function synthesizeJob(job: WorkerJob): Promise<WorkerResult> {
  try {
    const options = {
      program: job.program,
      project: job.project,
      stack: job.stack,
      organization: job.organization,
      accountId: job.accountId,
      config: { values: job.config.values, secretKeys: new Set(job.config.secretKeys) },
      stackOutputs: job.stackOutputs,
    };
    const preview = await runProgram({ ...options, preview: true });
    const deployed = await runProgram({ ...options, preview: false });
    const wire = (resources: typeof preview.resources): WireResource[] =>
      resources.map(({ inputs: _revealed, ...rest }) => rest);
    return {
      ok: true,
      resources: wire(preview.resources),
      deployedResources: wire(deployed.resources),
      wireOutputs: { ...preview.wireOutputs },
      secretOutputNames: [...deployed.secretOutputNames],
      ...(job.deployedExports ? { deployedOutputs: { ...deployed.outputs } } : {}),
      ...(job.deployedExports ? { contractError: exportContractError(job, deployed.outputs) } : {}),
      genericTypes: [...deployed.mocks.genericTypes].sort(),
      stackReferences: [...preview.mocks.stackReferences],
    };
  } catch (e) {
    const errors = (e as { errors?: Error[] }).errors ?? [e as Error];
    return { ok: false, errors: errors.map((x) => ({ name: x.name, message: x.message })) };
  }
}

/**
 * What a job's programs print, captured per job: a worker serves jobs one at a time, so everything
 * written between a job's start and its result belongs to that job.
 */
async function captured<T>(run: () => Promise<T>): Promise<{ value: T; log: string[] }> {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = (chunk: unknown, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString());
    const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    done?.();
    return true;
  };
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    const value = await run();
    return { value, log: chunks.join("").split("\n") };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

function serve(): void {
  // The SDK formats a stack trace for every promise it creates (for its leak report, which the plan
  // never shows) and for every resource (its source position, which mocks ignore). With tsx's
  // source maps on that was a third of a worker's CPU time, the promise traces another fifth
  // (measured with --cpu-prof; docs/benchmarks/plan.md). Plan errors carry messages, never stacks,
  // so workers capture none: the same program's unit tests still show full, mapped stacks.
  process.setSourceMapsEnabled(false);
  Error.stackTraceLimit = 0;
  const send = process.send?.bind(process);
  if (!send) {
    console.error("worker.ts is started by the plan with an IPC channel (see synthesize.ts)");
    process.exit(64);
  }
  let busy: Promise<void> = Promise.resolve();
  process.on("message", (message: JobMessage) => {
    if (message?.type !== "job") {
      return;
    }
    // One job at a time: the Pulumi runtime is process-global.
    busy = busy.then(async () => {
      const before = process.cpuUsage();
      const { value: result, log } = await captured(() => synthesizeJob(message.job));
      const used = process.cpuUsage(before);
      const reply: ResultMessage = {
        type: "result",
        id: message.id,
        result,
        log,
        cpuMs: Math.round((used.user + used.system) / 1000),
      };
      send(reply);
    });
  });
  // The Pulumi runtime keeps handles open: leave when the parent lets go.
  process.on("disconnect", () => process.exit(0));
}

/**
 * A producer's deployed exports must satisfy its layer's contract, even before any consumer is
 * built: an empty host name is reported here, naming the field, not in a later layer's deploy.
 */
function exportContractError(job: WorkerJob, outputs: Readonly<Record<string, unknown>>): string | undefined {
  const spec = Object.values(LAYER_SPECS).find((s) => s.project === job.project);
  if (!spec) {
    return undefined;
  }
  const contract = CONTRACTS[spec.name];
  const problems = contractProblems(contract, outputs[contract.outputName]);
  return problems.length > 0
    ? new ExportContractError(`${job.project}/${job.stack}`, contract.outputName, problems).message
    : undefined;
}

serve();
