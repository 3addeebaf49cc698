import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { StackExports } from "@hcp/testing";
import type { WorkerJob, WorkerResult } from "./worker";

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

/** A successful synthesis and what the child printed. */
export interface Synthesized {
  readonly result: Extract<WorkerResult, { ok: true }>;
  readonly log: string[];
  readonly durationMs: number;
}

const WORKER = path.join(__dirname, "worker.ts");
const PLAN_DIR = path.resolve(__dirname, "..");

/** Environment for a child: the parent's, minus anything that would make the SDK talk to a real engine. */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
}

/** Synthesizes one stack in a child process. */
export async function synthesize(job: WorkerJob, stackLabel: string): Promise<Synthesized> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hcp-plan-"));
  const jobFile = path.join(dir, "job.json");
  const resultFile = path.join(dir, "result.json");
  // Stack outputs of upstream stacks may hold (mock) secrets: files are private and removed after.
  fs.writeFileSync(jobFile, JSON.stringify(job), { mode: 0o600 });
  const started = Date.now();
  try {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", WORKER, jobFile, resultFile], {
        cwd: PLAN_DIR,
        env: childEnv(),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("error", reject);
      child.on("close", (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    if (!fs.existsSync(resultFile)) {
      throw new SynthesisError(
        stackLabel,
        [{ name: "WorkerCrash", message: `worker exited with ${code}` }],
        stderr,
      );
    }
    const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as WorkerResult;
    if (!result.ok) {
      throw new SynthesisError(stackLabel, result.errors, stderr);
    }
    const log = `${stdout}\n${stderr}`
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    return { result, log, durationMs: Date.now() - started };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The exports a consumer's stack reference gets from a synthesized producer (as if deployed). */
export function exportsOf(result: Extract<WorkerResult, { ok: true }>): StackExports | undefined {
  return result.deployedOutputs
    ? { outputs: result.deployedOutputs, secretOutputNames: result.secretOutputNames }
    : undefined;
}
