import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/**
 * A policy pack, started the way the Pulumi CLI starts one (`run-policy-pack <engine> <pack dir>`,
 * the pack prints its gRPC port), and driven through its real `Analyzer` service: the same
 * `configure`, `configureStack`, `analyze` and `analyzeStack` handlers `pulumi preview --policy-pack`
 * calls, so enforcement levels, unknown-value handling and "not applicable" are @pulumi/policy's own.
 */

/** How a policy is enforced. */
export type EnforcementLevel = "advisory" | "mandatory" | "disabled" | "remediate";

const LEVELS: Record<number, EnforcementLevel> = {
  [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
  [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
};

const LEVEL_VALUES: Record<EnforcementLevel, analyzerPb.EnforcementLevel> = {
  advisory: analyzerPb.EnforcementLevel.ADVISORY,
  mandatory: analyzerPb.EnforcementLevel.MANDATORY,
  disabled: analyzerPb.EnforcementLevel.DISABLED,
  remediate: analyzerPb.EnforcementLevel.REMEDIATE,
};

/** One diagnostic a policy reported. */
export interface Diagnostic {
  readonly policyName: string;
  readonly policyPackName: string;
  readonly policyPackVersion: string;
  readonly description: string;
  readonly message: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly severity: string;
  readonly urn: string;
}

/** A policy as the pack describes itself. */
export interface PolicyInfo {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly configSchema:
    { readonly properties: Record<string, unknown>; readonly required: readonly string[] } | undefined;
}

/** What the pack says about itself (GetAnalyzerInfo). */
export interface PackInfo {
  readonly name: string;
  readonly version: string;
  readonly policies: readonly PolicyInfo[];
  /** The pack's own default config per policy. */
  readonly initialConfig: Readonly<
    Record<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }>
  >;
}

/** Per-policy configuration sent with `configure`. */
export type PolicyConfiguration = Readonly<
  Record<
    string,
    { readonly enforcementLevel: EnforcementLevel; readonly properties: Readonly<Record<string, unknown>> }
  >
>;

/** Resource options as the engine sends them. */
export interface AnalyzerOptions {
  readonly protect: boolean;
  readonly ignoreChanges: readonly string[];
  readonly deleteBeforeReplace?: boolean;
  readonly additionalSecretOutputs: readonly string[];
  readonly aliases: readonly string[];
  readonly parent?: string;
}

/** A provider as the engine describes it to a policy. */
export interface AnalyzerProvider {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly properties: Record<string, unknown>;
}

/** A resource as the engine sends it (properties in wire format: secrets tagged, unknowns as the sentinel). */
export interface AnalyzerInput {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly properties: Record<string, unknown>;
  readonly options: AnalyzerOptions;
  readonly provider?: AnalyzerProvider;
}

/** A resource of the final stack state, for `analyzeStack`. */
export interface AnalyzerStackInput extends AnalyzerInput {
  readonly parent?: string;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

function struct(value: Record<string, unknown>): Struct {
  // Struct rejects `undefined`; the wire values went through JSON, so a round trip is exact.
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(value)) as Record<string, never>);
}

function options(o: AnalyzerOptions): analyzerPb.AnalyzerResourceOptions {
  const out = new analyzerPb.AnalyzerResourceOptions();
  out.setProtect(o.protect);
  out.setIgnorechangesList([...o.ignoreChanges]);
  out.setAdditionalsecretoutputsList([...o.additionalSecretOutputs]);
  out.setAliasesList([...o.aliases]);
  if (o.deleteBeforeReplace !== undefined) {
    out.setDeletebeforereplacedefined(true);
    out.setDeletebeforereplace(o.deleteBeforeReplace);
  }
  if (o.parent) {
    out.setParent(o.parent);
  }
  out.setCustomtimeouts(new analyzerPb.AnalyzerResourceOptions.CustomTimeouts());
  return out;
}

function provider(p: AnalyzerProvider): analyzerPb.AnalyzerProviderResource {
  const out = new analyzerPb.AnalyzerProviderResource();
  out.setUrn(p.urn);
  out.setType(p.type);
  out.setName(p.name);
  out.setProperties(struct(p.properties));
  return out;
}

function diagnostics(resp: analyzerPb.AnalyzeResponse): Diagnostic[] {
  return resp.getDiagnosticsList().map((d) => ({
    policyName: d.getPolicyname(),
    policyPackName: d.getPolicypackname(),
    policyPackVersion: d.getPolicypackversion(),
    description: d.getDescription(),
    message: d.getMessage(),
    enforcementLevel: LEVELS[d.getEnforcementlevel()] ?? "advisory",
    severity: severityName(d.getSeverity()),
    urn: d.getUrn(),
  }));
}

function severityName(value: number): string {
  const names = Object.entries(analyzerPb.PolicySeverity ?? {}).find(([, v]) => (v as number) === value)?.[0];
  return (names ?? "UNSPECIFIED").replace(/^POLICY_SEVERITY_/, "").toLowerCase();
}

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown;

