import * as pulumi from "@pulumi/pulumi";

/**
 * Reads a `pulumi stack export` file (an untyped deployment, format version 3: Pulumi's
 * `apitype.DeploymentV3` / `ResourceV3`) and turns each resource's stored inputs and outputs into
 * the values the engine sends to a policy pack (`MarshalProperties` with `KeepUnknowns`,
 * `KeepSecrets` and `SkipInternalKeys`, without `KeepResources`):
 *
 * - a secret stays a secret (the wire form `{ <sig>: <secret sig>, value }`). A secret exported with
 *   `--show-secrets` carries its JSON-encoded `plaintext`, which is decoded; one that carries only
 *   `ciphertext` cannot be decrypted here (that needs the stack's secrets provider), so it reaches
 *   policies as an unknown value inside the secret: a policy that reads it reports that it cannot
 *   run, never a value it invented;
 * - a resource reference becomes its id (custom resources) or URN (components);
 * - assets and archives keep their wire form; keys starting with `__` (`__defaults`, `__meta`) are
 *   dropped.
 *
 * Values of a deployed stack are known, so nothing else is unknown.
 */

/** Why an export file cannot be audited (exit code 2 of `plan:audit`). */
export class ExportError extends Error {
  override readonly name = "ExportError";
}

/** The deployment format version this reader understands. */
export const DEPLOYMENT_VERSION = 3;

const SIG = pulumi.runtime.specialSigKey;

/** A provider reference of the state: `<provider urn>::<provider id>`. */
export interface ProviderReference {
  readonly urn: string;
  readonly id: string;
}

/** The resource options the state records. */
export interface ExportOptions {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  readonly aliases: readonly string[];
}

/** One resource of the export, values in wire format. */
export interface ExportResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly id?: string;
  /** Read (`.get` / stack reference), not managed by the stack. */
  readonly external: boolean;
  readonly parent?: string;
  readonly provider?: ProviderReference;
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly options: ExportOptions;
}

/** Where secrets were found (paths only, never values). */
export interface SecretCounts {
  /** Secrets with their plaintext (exported with `--show-secrets`): policies see the value. */
  readonly plaintext: number;
  /** Encrypted secrets: policies see an unknown value. */
  readonly ciphertext: number;
  /** `resource name: property path` of each encrypted secret. */
  readonly ciphertextPaths: readonly string[];
}

/** A parsed stack export. */
export interface StackExport {
  readonly project: string;
  readonly stack: string;
  readonly resources: readonly ExportResource[];
  readonly secrets: SecretCounts;
  /** Non-fatal remarks (pending operations, resources marked for deletion). */
  readonly warnings: readonly string[];
}

/** The parts of a URN: `urn:pulumi:<stack>::<project>::<parent$type>::<name>`. */
export interface ParsedUrn {
  readonly stack: string;
  readonly project: string;
  readonly type: string;
  readonly name: string;
}

/** Splits a URN; `undefined` if it is not one. */
export function parseUrn(urn: string): ParsedUrn | undefined {
  if (!urn.startsWith("urn:pulumi:")) {
    return undefined;
  }
  const parts = urn.slice("urn:pulumi:".length).split("::");
  if (parts.length < 4 || parts.slice(0, 3).some((p) => p === "")) {
    return undefined;
  }
  const [stack, project, qualifiedType, ...name] = parts;
  return { stack, project, type: qualifiedType.split("$").pop()!, name: name.join("::") };
}

/** Splits a provider reference `<urn>::<id>` (the id is after the last `::`). */
export function parseProviderReference(ref: string): ProviderReference | undefined {
  const at = ref.lastIndexOf("::");
  if (at <= 0) {
    return undefined;
  }
  const urn = ref.slice(0, at);
  const id = ref.slice(at + 2);
  return parseUrn(urn) && id !== "" ? { urn, id } : undefined;
}

