import * as pulumi from "@pulumi/pulumi";

/**
 * Reading Pulumi outputs in tests. Under the mocks every value is known, so these resolve; a value
 * that is unknown resolves to `undefined` instead of hanging.
 */

interface OutputInternals<T> {
  promise(withUnknowns?: boolean): Promise<T>;
  isKnown: Promise<boolean>;
}

/** The value of an output (or plain input). */
export async function unwrap<T>(value: pulumi.Input<T>): Promise<T> {
  const out = pulumi.output(value) as unknown as OutputInternals<pulumi.Unwrap<T>>;
  return (await out.promise()) as T;
}

/** True when the output is a secret. */
export async function isSecretOutput<T>(value: pulumi.Output<T>): Promise<boolean> {
  return pulumi.isSecret(value);
}

/** True when the output's value is known. */
export async function isKnownOutput<T>(value: pulumi.Output<T>): Promise<boolean> {
  return (value as unknown as OutputInternals<T>).isKnown;
}
