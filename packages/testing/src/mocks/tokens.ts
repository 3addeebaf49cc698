import { createHash } from "node:crypto";

/**
 * Deterministic stand-ins for values the cloud computes (ids, ARNs, endpoints). Each is built around
 * a 17-hex-character token derived from the stack, the resource and the attribute, so the same program
 * gets the same values on every run, and the offline plan can tell which strings of a stack's inputs
 * were computed by the cloud in that same stack (they would be unknown in a real preview).
 */

/** Length of a computed-value token. */
export const TOKEN_LENGTH = 17;

/** A token for `parts` (stack, resource URN or name, attribute). */
export function token(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, TOKEN_LENGTH);
}

const HEX_RUN = new RegExp(`[0-9a-f]{${TOKEN_LENGTH},}`, "g");

/** True when `text` contains one of `tokens`. */
export function containsToken(text: string, tokens: ReadonlySet<string>): boolean {
  if (tokens.size === 0) {
    return false;
  }
  for (const match of text.matchAll(HEX_RUN)) {
    const run = match[0];
    for (let i = 0; i + TOKEN_LENGTH <= run.length; i++) {
      if (tokens.has(run.slice(i, i + TOKEN_LENGTH))) {
        return true;
      }
    }
  }
  return false;
}
