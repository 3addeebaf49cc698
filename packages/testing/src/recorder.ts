import * as pulumi from "@pulumi/pulumi";
import { revealSecrets } from "./secrets";

/**
 * The registration log: every resource a program registers, as the engine would receive it (type,
 * name, URN, parent, provider, inputs, dependencies and options). It is captured by wrapping the mock
 * monitor that `pulumi.runtime.setMocks` installs, so the SDK's own serialization is what gets logged.
 */

/**
 * An alias as the engine receives it, with every URN in engine form: either an old URN, or a spec
 * whose missing parts default to the resource's own (name, type, parent, project, stack). The SDK
 * sends only a resource's own aliases; the engine derives the aliases a child inherits from its
 * parent's (see `matchState` in `./aliases`), so these plus `parent` are what tells a rename from a
 * replacement.
 */
export type RecordedAlias = string | AliasSpec;

/** A structured alias (`{ name?, type?, parent?, noParent? ... }`). */
export interface AliasSpec {
  readonly name?: string;
  readonly type?: string;
  /** Engine URN of the old parent (the SDK fills in the resource's parent when the alias names none). */
  readonly parent?: string;
  /** The old resource had no parent. */
  readonly noParent?: boolean;
  readonly project?: string;
  readonly stack?: string;
}

/** Resource options as sent to the engine. */
export interface RegisteredOptions {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  readonly deleteBeforeReplace: boolean | undefined;
  /** The resource's own aliases (renames keep state through these and the parent's). */
  readonly aliases: readonly RecordedAlias[];
  readonly deletedWith: string | undefined;
}

/** One registered (or read) resource. */
export interface RegisteredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** True for custom (provider-managed) resources, false for components. */
  readonly custom: boolean;
  /** True for components implemented by a provider (their children are not visible here). */
  readonly remote: boolean;
  /** True for resources read rather than created (stack references). */
  readonly read: boolean;
  readonly id: string | undefined;
  readonly parent: string | undefined;
  /** URN of the explicit provider, if any. */
  readonly provider: string | undefined;
  /** Inputs with secrets revealed (for assertions). */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Inputs in wire format (secrets tagged), for redaction. */
  readonly wireInputs: Readonly<Record<string, unknown>>;
  /** Paths of inputs that are secrets, e.g. `data.password`. */
  readonly secretInputPaths: readonly string[];
  /** Outputs in wire format (state the mocks returned, or a component's registered outputs). */
  wireOutputs: Readonly<Record<string, unknown>>;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly options: RegisteredOptions;
  /**
   * Name of the JavaScript class that registered the resource (e.g. `PatroniCluster`), for the
   * convention that a component's type token names its class; `undefined` where it is not known.
   */
  readonly className?: string;
}

interface StructLike {
  toJavaScript(): Record<string, unknown>;
}

interface RegisterRequestLike {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getRemote(): boolean;
  getParent(): string;
  getProvider(): string;
  getObject(): StructLike | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getAliasesList(): AliasLike[];
  getAliasurnsList?(): string[];
  getDeletedwith(): string;
}

interface AliasLike {
  getUrn(): string;
  hasSpec(): boolean;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}

interface ReadRequestLike {
  getType(): string;
  getName(): string;
  getId(): string;
  getParent(): string;
  getProvider(): string;
  getProperties(): StructLike | undefined;
  getDependenciesList(): string[];
}

interface ResponseLike {
  getUrn(): string;
  getId?(): string;
  getObject?(): StructLike | undefined;
  getProperties?(): StructLike | undefined;
}

type Callback = (err: unknown, resp: ResponseLike | undefined) => void;

interface MonitorLike {
  registerResource(req: RegisterRequestLike, cb: Callback): unknown;
  readResource(req: ReadRequestLike, cb: Callback): unknown;
  registerResourceOutputs(
    req: { getUrn(): string; getOutputs(): StructLike | undefined },
    cb: Callback,
  ): unknown;
}

