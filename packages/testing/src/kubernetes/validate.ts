import * as pulumi from "@pulumi/pulumi";
import { closest } from "@hcp/platform";
import type { RegisteredResource } from "../recorder";
import { isRpcSecret } from "../secrets";
import { modelModule, type SchemaSource } from "./models";

/**
 * Validates every Kubernetes object a program registers against the upstream schema: core objects
 * against `kubernetes-models` (the Kubernetes OpenAPI), custom resources against the
 * `@kubernetes-models/*` package of their API group (see `models.ts`).
 *
 * The model's own compiled validator checks types, enums, formats and required fields. The
 * generated schemas do not forbid unknown fields (the OpenAPI documents have no
 * `additionalProperties: false`), yet the API server rejects them (strict field validation) and a
 * structural CRD schema silently prunes them, so a misspelt `spec.dnsName` would deploy as a
 * certificate without names. Unknown fields are found by watching the validator: it reads every
 * property its schema declares, so a field of a structured object it never read is not in the
 * schema; an object whose keys it enumerates (a map such as `labels`) or never looks into (free
 * form, e.g. a `RawExtension`) accepts any key.
 *
 * Inputs are taken as the preview registers them: an unknown value (computed by the cloud) is
 * neither checked nor reported missing, and a secret's content is checked but never shown.
 */

/** One problem with an object: where (`spec.template.spec.containers[0].name`) and what. */
export interface KubernetesSchemaProblem {
  readonly path: string;
  readonly message: string;
}

/** An object that does not match its schema. */
export interface KubernetesSchemaReport {
  readonly urn: string;
  /** Pulumi type token, e.g. `kubernetes:cert-manager.io/v1:Certificate`. */
  readonly type: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** `metadata.namespace` when known. */
  readonly namespace?: string;
  /** `metadata.name` when known, else the Pulumi resource name (the provider auto-names it). */
  readonly name: string;
  /** The package the schema came from; absent when no package models the API group. */
  readonly schema?: SchemaSource;
  readonly problems: readonly KubernetesSchemaProblem[];
}

/** The registration fields the validation needs. */
export type KubernetesResourceLike = Pick<RegisteredResource, "urn" | "type" | "name" | "custom" | "read"> & {
  readonly wireInputs: Readonly<Record<string, unknown>>;
};

/**
 * Pulumi Kubernetes types that are not Kubernetes objects: charts, releases and manifest
 * collections (their objects are registered separately when the SDK expands them client-side, and
 * by the provider at deploy time for the v4 / v2 components).
 */
const NOT_OBJECTS = /^kubernetes:(helm\.sh|yaml|kustomize)(\/v\d+)?:/;

/** True for a registered resource that is a Kubernetes object the validation checks. */
export function isKubernetesObject(r: Pick<RegisteredResource, "type" | "custom" | "read">): boolean {
  return r.custom && !r.read && r.type.startsWith("kubernetes:") && !NOT_OBJECTS.test(r.type);
}

interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  readonly prototype: { validate(this: unknown): void };
}

interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

const models = new Map<string, Promise<ModelClass | undefined>>();

/** The model class of a kind (memoised), `undefined` if the package has no such kind/version. */
function loadModel(specifier: string, apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  let loaded = models.get(specifier);
  if (!loaded) {
    loaded = (import(specifier) as Promise<Record<string, unknown>>).then(
      (mod) => {
        const cls = mod[kind] as ModelClass | undefined;
        return cls && cls.apiVersion === apiVersion && cls.kind === kind ? cls : undefined;
      },
      (e: unknown) => {
        const code = (e as { code?: unknown }).code;
        if (code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || code === "ERR_MODULE_NOT_FOUND") {
          return undefined;
        }
        throw e;
      },
    );
    models.set(specifier, loaded);
  }
  return loaded;
}

/** A JSON pointer segment list. */
type Segments = readonly (string | number)[];

