import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { analyzerConfig, type PolicyPackConfigJson } from "../src/lib";

/**
 * Runs the real pack the way the Pulumi CLI talks to it: the package's entry point (index.js, which
 * constructs the one PolicyPack and starts @pulumi/policy's gRPC analyzer server) is loaded once in
 * this process, and tests call its Analyzer service over gRPC with requests built from
 * @pulumi/pulumi's protobuf messages: Configure (the --policy-pack-config), ConfigureStack (stack
 * tags), Analyze (one resource's inputs) and AnalyzeStack (every resource). Unknown values are sent
 * as the engine sends them, as the sentinel strings of a preview.
 */

/** An AWS/Kubernetes provider as the engine describes it to analyzers. */
export interface ProviderFixture {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** A resource as the engine describes it to analyzers. */
export interface Fixture {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Readonly<Record<string, unknown>>;
  readonly provider?: ProviderFixture;
  readonly protect?: boolean;
  readonly ignoreChanges?: readonly string[];
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  /** URNs each property was computed from. */
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

export type Level = "advisory" | "mandatory" | "remediate" | "disabled";

/** One diagnostic of an Analyze / AnalyzeStack response. */
export interface Diagnostic {
  readonly policyName: string;
  readonly message: string;
  readonly description: string;
  readonly enforcementLevel: Level;
  readonly urn: string;
  readonly severity: number;
}

export interface AnalyzeResult {
  readonly diagnostics: readonly Diagnostic[];
  readonly notApplicable: ReadonlyArray<{ readonly policyName: string; readonly reason: string }>;
}

const LEVELS: Record<number, Level> = {
  [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
  [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
};
const LEVEL_CODES: Record<Level, analyzerPb.EnforcementLevel> = {
  advisory: analyzerPb.EnforcementLevel.ADVISORY,
  mandatory: analyzerPb.EnforcementLevel.MANDATORY,
  remediate: analyzerPb.EnforcementLevel.REMEDIATE,
  disabled: analyzerPb.EnforcementLevel.DISABLED,
};

function struct(value: Readonly<Record<string, unknown>>): Struct {
  // Undefined members are absent on the wire.
  return Struct.fromJavaScript(
    JSON.parse(JSON.stringify(value)) as Parameters<typeof Struct.fromJavaScript>[0],
  );
}

function options(f: Fixture): analyzerPb.AnalyzerResourceOptions {
  const o = new analyzerPb.AnalyzerResourceOptions();
  o.setProtect(f.protect ?? false);
  o.setIgnorechangesList([...(f.ignoreChanges ?? [])]);
  if (f.parent) {
    o.setParent(f.parent);
  }
  return o;
}

function provider(p: ProviderFixture | undefined): analyzerPb.AnalyzerProviderResource | undefined {
  if (!p) {
    return undefined;
  }
  const msg = new analyzerPb.AnalyzerProviderResource();
  msg.setType(p.type);
  msg.setName(p.name);
  msg.setUrn(p.urn);
  msg.setProperties(struct(p.props));
  return msg;
}

function result(resp: analyzerPb.AnalyzeResponse): AnalyzeResult {
  return {
    diagnostics: resp.getDiagnosticsList().map((d) => ({
      policyName: d.getPolicyname(),
      message: d.getMessage(),
      description: d.getDescription(),
      enforcementLevel: LEVELS[d.getEnforcementlevel()],
      urn: d.getUrn(),
      severity: d.getSeverity(),
    })),
    notApplicable: resp
      .getNotApplicableList()
      .map((n) => ({ policyName: n.getPolicyName(), reason: n.getReason() })),
  };
}

function call<Req, Resp>(
  fn: (req: Req, cb: (err: grpc.ServiceError | null, resp: Resp) => void) => unknown,
  req: Req,
): Promise<Resp> {
  return new Promise((resolve, reject) => fn(req, (err, resp) => (err ? reject(err) : resolve(resp))));
}

/** A client of the pack's analyzer server. */
export class Analyzer {
  private constructor(
    private readonly client: analyzerGrpc.AnalyzerClient,
    readonly port: number,
  ) {}

  /** Sets the policy config exactly as the CLI does for `--policy-pack-config <file>`. */
  async configure(config: PolicyPackConfigJson = {}): Promise<void> {
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, c] of Object.entries(analyzerConfig(config))) {
      const pc = new analyzerPb.PolicyConfig();
      pc.setEnforcementlevel(LEVEL_CODES[c.enforcementLevel]);
      pc.setProperties(struct(c.properties));
      map.set(name, pc);
    }
    await call(this.client.configure.bind(this.client), req);
  }

  async configureStack(tags: Readonly<Record<string, string>> = {}): Promise<void> {
    const req = new analyzerPb.AnalyzerStackConfigureRequest();
    req.setStack("test");
    req.setProject("hcp");
    req.setOrganization("organization");
    const map = req.getTagsMap();
    for (const [k, v] of Object.entries(tags)) {
      map.set(k, v);
    }
    await call(this.client.configureStack.bind(this.client), req);
  }

  /** Analyze: one resource's inputs, before it is created or updated. */
  async analyze(f: Fixture): Promise<AnalyzeResult> {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(f.type);
    req.setName(f.name);
    req.setUrn(f.urn);
    req.setProperties(struct(f.props));
    req.setOptions(options(f));
    const p = provider(f.provider);
    if (p) {
      req.setProvider(p);
    }
    return result(await call(this.client.analyze.bind(this.client), req));
  }

  /** AnalyzeStack: every resource of the stack. */
  async analyzeStack(fixtures: readonly Fixture[]): Promise<AnalyzeResult> {
    const req = new analyzerPb.AnalyzeStackRequest();
    req.setResourcesList(
      fixtures.map((f) => {
        const r = new analyzerPb.AnalyzerResource();
        r.setType(f.type);
        r.setName(f.name);
        r.setUrn(f.urn);
        r.setProperties(struct(f.props));
        r.setOptions(options(f));
        if (f.parent) {
          r.setParent(f.parent);
        }
        r.setDependenciesList([...(f.dependencies ?? [])]);
        const deps = r.getPropertydependenciesMap();
        for (const [k, urns] of Object.entries(f.propertyDependencies ?? {})) {
          const d = new analyzerPb.AnalyzerPropertyDependencies();
          d.setUrnsList([...urns]);
          deps.set(k, d);
        }
        const p = provider(f.provider);
        if (p) {
          r.setProvider(p);
        }
        return r;
      }),
    );
    return result(await call(this.client.analyzeStack.bind(this.client), req));
  }

  async info(): Promise<analyzerPb.AnalyzerInfo> {
    return call(this.client.getAnalyzerInfo.bind(this.client), new Empty());
  }

  private static started: Promise<Analyzer> | undefined;

  /** Starts the pack in this process (once) and connects to it. */
  static start(): Promise<Analyzer> {
    Analyzer.started ??= Analyzer.load();
    return Analyzer.started;
  }

  private static async load(): Promise<Analyzer> {
    const packDir = path.join(__dirname, "..");
    // The server prints its port on stdout, as the CLI expects; catch that line.
    const log = console.log;
    const port = await new Promise<number>((resolve, reject) => {
      console.log = (...args: unknown[]) => {
        const text = args.map(String).join(" ");
        if (/^\d+$/.test(text)) {
          console.log = log;
          resolve(Number(text));
        } else {
          log(...args);
        }
      };
      try {
        // PolicyPack reads the version from the package.json of the working directory.
        const cwd = process.cwd();
        process.chdir(packDir);
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          require(path.join(packDir, "index.js"));
        } finally {
          process.chdir(cwd);
        }
      } catch (e) {
        console.log = log;
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const analyzer = new Analyzer(client, port);
    await analyzer.configure();
    return analyzer;
  }
}
