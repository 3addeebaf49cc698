import { createHash } from "node:crypto";

/**
 * Deterministic stand-ins for values the cloud computes (ids, ARNs, endpoints): each is built around a
 * 17-hex-character token derived from the stack, the resource and the attribute, so the same program
 * gets the same values on every run and plans of two commits diff cleanly.
 */

/** Length of a computed-value token. */
export const TOKEN_LENGTH = 17;

/** A token for `parts` (stack, resource URN or name, attribute). */
export function token(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, TOKEN_LENGTH);
}