function escape(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The JSON pointer of a path, as Ajv's `instancePath` writes it. */
function pointer(path: Segments): string {
  return path.map((s) => `/${escape(s)}`).join("");
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `spec.containers[0].name` (`metadata.annotations["a.b/c"]` for keys that are not identifiers). */
function displayPath(path: Segments): string {
  let out = "";
  for (const s of path) {
    if (typeof s === "number") {
      out += `[${s}]`;
    } else if (IDENTIFIER.test(s)) {
      out += out === "" ? s : `.${s}`;
    } else {
      out += `[${JSON.stringify(s)}]`;
    }
  }
  return out === "" ? "(object)" : out;
}

function parsePointer(p: string): (string | number)[] {
  if (p === "") {
    return [];
  }
  return p
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function isResourceReference(v: unknown): boolean {
  return (
    typeof v === "object" &&
    v !== null &&
    (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialResourceSig
  );
}

/** Inputs in wire format → plain data, with the pointers of unknown and secret values. */
function plain(wire: unknown): { data: unknown; unknown: Set<string>; secret: Set<string> } {
  const unknown = new Set<string>();
  const secret = new Set<string>();
  const walk = (v: unknown, path: Segments): unknown => {
    if (v === pulumi.runtime.unknownValue || isResourceReference(v)) {
      unknown.add(pointer(path));
      return undefined;
    }
    if (isRpcSecret(v)) {
      secret.add(pointer(path));
      return walk(v.value, path);
    }
    if (Array.isArray(v)) {
      // An unknown element keeps its index (null stands in); errors about it are dropped below.
      return v.map((x, i) => walk(x, [...path, i]) ?? null);
    }
    if (typeof v === "object" && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x, [...path, k]);
        if (w !== undefined) {
          out[k] = w;
        }
      }
      return out;
    }
    return v;
  };
  return { data: walk(wire, []), unknown, secret };
}

/** What the validator looked at in one object. */
interface Reads {
  /** Property names it read (declared in the schema, present or not). */
  readonly keys: Set<string>;
  /** It listed the keys: the object is a map (`additionalProperties`) and takes any key. */
  enumerated: boolean;
}

/** A proxy over `data` recording, per JSON pointer, which properties the validator reads. */
function instrument(data: object): { proxy: object; reads: Map<string, Reads> } {
  const reads = new Map<string, Reads>();
  const proxies = new WeakMap<object, object>();
  const wrap = (target: object, path: string): object => {
    const existing = proxies.get(target);
    if (existing) {
      return existing;
    }
    let rec = reads.get(path);
    if (!rec) {
      rec = { keys: new Set(), enumerated: false };
      reads.set(path, rec);
    }
    const r = rec;
    const proxy = new Proxy(target, {
      get(t, key, receiver) {
        const value: unknown = Reflect.get(t, key, receiver);
        if (typeof key !== "string") {
          return value;
        }
        r.keys.add(key);
        return typeof value === "object" && value !== null && Object.prototype.hasOwnProperty.call(t, key)
          ? wrap(value, `${path}/${escape(key)}`)
          : value;
      },
      has(t, key) {
        if (typeof key === "string") {
          r.keys.add(key);
        }
        return Reflect.has(t, key);
      },
      ownKeys(t) {
        r.enumerated = true;
        return Reflect.ownKeys(t);
      },
    });
    proxies.set(target, proxy);
    return proxy;
  };
  return { proxy: wrap(data, ""), reads };
}

/** Fields of structured objects that the validator never read, with the closest declared name. */
function unknownFields(
  data: unknown,
  reads: Map<string, Reads>,
): Array<{ path: Segments; suggestion?: string }> {
  const out: Array<{ path: Segments; suggestion?: string }> = [];
  const walk = (v: unknown, path: Segments) => {
    if (typeof v !== "object" || v === null) {
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
      return;
    }
    const rec = reads.get(pointer(path));
    const structured = rec !== undefined && rec.keys.size > 0 && !rec.enumerated;
    for (const [k, x] of Object.entries(v)) {
      if (structured && !rec.keys.has(k)) {
        const suggestion = closest(
          k,
          [...rec.keys].filter((key) => !(key in v)),
        );
        out.push({ path: [...path, k], ...(suggestion ? { suggestion } : {}) });
        continue;
      }
      walk(x, [...path, k]);
    }
  };
  walk(data, []);
  return out;
}

function under(p: string, root: string): boolean {
  return p === root || p.startsWith(`${root}/`) || root === "";
}

function describeError(e: AjvError): string {
  switch (e.keyword) {
    case "enum":
      return `must be one of ${(e.params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "required":
      return "is required";
    case "type":
      return `must be of type ${String(e.params["type"])}`;
    case "format":
      return `must be in format ${JSON.stringify(e.params["format"])}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Reads `metadata.name` / `metadata.namespace` if they are known strings. */
function metadataOf(data: unknown): { name?: string; namespace?: string } {
  const meta = (data as { metadata?: { name?: unknown; namespace?: unknown } } | undefined)?.metadata;
  return {
    ...(typeof meta?.name === "string" ? { name: meta.name } : {}),
    ...(typeof meta?.namespace === "string" ? { namespace: meta.namespace } : {}),
  };
}

/** `kubernetes:apps/v1:DeploymentPatch` → `{ apiVersion: "apps/v1", kind: "Deployment", patch: true }`. */
function typeOf(type: string): { apiVersion: string; kind: string; patch: boolean } {
  const [, module = "", name = ""] = type.split(":");
  const apiVersion = module.startsWith("core/") ? module.slice("core/".length) : module;
  const patch = name.endsWith("Patch");
  return { apiVersion, kind: patch ? name.slice(0, -"Patch".length) : name, patch };
}

/**
 * Validates one registered Kubernetes object; `undefined` when it matches its schema. Server-side
 * apply patches (`...Patch` types) are checked for unknown fields and types but not for required
 * fields, which a patch leaves to the object it patches.
 */
export async function validateKubernetesObject(
  resource: KubernetesResourceLike,
): Promise<KubernetesSchemaReport | undefined> {
  const fromType = typeOf(resource.type);
  const { data, unknown, secret } = plain(resource.wireInputs);
  const inputs = (data ?? {}) as Record<string, unknown>;
  const apiVersion = typeof inputs["apiVersion"] === "string" ? inputs["apiVersion"] : fromType.apiVersion;
  const kind = typeof inputs["kind"] === "string" ? inputs["kind"] : fromType.kind;
  const meta = metadataOf(inputs);
  const base = {
    urn: resource.urn,
    type: resource.type,
    apiVersion,
    kind,
    ...(meta.namespace ? { namespace: meta.namespace } : {}),
    name: meta.name ?? resource.name,
  };
  const module = modelModule(apiVersion, kind);
  if (!module) {
    return {
      ...base,
      problems: [
        {
          path: "apiVersion",
          message: `no schema is registered for API group ${JSON.stringify(apiVersion.split("/")[0])}: add its @kubernetes-models package to CRD_MODEL_PACKAGES in packages/testing/src/kubernetes/models.ts`,
        },
      ],
    };
  }
  const model = await loadModel(module.specifier, apiVersion, kind);
  if (!model) {
    return {
      ...base,
      schema: module.source,
      problems: [
        {
          path: "kind",
          message: `${module.source.package} ${module.source.packageVersion} (${module.source.upstream} ${module.source.upstreamVersion}) has no ${apiVersion} ${kind}`,
        },
      ],
    };
  }
  const { proxy, reads } = instrument(inputs);
  let errors: readonly AjvError[] = [];
  try {
    model.prototype.validate.call(proxy);
  } catch (e) {
    const list = (e as { errors?: unknown }).errors;
    if (!Array.isArray(list)) {
      throw e;
    }
    errors = list as AjvError[];
  }
  const unknownPointers = [...unknown];
  const problems: KubernetesSchemaProblem[] = [];
  const seen = new Set<string>();
  const add = (path: Segments, message: string) => {
    const p = pointer(path);
    // Never show what is inside a secret: name the secret value, not the path into it.
    const secretRoot = [...secret].find((s) => under(p, s) && s !== p);
    const shown =
      secretRoot !== undefined
        ? `${displayPath(parsePointer(secretRoot))} (inside a secret)`
        : displayPath(path);
    const key = `${shown}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push({ path: shown, message });
    }
  };
  for (const e of errors) {
    const at = e.instancePath;
    const target = e.keyword === "required" ? `${at}/${String(e.params["missingProperty"])}` : at;
    if (e.keyword === "required" && fromType.patch) {
      continue;
    }
    // Unknown in the preview: the value (or something under it) is computed at deploy time.
    if (unknownPointers.some((u) => under(target, u) || under(u, target))) {
      continue;
    }
    add(parsePointer(target), describeError(e));
  }
  for (const f of unknownFields(inputs, reads)) {
    add(f.path, `unknown field${f.suggestion ? ` (did you mean ${f.suggestion}?)` : ""}`);
  }
  return problems.length > 0 ? { ...base, schema: module.source, problems } : undefined;
}

/** Validates every Kubernetes object among `resources`; the reports of those that do not match. */
export async function validateKubernetesObjects(
  resources: readonly KubernetesResourceLike[],
): Promise<KubernetesSchemaReport[]> {
  const reports: KubernetesSchemaReport[] = [];
  for (const r of resources.filter(isKubernetesObject)) {
    const report = await validateKubernetesObject(r);
    if (report) {
      reports.push(report);
    }
  }
  return reports;
}

/** `Certificate hcp-data/data-ca (urn:...)`: the object as messages name it. */
export function objectLabel(report: KubernetesSchemaReport): string {
  const where = report.namespace ? `${report.namespace}/${report.name}` : report.name;
  return `${report.apiVersion} ${report.kind} ${where} (${report.urn})`;
}

/** A report as message lines. */
export function formatSchemaReport(report: KubernetesSchemaReport): string {
  const schema = report.schema
    ? ` (schema: ${report.schema.package} ${report.schema.packageVersion}, ${report.schema.upstream} ${report.schema.upstreamVersion})`
    : "";
  return [
    `${objectLabel(report)} does not match its schema${schema}:`,
    ...report.problems.map((p) => `  - ${p.path}: ${p.message}`),
  ].join("\n");
}
