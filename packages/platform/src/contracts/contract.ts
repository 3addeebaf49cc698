import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { type StackId, stackLabel } from "../topology";
import type { LayerName } from "../topology";

/**
 * Layer contracts: each layer exports one structured stack output (named after the layer) whose
 * type lives here, and consumers read it through a typed reader, never through ad-hoc output names.
 * Renaming a field breaks the compilation of every consumer; a producer that exports something else
 * than the contract fails the reader's runtime check, which the offline plan runs on every stack.
 */

/** A layer's output contract. */
export interface Contract<T extends object> {
  /** Layer that produces the output. */
  readonly layer: LayerName;
  /** Stack output name carrying the object (the layer name). */
  readonly outputName: string;
  /** Runtime shape check applied by readers; its keys are the contract's fields. */
  readonly schema: z.ZodObject;
  /** Fields that are secrets: exported with `pulumi.secret` and read back as secret outputs. */
  readonly secretFields: ReadonlyArray<keyof T>;
}

/** A value that may be, or contain at any depth, Pulumi inputs: what a producer exports. */
export type DeepInput<T> = T extends string | number | boolean | null | undefined
  ? pulumi.Input<T>
  : T extends ReadonlyArray<infer U>
    ? pulumi.Input<ReadonlyArray<DeepInput<U>>>
    : pulumi.Input<{ readonly [K in keyof T]: DeepInput<T[K]> }>;

/** What a reader returns: one output per field, so a secret field does not taint the others. */
export type ContractRef<T extends object> = { readonly [K in keyof T]-?: pulumi.Output<T[K]> };

/**
 * Builds a layer's stack outputs from its contract value: `{ [outputName]: value }`, with the
 * contract's secret fields wrapped in `pulumi.secret`.
 */
export function exportContract<T extends object>(
  contract: Contract<T>,
  value: { readonly [K in keyof T]: DeepInput<T[K]> },
): Record<string, pulumi.Input<unknown>> {
  const out: Record<string, unknown> = { ...value };
  for (const field of contract.secretFields) {
    out[field as string] = pulumi.secret(value[field] as pulumi.Input<unknown>);
  }
  return { [contract.outputName]: out };
}

/** Full name of a stack for a `StackReference`: `<org>/<project>/<stack>`. */
export function stackReferenceName(id: StackId, organization = pulumi.getOrganization()): string {
  return `${organization}/${id.project}/${id.stack}`;
}

const referenceCache = new WeakMap<object, Map<string, pulumi.StackReference>>();
const noStackCache = new Map<string, pulumi.StackReference>();

/**
 * One `StackReference` per referenced stack per program run: two readers of the same stack share it
 * (a second resource with the same name would fail registration).
 */
export function stackReference(fullName: string): pulumi.StackReference {
  const root = pulumi.runtime.getStackResource();
  let cache = root ? referenceCache.get(root) : noStackCache;
  if (!cache) {
    cache = new Map();
    referenceCache.set(root!, cache);
  }
  let ref = cache.get(fullName);
  if (!ref) {
    ref = new pulumi.StackReference(fullName);
    cache.set(fullName, ref);
  }
  return ref;
}

/** Raised when a producer's output does not satisfy the contract its consumer reads. */
export class ContractError extends Error {
  override readonly name = "ContractError";

  constructor(
    readonly consumer: string,
    readonly producer: string,
    readonly outputName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${consumer} reads output '${outputName}' of ${producer}, which does not match the contract: ${problems.join("; ")}. ` +
        `Fix: deploy (or plan) ${producer} with the current code, or update the consumer and the contract in @hcp/platform together.`,
    );
  }
}

function currentStackLabel(): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}`;
}

/**
 * What is wrong with a value against a contract, one line per problem with its field path; empty
 * when it matches.
 */
export function contractProblems(
  contract: Pick<Contract<object>, "outputName" | "schema">,
  value: unknown,
): string[] {
  if (value === undefined) {
    return [`the stack does not export '${contract.outputName}'`];
  }
  const parsed = contract.schema.safeParse(value);
  return parsed.success
    ? []
    : parsed.error.issues.map(
        (i) =>
          `${[contract.outputName, ...i.path.map(String)].join(".")}: ${i.message.replace(/^Invalid input: /, "")}`,
      );
}

/** Checks a received value against a contract; throws a {@link ContractError} naming both stacks. */
export function checkContract<T extends object>(contract: Contract<T>, producer: StackId, value: unknown): T {
  const problems = contractProblems(contract, value);
  if (problems.length > 0) {
    throw new ContractError(currentStackLabel(), stackLabel(producer), contract.outputName, problems);
  }
  return value as T;
}

/**
 * Raised when a stack exports something its own layer's contract refuses (checked by the offline
 * plan on every producer, whether or not a consumer is built yet).
 */
export class ExportContractError extends Error {
  override readonly name = "ContractError";

  constructor(
    readonly producer: string,
    readonly outputName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${producer} exports '${outputName}', which does not match the contract its consumers read: ${problems.join("; ")}. ` +
        `Fix: export a value every consumer can use (see the contract in @hcp/platform), or change the contract and its consumers together.`,
    );
  }
}

/**
 * Reads a layer's contract from its stack. Each field is its own output: secret fields are secret,
 * the others are not (a stack output containing any secret is secret as a whole on the wire).
 */
export function readContract<T extends object>(contract: Contract<T>, producer: StackId): ContractRef<T> {
  const ref = stackReference(stackReferenceName(producer));
  const whole = ref
    .getOutput(contract.outputName)
    .apply((value: unknown) => checkContract(contract, producer, value));
  const secret = new Set<PropertyKey>(contract.secretFields);
  const fields: Record<string, pulumi.Output<unknown>> = {};
  for (const field of Object.keys(contract.schema.shape)) {
    const value = whole.apply((v) => (v as Record<string, unknown>)[field]);
    fields[field] = secret.has(field) ? pulumi.secret(value) : pulumi.unsecret(value);
  }
  return fields as ContractRef<T>;
}

/**
 * Reads a layer's contract as a plain value, for decisions a program must make before it registers
 * resources (which regions exist, how many zones). Only use it for non-secret data.
 */
export async function readContractValue<T extends object>(
  contract: Contract<T>,
  producer: StackId,
): Promise<T> {
  const ref = stackReference(stackReferenceName(producer));
  const details = await ref.getOutputDetails(contract.outputName);
  return checkContract(contract, producer, details.value ?? details.secretValue);
}
