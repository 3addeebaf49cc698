import { z } from "zod";
import { closestTo } from "../suggest";
import { configNow } from "./clock";
import {
  ConfigError,
  type ConfigProblem,
  type ConfigWarning,
  formatWarning,
  redacted,
  show,
} from "./problems";
import { environmentSchema } from "./schema";
import { findPlaintextSecrets, isSecretLookingKey } from "./secrets";
import type { EnvironmentConfig } from "./types";
import { validateEnvironment } from "./validate";

/** Config namespace of the root project; every environment key lives under it. */
export const NAMESPACE = "healthcare-platform";

/** Environment names: lower-case letters and digits, starting with a letter (they appear in stack names). */
export const ENVIRONMENT_NAME_RE = /^[a-z][a-z0-9]{1,15}$/;

/** A stack's configuration as read: full keys (`namespace:key`) to values, and which are secrets. */
export interface RawStackConfig {
  /** Values by full key. Structured values are objects/arrays, not JSON text. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Full keys whose values Pulumi holds as secrets. */
  readonly secretKeys: ReadonlySet<string>;
}

/** Renders a key path under the namespace: `healthcare-platform:regions[1].vpcCidr`. */
export function keyPath(...segments: ReadonlyArray<string | number>): string {
  const [head, ...rest] = segments;
  let out = `${NAMESPACE}:${head ?? ""}`;
  for (const s of rest) {
    out += typeof s === "number" ? `[${s}]` : `.${s}`;
  }
  return out;
}

/**
 * Parses and validates an environment definition. Collects every problem (structure, cross-field
 * rules, plain-text secrets) and throws one {@link ConfigError} listing them all.
 *
 * @param name environment name (the root stack name, e.g. `production`)
 * @param config the stack's configuration
 * @param source where the configuration came from, for the error header
 * @param options.now the instant date-bound rules (EKS version support) are checked at; by default
 *   {@link configNow} (the current time unless `HCP_CONFIG_NOW` pins it)
 * @param options.onWarning receives what is worth saying but not wrong (e.g. a stale EKS calendar);
 *   by default printed to stderr
 */
export function parseEnvironmentConfig(
  name: string,
  config: RawStackConfig,
  source: string,
  options: ParseOptions = {},
): EnvironmentConfig {
  const problems: ConfigProblem[] = [];
  if (!ENVIRONMENT_NAME_RE.test(name)) {
    problems.push({
      path: "(stack name)",
      received: show(name),
      allowed:
        "2-16 lower-case letters and digits, starting with a letter (it becomes part of every stack name)",
      fix: `rename the stack and its Pulumi.${name}.yaml, e.g. to ${name.toLowerCase().replace(/[^a-z0-9]/g, "") || "staging"}`,
    });
  }

  const namespaced: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config.values)) {
    problems.push(...findPlaintextSecrets(key, value, config.secretKeys.has(key)));
    if (key.startsWith(`${NAMESPACE}:`)) {
      namespaced[key.slice(NAMESPACE.length + 1)] = value;
    }
  }

  const parsed = environmentSchema.safeParse(namespaced);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(...issueToProblems(issue, namespaced));
    }
  }
  problems.push(
    ...validateEnvironment(namespaced, keyPath, options.now ?? configNow(), (w) =>
      (options.onWarning ?? printWarning)(w, source),
    ),
  );

  const unique = dedupe(problems);
  if (unique.length > 0 || !parsed.success) {
    throw new ConfigError(source, unique);
  }
  return { name, ...parsed.data };
}

/** Options of {@link parseEnvironmentConfig}. */
export interface ParseOptions {
  readonly now?: Date;
  readonly onWarning?: (warning: ConfigWarning, source: string) => void;
}

