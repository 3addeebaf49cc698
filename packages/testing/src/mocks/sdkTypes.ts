import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Answers "is this a real resource type of an installed provider SDK, and which of its properties
 * does the cloud compute?" by reading the generated SDK module for the type token (the SDK marks
 * computed properties with `/*out*\/`). A typo in a type token, or a type that does not exist in the
 * pinned SDK version, is refused instead of silently mocked.
 */

/** What the SDK says about a resource type. */
export interface SdkTypeInfo {
  readonly token: string;
  /** Properties the provider computes. */
  readonly computed: readonly string[];
  /** Properties the program may set. */
  readonly inputs: readonly string[];
  /** True for component resources implemented by the provider (e.g. `helm.v4.Chart`). */
  readonly remote: boolean;
}

const cache = new Map<string, SdkTypeInfo | null>();

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function candidateFiles(token: string): string[] {
  const [pkg, mod, typeName] = token.split(":");
  if (!pkg || !mod || !typeName) {
    return [];
  }
  const files: string[] = [];
  if (mod.startsWith("index/")) {
    files.push(`${mod.slice("index/".length)}.js`);
    files.push(`${lowerFirst(typeName)}.js`);
  } else if (mod === "index") {
    files.push(`${lowerFirst(typeName)}.js`);
  } else {
    files.push(`${mod}.js`);
    // The SDK's directory is the API group's first label: `helm.sh/v4` -> `helm/v4`,
    // `storage.k8s.io/v1` -> `storage/v1`, `rbac.authorization.k8s.io/v1` -> `rbac/v1`.
    const dir = mod.replace(/^([^./]+)\.[^/]*(\/|$)/, "$1$2");
    files.push(`${dir}/${lowerFirst(typeName)}.js`);
  }
  return files.map((f) => `@pulumi/${pkg}/${f}`);
}

/**
 * Looks a type token up in the SDKs resolvable from `searchPaths` (a program's directory).
 * Returns `undefined` for a token no installed SDK defines.
 */
export function sdkTypeInfo(token: string, searchPaths: readonly string[]): SdkTypeInfo | undefined {
  const key = `${token}\u0000${searchPaths.join(path.delimiter)}`;
  if (cache.has(key)) {
    return cache.get(key) ?? undefined;
  }
  let info: SdkTypeInfo | null = null;
  for (const candidate of candidateFiles(token)) {
    let file: string;
    try {
      file = require.resolve(candidate, { paths: [...searchPaths] });
    } catch {
      continue;
    }
    const source = fs.readFileSync(file, "utf8");
    if (!source.includes(`__pulumiType = '${token}'`)) {
      continue;
    }
    const computed = [...source.matchAll(/resourceInputs\["(\w+)"\] = undefined \/\*out\*\//g)].map(
      (m) => m[1],
    );
    const inputs = [
      ...source.matchAll(/resourceInputs\["(\w+)"\] = args(?:\?\.|\.|\s*\?\s*args\.)(\w+)/g),
    ].map((m) => m[1]);
    info = {
      token,
      computed: [...new Set(computed)],
      inputs: [...new Set(inputs)],
      remote: /,\s*true \/\*remote\*\/\)/.test(source),
    };
    break;
  }
  cache.set(key, info);
  return info ?? undefined;
}
