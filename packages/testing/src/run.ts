import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { type RawStackConfig, toRuntimeConfig } from "@hcp/platform";
import { type StackExports, StrictMocks } from "./mocks/strict";
import { type RegisteredResource, recordRegistrations } from "./recorder";
import { isRpcSecret, revealSecrets } from "./secrets";

/** Options of {@link runProgram}. */
export interface RunProgramOptions {
  /** Absolute path of the program module (e.g. a layer's `src/index.ts`), or the program itself. */
  readonly program: string | (() => unknown);
  readonly project: string;
  readonly stack: string;
  /** @default "organization" - the organization name of self-managed (S3) backends. */
  readonly organization?: string;
  /** Stack configuration. @default - none */
  readonly config?: RawStackConfig;
  /** Exports of referenced stacks by full name (`<org>/<project>/<stack>`). @default - none */
  readonly stackOutputs?: Readonly<Record<string, StackExports>>;
  /** @default "123456789012" - account reported for providers without `allowedAccountIds`. */
  readonly accountId?: string;
  /** Where provider SDKs are resolved from. @default - the program's directory */
  readonly searchPaths?: readonly string[];
  /**
   * Run as a preview of a new stack: ids and computed outputs are unknown, as `pulumi preview` sees
   * them. @default false - a deployment: every value is known (deterministic mock values)
   */
  readonly preview?: boolean;
}

/** The result of running a program under strict mocks. */
export interface ProgramRun {
  readonly project: string;
  readonly stack: string;
  /** Every registered or read resource, in registration order (the root stack first). */
  readonly resources: readonly RegisteredResource[];
  /** Stack outputs with secrets revealed. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Stack outputs in wire format (secrets tagged). */
  readonly wireOutputs: Readonly<Record<string, unknown>>;
  /** Names of stack outputs that are, or contain, secrets. */
  readonly secretOutputNames: readonly string[];
  /** The mocks of the run (generic types, stack references). */
  readonly mocks: StrictMocks;
}

/** Raised when a program fails under mocks; lists every error of the run. */
export class ProgramError extends Error {
  override readonly name = "ProgramError";

  constructor(
    readonly stackLabel: string,
    readonly errors: readonly Error[],
  ) {
    super(
      `${stackLabel} failed:\n${errors.map((e) => `  - ${e.message.split("\n").join("\n    ")}`).join("\n")}`,
    );
  }
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs a Pulumi program under {@link StrictMocks} and records what it registers. Runs are serialized
 * (the Pulumi runtime is process-global). The program is loaded fresh each run: its package's modules
 * are evicted from the require cache, and a function export is called as Pulumi does.
 */
export function runProgram(options: RunProgramOptions): Promise<ProgramRun> {
  const run = queue.then(() => runNow(options));
  queue = run.catch(() => undefined);
  return run;
}

async function runNow(options: RunProgramOptions): Promise<ProgramRun> {
  const organization = options.organization ?? "organization";
  const programDir = typeof options.program === "string" ? path.dirname(options.program) : process.cwd();
  const mocks = new StrictMocks({
    stack: `${organization}/${options.project}/${options.stack}`,
    accountId: options.accountId ?? "123456789012",
    searchPaths: options.searchPaths ?? [programDir],
    stackOutputs: options.stackOutputs ?? {},
    preview: options.preview ?? false,
  });
  const runtimeConfig = toRuntimeConfig(options.config ?? { values: {}, secretKeys: new Set() });
  pulumi.runtime.setAllConfig(runtimeConfig.values, runtimeConfig.secretKeys);
  await pulumi.runtime.setMocks(
    mocks,
    options.project,
    options.stack,
    options.preview ?? false,
    organization,
  );
  const resources: RegisteredResource[] = [];
  recordRegistrations(resources);

  const errors: Error[] = [];
  const onRejection = (reason: unknown) => {
    errors.push(reason instanceof Error ? reason : new Error(String(reason)));
  };
  process.on("unhandledRejection", onRejection);
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      const exported = typeof options.program === "string" ? loadProgram(options.program) : options.program;
      return typeof exported === "function" ? await (exported as () => unknown)() : exported;
    });
    await waitForRpcs();
  } catch (e) {
    errors.push(e instanceof Error ? e : new Error(String(e)));
  } finally {
    // Let rejected registrations surface before the listener goes.
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onRejection);
  }
  for (const e of mocks.errors) {
    if (!errors.some((x) => x.message === e.message)) {
      errors.push(e);
    }
  }
  if (errors.length > 0) {
    throw new ProgramError(`${options.project}/${options.stack}`, dedupeErrors(errors));
  }
  const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const wireOutputs = root?.wireOutputs ?? {};
  return {
    project: options.project,
    stack: options.stack,
    resources,
    outputs: revealSecrets(wireOutputs).value as Record<string, unknown>,
    wireOutputs,
    secretOutputNames: Object.keys(wireOutputs).filter((k) => containsSecret(wireOutputs[k])),
    mocks,
  };
}

function dedupeErrors(errors: Error[]): Error[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    // The SDK re-raises a failed registration with a prefix; keep the most specific message once.
    const key = e.message.replace(/^.*?StrictMocks:/s, "StrictMocks:");
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

function containsSecret(value: unknown): boolean {
  if (isRpcSecret(value)) {
    return true;
  }
  if (Array.isArray(value)) {
    return value.some(containsSecret);
  }
  if (typeof value === "object" && value !== null) {
    return Object.values(value).some(containsSecret);
  }
  return false;
}

/** Requires a program module fresh: its package's own modules are evicted from the cache first. */
function loadProgram(file: string): unknown {
  const pkgDir = findPackageDir(path.dirname(file));
  for (const key of Object.keys(require.cache)) {
    if (key.startsWith(pkgDir + path.sep) && !key.includes(`${path.sep}node_modules${path.sep}`)) {
      delete require.cache[key];
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as unknown;
  const withDefault = mod as { default?: unknown; __esModule?: boolean };
  return withDefault.__esModule && withDefault.default !== undefined ? withDefault.default : mod;
}

function findPackageDir(dir: string): string {
  let cur = dir;
  while (!fs.existsSync(path.join(cur, "package.json"))) {
    const parent = path.dirname(cur);
    if (parent === cur) {
      return dir;
    }
    cur = parent;
  }
  return cur;
}

async function waitForRpcs(): Promise<void> {
  // `waitForRPCs` drains the SDK's RPC queue; it is exported by the runtime but not typed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
  await settings.waitForRPCs?.();
}
