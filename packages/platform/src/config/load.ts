import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "./problems";
import { type ParseOptions, parseEnvironmentConfig, type RawStackConfig } from "./parse";
import { formatWarning } from "./problems";
import { isSecureMarker } from "./secrets";
import { yamlSyntaxError } from "./yamlSyntax";
import type { EnvironmentConfig } from "./types";

/** What the offline plan puts where Pulumi would put a decrypted secret (the plan has no keys). */
export const SECRET_PLACEHOLDER = "[secret]";

/**
 * Reads a `Pulumi.<stack>.yaml` file. `{ secure: ... }` values mark their top-level key as secret and
 * are replaced by {@link SECRET_PLACEHOLDER}: the ciphertext is never passed on.
 */
export function readStackConfigFile(file: string): RawStackConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(file, [
      {
        path: "(file)",
        received: (e as Error).message,
        allowed: "a readable YAML stack configuration file",
        fix: "check the path and the file's permissions",
      },
    ]);
  }
  const syntax = yamlSyntaxError(text);
  if (syntax) {
    throw new ConfigError(file, [
      {
        path: `line ${syntax.line}, column ${syntax.column}`,
        received: syntax.problem,
        allowed: "YAML 1.2 (a Pulumi stack configuration file)",
        fix: syntax.fix,
      },
    ]);
  }
  const doc: unknown = parseYaml(text);
  const config = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ConfigError(file, [
      {
        path: "config",
        received: typeof config,
        allowed: "a mapping of config keys to values",
        fix: "put the keys under a top-level `config:` mapping",
      },
    ]);
  }
  const values: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    const { value: clean, hadSecret } = replaceSecureMarkers(value);
    values[key] = clean;
    if (hadSecret) {
      secretKeys.add(key);
    }
  }
  return { values, secretKeys };
}

function replaceSecureMarkers(value: unknown): { value: unknown; hadSecret: boolean } {
  if (isSecureMarker(value)) {
    return { value: SECRET_PLACEHOLDER, hadSecret: true };
  }
  if (Array.isArray(value)) {
    const items = value.map(replaceSecureMarkers);
    return { value: items.map((i) => i.value), hadSecret: items.some((i) => i.hadSecret) };
  }
  if (typeof value === "object" && value !== null) {
    let hadSecret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = replaceSecureMarkers(v);
      out[k] = r.value;
      hadSecret ||= r.hadSecret;
    }
    return { value: out, hadSecret };
  }
  return { value, hadSecret: false };
}

/**
 * Converts a stack configuration to the string map the Pulumi language host hands a program
 * (structured values as JSON text), for running a program under mocks.
 */
export function toRuntimeConfig(config: RawStackConfig): {
  values: Record<string, string>;
  secretKeys: string[];
} {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(config.values)) {
    values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { values, secretKeys: [...config.secretKeys] };
}

type IsConfigSecret = (key: string) => boolean;

/**
 * Reads the running program's configuration. Pulumi marks whole keys as secret; which keys are secret
 * is only available from the runtime's (untyped) `isConfigSecret`, so this falls back to "not secret"
 * if a future SDK drops it, which makes the plain-text secret check stricter, never weaker.
 */
export function configFromPulumiRuntime(): RawStackConfig {
  const all = pulumi.runtime.allConfig();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: IsConfigSecret };
  const isSecret: IsConfigSecret = runtimeConfig.isConfigSecret ?? (() => false);
  const values: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  for (const [key, text] of Object.entries(all)) {
    values[key] = decode(text);
    if (isSecret(key)) {
      secretKeys.add(key);
    }
  }
  return { values, secretKeys };
}

function decode(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/** Parses the running root program's environment definition (its stack name is the environment). */
export function loadEnvironmentConfig(): EnvironmentConfig {
  const stack = pulumi.getStack();
  return parseEnvironmentConfig(stack, configFromPulumiRuntime(), `Pulumi.${stack}.yaml`, {
    onWarning: (w, source) => void pulumi.log.warn(`${source}: ${formatWarning(w)}`),
  });
}

/** Reads and parses a `Pulumi.<env>.yaml` file. */
export function loadEnvironmentConfigFile(
  file: string,
  name: string,
  options: ParseOptions = {},
): EnvironmentConfig {
  return parseEnvironmentConfig(name, readStackConfigFile(file), file, options);
}
