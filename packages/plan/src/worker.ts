import * as fs from "node:fs";
import { CONTRACTS, contractProblems, ExportContractError, LAYER_SPECS } from "@hcp/platform";
import { type RegisteredResource, runProgram, type StackExports } from "@hcp/testing";

/**
 * Child process that synthesizes one stack: `node --import tsx worker.ts <job.json> <result.json>`.
 * Each stack runs in its own process because the Pulumi runtime is process-global, and so that a
 * program's module state cannot leak into another stack.
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

async function main(jobFile: string, resultFile: string): Promise<void> {
  const job = JSON.parse(fs.readFileSync(jobFile, "utf8")) as WorkerJob;
  let result: WorkerResult;
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
    result = {
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
    result = { ok: false, errors: errors.map((x) => ({ name: x.name, message: x.message })) };
  }
  fs.writeFileSync(resultFile, JSON.stringify(result), { mode: 0o600 });
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

const [jobFile, resultFile] = process.argv.slice(2);
if (!jobFile || !resultFile) {
  console.error("usage: worker.ts <job.json> <result.json>");
  process.exit(64);
}
main(jobFile, resultFile).then(
  // The Pulumi runtime keeps handles open; the result is written, so leave now.
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(70);
  },
);
