/**
 * Unknown values. During a preview, properties computed by the cloud (ids, ARNs of resources created
 * in the same deployment) are unknown. `@pulumi/policy` wraps `props` in a proxy that throws
 * `UnknownValueError` when such a property is read; the analyzer server turns that error into an
 * advisory "can't run policy during preview" diagnostic. Rules use these helpers to
 * - report every violation that known values already prove before touching an unknown one, and
 * - decide explicitly where an unknown value is acceptable (e.g. a KMS key ARN that can only come
 *   from a key created in the same deployment).
 */

interface ProxyModule {
  readonly UnknownValueError: abstract new (...args: never[]) => Error;
}

// The proxy module is the one the analyzer server checks `instanceof` against; the package's type
// declarations do not export it, so it is required with a narrow type.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as ProxyModule;

/** The error `@pulumi/policy` throws when a policy reads an unknown value. */
export const UnknownValueError = proxy.UnknownValueError;

/** True if `e` is the analyzer's unknown-value error. */
export function isUnknownValueError(e: unknown): e is Error {
  return e instanceof proxy.UnknownValueError;
}

/** Marker for a value that is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** Reads a value, returning {@link UNKNOWN} instead of throwing if it is unknown during preview. */
export function known<T>(read: () => T): T | Unknown {
  try {
    return read();
  } catch (e) {
    if (isUnknownValueError(e)) {
      return UNKNOWN;
    }
    throw e;
  }
}

/**
 * Runs independent checks, so that one check reading an unknown value does not hide the violations
 * the others find. After all ran, {@link Checks.finish} rethrows the first unknown-value error, so the
 * analyzer still reports that the policy could not fully run during preview.
 */
export class Checks {
  private firstUnknown: Error | undefined;

  run(check: () => void): void {
    try {
      check();
    } catch (e) {
      if (isUnknownValueError(e)) {
        this.firstUnknown ??= e;
        return;
      }
      throw e;
    }
  }

  /** Rethrows the first unknown-value error seen, if any. */
  finish(): void {
    if (this.firstUnknown) {
      throw this.firstUnknown;
    }
  }
}