function call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** A running policy pack. */
export class PolicyPackServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: analyzerRpc.AnalyzerClient,
    private readonly stderr: () => string,
  ) {}

  /**
   * Starts the pack in `packDir` as the CLI does and connects to it. Rejects with the pack's stderr
   * if it exits or prints no port within `timeoutMs`.
   */
  static async start(packDir: string, timeoutMs = 120_000): Promise<PolicyPackServer> {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    // The engine address is the CLI's first argument; run-policy-pack drops it unused.
    const child = spawn(process.execPath, [runner, "127.0.0.1:0", packDir], {
      cwd: packDir,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_"))),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`policy pack ${packDir} printed no port within ${timeoutMs} ms:\n${stderr}`));
      }, timeoutMs);
      child.stdout?.on("data", (d: Buffer) => {
        stdout += d.toString();
        const m = /^(\d+)\s*$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`policy pack ${path.basename(packDir)} exited with ${code}:\n${stderr}`));
      });
    });
    const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 400 * 1024 * 1024,
      "grpc.max_send_message_length": 400 * 1024 * 1024,
    });
    return new PolicyPackServer(child, client, () => stderr);
  }

  /** The pack's name, version, policies and default config. */
  async info(): Promise<PackInfo> {
    const info = await call<Empty, analyzerPb.AnalyzerInfo>(
      this.client.getAnalyzerInfo.bind(this.client),
      new Empty(),
    );
    const initialConfig: Record<
      string,
      { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }
    > = {};
    info.getInitialconfigMap().forEach((v, k) => {
      initialConfig[k] = {
        enforcementLevel: LEVELS[v.getEnforcementlevel()] ?? "advisory",
        properties: v.getProperties()?.toJavaScript() ?? {},
      };
    });
    return {
      name: info.getName(),
      version: info.getVersion(),
      policies: info.getPoliciesList().map((p) => {
        const schema = p.getConfigschema();
        return {
          name: p.getName(),
          description: p.getDescription(),
          enforcementLevel: LEVELS[p.getEnforcementlevel()] ?? "advisory",
          configSchema: schema
            ? {
                properties: schema.getProperties()?.toJavaScript() ?? {},
                required: schema.getRequiredList(),
              }
            : undefined,
        };
      }),
      initialConfig,
    };
  }

  /** Sends the pack configuration (`--policy-pack-config`). */
  async configure(config: PolicyConfiguration): Promise<void> {
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, c] of Object.entries(config)) {
      const pc = new analyzerPb.PolicyConfig();
      pc.setEnforcementlevel(LEVEL_VALUES[c.enforcementLevel]);
      pc.setProperties(struct({ ...c.properties }));
      map.set(name, pc);
    }
    await call(this.client.configure.bind(this.client), req);
  }

  /** Tells the pack which stack is analyzed next (stack tags reach policies as `stackTags`). */
  async configureStack(stack: {
    readonly organization: string;
    readonly project: string;
    readonly stack: string;
    readonly tags: Readonly<Record<string, string>>;
  }): Promise<void> {
    const req = new analyzerPb.AnalyzerStackConfigureRequest();
    req.setOrganization(stack.organization);
    req.setProject(stack.project);
    req.setStack(stack.stack);
    req.setDryRun(true);
    const tags = req.getTagsMap();
    for (const [k, v] of Object.entries(stack.tags)) {
      tags.set(k, v);
    }
    await call(this.client.configureStack.bind(this.client), req);
  }

  /** Runs the resource policies on one resource (its checked inputs). */
  async analyze(r: AnalyzerInput): Promise<Diagnostic[]> {
    const req = new analyzerPb.AnalyzeRequest();
    req.setUrn(r.urn);
    req.setType(r.type);
    req.setName(r.name);
    req.setProperties(struct(r.properties));
    req.setOptions(options(r.options));
    if (r.provider) {
      req.setProvider(provider(r.provider));
    }
    return diagnostics(await call(this.client.analyze.bind(this.client), req));
  }

  /** Runs the stack policies on the whole stack. */
  async analyzeStack(resources: readonly AnalyzerStackInput[]): Promise<Diagnostic[]> {
    const req = new analyzerPb.AnalyzeStackRequest();
    req.setResourcesList(
      resources.map((r) => {
        const out = new analyzerPb.AnalyzerResource();
        out.setUrn(r.urn);
        out.setType(r.type);
        out.setName(r.name);
        out.setProperties(struct(r.properties));
        out.setOptions(options(r.options));
        if (r.provider) {
          out.setProvider(provider(r.provider));
        }
        if (r.parent) {
          out.setParent(r.parent);
        }
        out.setDependenciesList([...r.dependencies]);
        const deps = out.getPropertydependenciesMap();
        for (const [k, urns] of Object.entries(r.propertyDependencies)) {
          const d = new analyzerPb.AnalyzerPropertyDependencies();
          d.setUrnsList([...urns]);
          deps.set(k, d);
        }
        return out;
      }),
    );
    return diagnostics(await call(this.client.analyzeStack.bind(this.client), req));
  }

  /** What the pack printed on stderr so far. */
  get log(): string {
    return this.stderr();
  }

  /** Stops the pack. */
  stop(): void {
    this.client.close();
    this.child.kill("SIGTERM");
  }
}