interface Walk {
  readonly problems: string[];
  plaintext: number;
  ciphertext: number;
  readonly ciphertextPaths: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Converts one stored property value to its wire form (see the module comment). */
function toWire(raw: unknown, where: string, walk: Walk): unknown {
  if (raw === null || typeof raw !== "object") {
    return raw;
  }
  if (Array.isArray(raw)) {
    return raw.map((v, i) => toWire(v, `${where}[${i}]`, walk));
  }
  const value = raw as Record<string, unknown>;
  const sig = value[SIG];
  if (sig === undefined) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!k.startsWith("__")) {
        out[k] = toWire(v, `${where}.${k}`, walk);
      }
    }
    return out;
  }
  switch (sig) {
    case pulumi.runtime.specialSecretSig: {
      if (typeof value["plaintext"] === "string") {
        let inner: unknown;
        try {
          inner = JSON.parse(value["plaintext"]);
        } catch {
          // Say where, never what: the text is the secret.
          walk.problems.push(`${where}: a secret's plaintext is not JSON-encoded as Pulumi writes it`);
          return undefined;
        }
        walk.plaintext++;
        return { [SIG]: sig, value: toWire(inner, where, walk) };
      }
      if (typeof value["ciphertext"] === "string") {
        walk.ciphertext++;
        walk.ciphertextPaths.push(where);
        return { [SIG]: sig, value: pulumi.runtime.unknownValue };
      }
      walk.problems.push(`${where}: a secret without plaintext or ciphertext`);
      return undefined;
    }
    case pulumi.runtime.specialResourceSig: {
      const id = value["id"];
      const urn = value["urn"];
      if (typeof urn !== "string") {
        walk.problems.push(`${where}: a resource reference without a urn`);
        return undefined;
      }
      return typeof id === "string" && id !== "" ? id : urn;
    }
    case pulumi.runtime.specialAssetSig:
      return { ...value };
    case pulumi.runtime.specialArchiveSig:
      return isObject(value["assets"])
        ? {
            ...value,
            assets: Object.fromEntries(
              Object.entries(value["assets"]).map(([k, v]) => [k, toWire(v, `${where}.assets.${k}`, walk)]),
            ),
          }
        : { ...value };
    default:
      walk.problems.push(`${where}: unknown value signature ${JSON.stringify(sig)}`);
      return undefined;
  }
}

function strings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/**
 * Parses the text of a `pulumi stack export` (or of a state file, `{ version, checkpoint: { latest } }`).
 * Throws an {@link ExportError} listing every problem.
 */