/**
 * The URN the engine would assign, from a mock URN. The SDK's mock monitor qualifies the type of a
 * child of the root stack with `pulumi:pulumi:Stack$`; the engine does not (the root stack is not part
 * of type chains). Prefer {@link recordRegistrations}' URNs: the mock monitor also keeps only the
 * parent's last type, where the engine keeps the parent's whole type chain.
 */
export function engineUrn(urn: string): string {
  return urn.replace(/^(urn:pulumi:[^:]*::[^:]*::)pulumi:pulumi:Stack\$/, "$1");
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * The engine's URN of a resource: `urn:pulumi:<stack>::<project>::<parent type chain>$<type>::<name>`,
 * the parent's qualified type (its whole chain) prefixed unless the parent is the root stack.
 */
export function resourceUrn(
  stackAndProject: { readonly stack: string; readonly project: string },
  parent: string | undefined,
  type: string,
  name: string,
): string {
  const parentType = parent ? qualifiedType(parent) : "";
  const qualified = parentType === "" || parentType === ROOT_STACK_TYPE ? type : `${parentType}$${type}`;
  return `urn:pulumi:${stackAndProject.stack}::${stackAndProject.project}::${qualified}::${name}`;
}

/** The qualified type of a URN (`hcp:data:BackupStorage$aws:iam/role:Role`). */
export function qualifiedType(urn: string): string {
  return urn.split("::")[2] ?? "";
}

/** The name of a URN (everything after the type). */
export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** Stack and project of a URN. */
export function urnStackAndProject(urn: string): { readonly stack: string; readonly project: string } {
  const [, stack = "", project = ""] = /^urn:pulumi:([^:]*)::([^:]*)::/.exec(urn) ?? [];
  return { stack, project };
}

interface SdkResourceModule {
  registerResource: (res: object, parent: unknown, t: string, name: string, ...rest: unknown[]) => unknown;
}

/** Class names of resources the SDK is registering, by `type::name`, in call order. */
let pendingClassNames = new Map<string, string[]>();
let sdkPatched = false;

/**
 * The SDK registers every resource through `runtime/resource.registerResource(res, parent, type,
 * name, ...)`, looked up on the module at call time: wrapping it is the one place the registering
 * object (and so its class) is visible. Test instrumentation only; the mocks never change behaviour.
 */
function captureClassNames(): void {
  if (sdkPatched) {
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require("@pulumi/pulumi/runtime/resource") as SdkResourceModule;
  const original = sdk.registerResource;
  sdk.registerResource = (res, parent, t, name, ...rest) => {
    const key = `${t}::${name}`;
    const names = pendingClassNames.get(key) ?? [];
    names.push(res.constructor.name);
    pendingClassNames.set(key, names);
    return original(res, parent, t, name, ...rest);
  };
  sdkPatched = true;
}

function takeClassName(type: string, name: string): string | undefined {
  const names = pendingClassNames.get(`${type}::${name}`);
  return names?.shift();
}

/**
 * Wraps the installed mock monitor so every registration is logged into `log` (in registration
 * order). Call right after `pulumi.runtime.setMocks`. URNs (the resource's, its parent's, its
 * dependencies', its provider's and its aliases') are the engine's: the mock monitor's are mapped
 * through what was registered before (a parent, a dependency and a provider always are).
 */
export function recordRegistrations(log: RegisteredResource[]): void {
  captureClassNames();
  pendingClassNames = new Map();
  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike | undefined;
  if (!monitor) {
    throw new Error("recordRegistrations: no monitor installed; call pulumi.runtime.setMocks first");
  }
  const byUrn = new Map<string, RegisteredResource>();
  /** Mock URN -> engine URN of every registered or read resource. */
  const engine = new Map<string, string>();
  const toEngine = (urn: string): string => engine.get(urn) ?? engineUrn(urn);
  const optionalUrn = (urn: string): string | undefined => (urn ? toEngine(urn) : undefined);
  const providerUrn = (ref: string): string | undefined => {
    if (!ref) {
      return undefined;
    }
    const i = ref.lastIndexOf("::");
    return toEngine(i > 0 ? ref.slice(0, i) : ref);
  };
  const assign = (mockUrn: string, parent: string | undefined, type: string, name: string): string => {
    const urn = resourceUrn(urnStackAndProject(mockUrn), parent, type, name);
    engine.set(mockUrn, urn);
    return urn;
  };
  const aliasOf = (a: AliasLike): RecordedAlias => {
    const spec = a.hasSpec() ? a.getSpec() : undefined;
    if (!spec) {
      return a.getUrn();
    }
    // Empty strings are the wire's "not given".
    const given = (value: string) => (value === "" ? undefined : value);
    const parent = spec.getNoparent() ? undefined : given(spec.getParenturn());
    const entries: Array<[keyof AliasSpec, string | boolean | undefined]> = [
      ["name", given(spec.getName())],
      ["type", given(spec.getType())],
      ["parent", parent === undefined ? undefined : toEngine(parent)],
      ["noParent", spec.getNoparent() ? true : undefined],
      ["project", given(spec.getProject())],
      ["stack", given(spec.getStack())],
    ];
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  };

  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) =>
    register(req, (err, resp) => {
      if (!err && resp) {
        const wire = req.getObject()?.toJavaScript() ?? {};
        const revealed = revealSecrets(wire);
        const deps: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((v, k) => {
          deps[k] = v.getUrnsList().map(toEngine);
        });
        const parent = optionalUrn(req.getParent());
        const entry: RegisteredResource = {
          urn: assign(resp.getUrn(), parent, req.getType(), req.getName()),
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          remote: req.getRemote(),
          read: false,
          id: resp.getId?.() || undefined,
          parent,
          provider: providerUrn(req.getProvider()),
          inputs: revealed.value as Record<string, unknown>,
          wireInputs: wire,
          secretInputPaths: revealed.secretPaths,
          wireOutputs: resp.getObject?.()?.toJavaScript() ?? {},
          dependencies: req.getDependenciesList().map(toEngine),
          propertyDependencies: deps,
          options: {
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
            ignoreChanges: req.getIgnorechangesList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            deleteBeforeReplace: req.getDeletebeforereplacedefined()
              ? req.getDeletebeforereplace()
              : undefined,
            aliases: [...(req.getAliasurnsList?.() ?? []), ...req.getAliasesList().map(aliasOf)],
            deletedWith: optionalUrn(req.getDeletedwith()),
          },
          className: takeClassName(req.getType(), req.getName()),
        };
        log.push(entry);
        byUrn.set(entry.urn, entry);
      }
      cb(err, resp);
    });

  const read = monitor.readResource.bind(monitor);
  monitor.readResource = (req, cb) =>
    read(req, (err, resp) => {
      if (!err && resp) {
        const wire = req.getProperties()?.toJavaScript() ?? {};
        const revealed = revealSecrets(wire);
        const parent = optionalUrn(req.getParent());
        const entry: RegisteredResource = {
          urn: assign(resp.getUrn(), parent, req.getType(), req.getName()),
          type: req.getType(),
          name: req.getName(),
          custom: true,
          remote: false,
          read: true,
          id: req.getId(),
          parent,
          provider: providerUrn(req.getProvider()),
          inputs: revealed.value as Record<string, unknown>,
          wireInputs: wire,
          secretInputPaths: revealed.secretPaths,
          wireOutputs: resp.getProperties?.()?.toJavaScript() ?? {},
          dependencies: req.getDependenciesList().map(toEngine),
          propertyDependencies: {},
          options: {
            protect: false,
            retainOnDelete: false,
            ignoreChanges: [],
            replaceOnChanges: [],
            additionalSecretOutputs: [],
            deleteBeforeReplace: undefined,
            aliases: [],
            deletedWith: undefined,
          },
        };
        log.push(entry);
        byUrn.set(entry.urn, entry);
      }
      cb(err, resp);
    });

  const outputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req, cb) => {
    const entry = byUrn.get(toEngine(req.getUrn()));
    if (entry) {
      entry.wireOutputs = req.getOutputs()?.toJavaScript() ?? {};
    }
    return outputs(req, cb);
  };
}