function printWarning(warning: ConfigWarning, source: string): void {
  console.warn(`warning: ${source}: ${formatWarning(warning)}`);
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.allowed}`;
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}

type Segment = PropertyKey;

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (typeof cur !== "object" || cur === null) {
      return undefined;
    }
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function displayPath(path: readonly Segment[]): string {
  return keyPath(...path.map((s) => (typeof s === "number" ? s : String(s))));
}

/** The schema node at a path, unwrapping optional/default wrappers, for its keys and description. */
function schemaAt(path: readonly Segment[]): z.ZodType | undefined {
  let cur: z.ZodType | undefined = environmentSchema;
  for (const seg of path) {
    cur = unwrap(cur);
    if (cur instanceof z.ZodObject) {
      cur = (cur.shape as Record<string, z.ZodType>)[String(seg)];
    } else if (cur instanceof z.ZodArray) {
      cur = cur.element as z.ZodType;
    } else {
      return undefined;
    }
  }
  return cur;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let cur = schema;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodOptional) {
    cur = cur.unwrap() as z.ZodType;
  }
  return cur;
}

function describe(path: readonly Segment[]): string | undefined {
  const node = schemaAt(path);
  return node?.description ?? unwrap(node)?.description;
}

function received(root: unknown, path: readonly Segment[]): string {
  const last = path[path.length - 1];
  const value = valueAt(root, path);
  if (typeof last === "string" && isSecretLookingKey(last) && value !== undefined) {
    return redacted(value);
  }
  return show(value);
}

function issueToProblems(issue: z.core.$ZodIssue, root: unknown): ConfigProblem[] {
  const path = issue.path;
  const hint = describe(path);
  const withHint = (fix: string) => (hint ? `${fix} (${hint})` : fix);
  switch (issue.code) {
    case "unrecognized_keys": {
      const node = unwrap(schemaAt(path));
      const known = node instanceof z.ZodObject ? Object.keys(node.shape) : [];
      return issue.keys.map((key) => {
        const suggestion = closest(key, known);
        return {
          path: displayPath([...path, key]),
          received: isSecretLookingKey(key)
            ? redacted(valueAt(root, [...path, key]))
            : received(root, [...path, key]),
          allowed: known.length > 0 ? `only the keys ${known.join(", ")}` : "no extra keys",
          fix: suggestion
            ? `rename it to ${suggestion}`
            : "remove it (a typo here would otherwise be ignored)",
        };
      });
    }
    case "invalid_type": {
      const missing = valueAt(root, path) === undefined;
      return [
        {
          path: displayPath(path),
          received: received(root, path),
          allowed: `a value of type ${issue.expected}`,
          fix: missing ? withHint("add the key") : withHint(`set it to a ${issue.expected}`),
        },
      ];
    }
    case "invalid_value": {
      const options = issue.values.map((v) => JSON.stringify(v)).join(", ");
      return [
        {
          path: displayPath(path),
          received: received(root, path),
          allowed: `one of ${options}`,
          fix: withHint(`use one of ${options}`),
        },
      ];
    }
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const cmp = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      const what =
        issue.origin === "array"
          ? `a list with ${cmp} ${String(bound)} items`
          : issue.origin === "string"
            ? `a string with ${cmp} ${String(bound)} characters`
            : `a number ${cmp} ${String(bound)}`;
      return [
        {
          path: displayPath(path),
          received: received(root, path),
          allowed: what,
          fix: withHint(`use ${what}`),
        },
      ];
    }
    case "invalid_format": {
      const pattern = "pattern" in issue && typeof issue.pattern === "string" ? issue.pattern : issue.format;
      return [
        {
          path: displayPath(path),
          received: received(root, path),
          allowed: hint ?? `a value matching ${pattern}`,
          fix: hint ? `use ${hint}` : `use a value matching ${pattern}`,
        },
      ];
    }
    case "invalid_union": {
      const node = unwrap(schemaAt(path));
      const shapes =
        node instanceof z.ZodDiscriminatedUnion
          ? (node.options as z.ZodType[])
              .map((o) => unwrap(o))
              .filter((o): o is z.ZodObject => o instanceof z.ZodObject)
              .map((o) => `{ ${Object.keys(o.shape as object).join(", ")} }`)
              .join(" or ")
          : "one of the documented shapes";
      return [
        {
          path: displayPath(path),
          received: received(root, path),
          allowed: shapes,
          fix: "set type to one of the documented kinds and give exactly its keys",
        },
      ];
    }
    default:
      return [
        {
          path: displayPath(path),
          received: received(root, path),
          allowed: hint ?? issue.message,
          fix: withHint("correct the value"),
        },
      ];
  }
}

/** The known key closest to a misspelt one (edit distance <= 2), if any. */
export function closest(key: string, known: readonly string[]): string | undefined {
  return closestTo(key, known, 2);
}