export function parseStackExport(text: string, source: string): StackExport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ExportError(
      `${source}: not JSON (${(e as Error).message}). Create the file with pulumi stack export --file <file>.`,
    );
  }
  if (!isObject(doc)) {
    throw new ExportError(`${source}: expected the JSON object pulumi stack export writes.`);
  }
  const version = doc["version"];
  if (version !== DEPLOYMENT_VERSION) {
    const why =
      typeof version === "number" && version < DEPLOYMENT_VERSION
        ? `deployment format version ${version} is an old format; export the stack again with a current Pulumi CLI (pulumi stack export writes version ${DEPLOYMENT_VERSION})`
        : typeof version === "number"
          ? `deployment format version ${version} is newer than this tool reads (${DEPLOYMENT_VERSION})`
          : `it has no deployment format version (expected "version": ${DEPLOYMENT_VERSION}); is this a pulumi stack export file?`;
    throw new ExportError(`${source}: ${why}.`);
  }
  const checkpoint = isObject(doc["checkpoint"]) ? doc["checkpoint"] : undefined;
  const deployment = isObject(doc["deployment"])
    ? doc["deployment"]
    : checkpoint && isObject(checkpoint["latest"])
      ? checkpoint["latest"]
      : undefined;
  if (!deployment) {
    throw new ExportError(`${source}: "deployment" is missing or not an object.`);
  }
  const problems: string[] = [];
  const rawResources = deployment["resources"] ?? [];
  if (!Array.isArray(rawResources)) {
    throw new ExportError(`${source}: deployment.resources is not a list.`);
  }
  const walk: Walk = { problems, plaintext: 0, ciphertext: 0, ciphertextPaths: [] };
  const warnings: string[] = [];
  const resources: ExportResource[] = [];
  let project: string | undefined;
  let stack: string | undefined;
  rawResources.forEach((raw: unknown, i) => {
    const at = `deployment.resources[${i}]`;
    if (!isObject(raw)) {
      problems.push(`${at} is not an object`);
      return;
    }
    const urn = raw["urn"];
    const parsed = typeof urn === "string" ? parseUrn(urn) : undefined;
    if (typeof urn !== "string" || !parsed) {
      problems.push(`${at}.urn is ${urn === undefined ? "missing" : `not a URN (${JSON.stringify(urn)})`}`);
      return;
    }
    const label = `${at} (${parsed.name})`;
    if (raw["type"] !== parsed.type) {
      problems.push(`${label}.type is ${JSON.stringify(raw["type"])} but its URN says ${parsed.type}`);
    }
    if (typeof raw["custom"] !== "boolean") {
      problems.push(`${label}.custom is missing or not a boolean`);
    }
    if (project === undefined) {
      project = parsed.project;
      stack = parsed.stack;
    } else if (parsed.project !== project || parsed.stack !== stack) {
      problems.push(`${label} belongs to ${parsed.project}/${parsed.stack}, not ${project}/${stack}`);
    }
    for (const key of ["inputs", "outputs", "propertyDependencies"] as const) {
      if (raw[key] !== undefined && !isObject(raw[key])) {
        problems.push(`${label}.${key} is not an object`);
      }
    }
    for (const key of [
      "dependencies",
      "ignoreChanges",
      "replaceOnChanges",
      "additionalSecretOutputs",
      "aliases",
    ] as const) {
      if (raw[key] !== undefined && !strings(raw[key])) {
        problems.push(`${label}.${key} is not a list of strings`);
      }
    }
    let provider: ProviderReference | undefined;
    if (raw["provider"] !== undefined && raw["provider"] !== "") {
      provider = typeof raw["provider"] === "string" ? parseProviderReference(raw["provider"]) : undefined;
      if (!provider) {
        problems.push(
          `${label}.provider is not a provider reference "<urn>::<id>": ${JSON.stringify(raw["provider"])}`,
        );
      }
    }
    if (raw["parent"] !== undefined && (typeof raw["parent"] !== "string" || !parseUrn(raw["parent"]))) {
      problems.push(`${label}.parent is not a URN`);
    }
    const propertyDependencies: Record<string, string[]> = {};
    if (isObject(raw["propertyDependencies"])) {
      for (const [k, v] of Object.entries(raw["propertyDependencies"])) {
        if (strings(v)) {
          propertyDependencies[k] = v;
        } else {
          problems.push(`${label}.propertyDependencies.${k} is not a list of URNs`);
        }
      }
    }
    if (raw["delete"] === true) {
      // A resource replaced with create-before-delete whose old copy is not deleted yet: the live
      // stack still has it, but the program no longer registers it.
      warnings.push(`${parsed.name} (${parsed.type}) is an old copy pending deletion; it is not audited.`);
      return;
    }
    const list = (key: string): string[] => {
      const v = raw[key];
      return strings(v) ? v : [];
    };
    resources.push({
      urn,
      type: parsed.type,
      name: parsed.name,
      custom: raw["custom"] === true,
      ...(typeof raw["id"] === "string" && raw["id"] !== "" ? { id: raw["id"] } : {}),
      external: raw["external"] === true,
      ...(typeof raw["parent"] === "string" && raw["parent"] !== "" ? { parent: raw["parent"] } : {}),
      ...(provider ? { provider } : {}),
      inputs: (toWire(isObject(raw["inputs"]) ? raw["inputs"] : {}, `${parsed.name}: inputs`, walk) ??
        {}) as Record<string, unknown>,
      outputs: (toWire(isObject(raw["outputs"]) ? raw["outputs"] : {}, `${parsed.name}: outputs`, walk) ??
        {}) as Record<string, unknown>,
      dependencies: list("dependencies"),
      propertyDependencies,
      options: {
        protect: raw["protect"] === true,
        retainOnDelete: raw["retainOnDelete"] === true,
        ignoreChanges: list("ignoreChanges"),
        replaceOnChanges: list("replaceOnChanges"),
        additionalSecretOutputs: list("additionalSecretOutputs"),
        aliases: list("aliases"),
      },
    });
  });
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const r of resources) {
    if (r.provider) {
      const p = byUrn.get(r.provider.urn);
      if (!p) {
        problems.push(`${r.name}: its provider ${r.provider.urn} is not in the export`);
      } else if (!p.type.startsWith("pulumi:providers:")) {
        problems.push(`${r.name}: its provider reference names ${p.type}, which is not a provider`);
      } else if (p.id !== r.provider.id) {
        problems.push(
          `${r.name}: its provider reference has id ${r.provider.id}, but ${p.name} has id ${p.id ?? "(none)"}`,
        );
      }
    }
  }
  const pending = deployment["pending_operations"];
  if (Array.isArray(pending) && pending.length > 0) {
    warnings.push(
      `the export has ${pending.length} pending operation(s): an update was interrupted, so the state may not match the cloud.`,
    );
  }
  if (problems.length > 0) {
    throw new ExportError(
      `${source} is not a valid stack export (${problems.length} problem(s)):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  if (project === undefined || stack === undefined) {
    throw new ExportError(`${source}: the export has no resources; there is nothing to audit.`);
  }
  return {
    project,
    stack,
    resources,
    secrets: {
      plaintext: walk.plaintext,
      ciphertext: walk.ciphertext,
      ciphertextPaths: walk.ciphertextPaths,
    },
    warnings,
  };
}
