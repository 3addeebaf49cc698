import * as pulumi from "@pulumi/pulumi";

/**
 * Pulumi's wire format for secrets: an object tagged with the secret signature. Mock inputs arrive
 * in this form; mock outputs use it to stay secret.
 */

/** The wire form of a secret value. */
export interface RpcSecret {
  readonly [key: string]: unknown;
  readonly value: unknown;
}

/** Wraps a value as a wire-format secret. */
export function rpcSecret(value: unknown): RpcSecret {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/** True for a wire-format secret. */
export function isRpcSecret(value: unknown): value is RpcSecret {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/** A value with every wire-format secret replaced by its content, and the paths that were secret. */
export function revealSecrets(value: unknown, path = ""): { value: unknown; secretPaths: string[] } {
  if (isRpcSecret(value)) {
    const inner = revealSecrets(value.value, path);
    return { value: inner.value, secretPaths: [path, ...inner.secretPaths] };
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => revealSecrets(v, `${path}[${i}]`));
    return { value: items.map((i) => i.value), secretPaths: items.flatMap((i) => i.secretPaths) };
  }
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    const secretPaths: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      const inner = revealSecrets(v, path ? `${path}.${k}` : k);
      out[k] = inner.value;
      secretPaths.push(...inner.secretPaths);
    }
    return { value: out, secretPaths };
  }
  return { value, secretPaths: [] };
}

/** What a plan or log shows in place of a secret. */
export const REDACTED = "[secret]";

/** A copy of `value` with every wire-format secret replaced by {@link REDACTED}. */
export function redactSecrets(value: unknown): unknown {
  if (isRpcSecret(value)) {
    return REDACTED;
  }
  if (Array.isArray(value)) {
    return value.map(redactSecrets);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}
