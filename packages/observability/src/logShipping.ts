import type * as aws from "@pulumi/aws";
import type { LogClass } from "@hcp/platform";

/**
 * Container log shipping with Fluent Bit (chart `fluent/fluent-bit` at
 * `observability.charts.fluentBit`, Fluent Bit 4.0.3 for chart 0.50.0), rendered here as plain data:
 * the classic-format configuration, the chart values and the IAM policy of its Pod Identity role.
 *
 * Routing, by the tag the tail input gives every container log file
 * (`kube.var.log.containers.<pod>_<namespace>_<container>-<id>.log`, so no API lookup decides where
 * a line goes):
 *
 * - the data tier's PostgreSQL containers: tab-indented continuation lines are joined to their line
 *   first (a multiline statement stays one pgaudit record), then the pgaudit lines
 *   (`AUDIT: SESSION,` / `AUDIT: OBJECT,`) are re-tagged `audit.*` and go to the **audit** class;
 * - the application namespaces' containers are re-tagged `application.*` → **application** class;
 * - everything else keeps its `kube.*` tag → **diagnostic** class.
 *
 * A record goes to exactly one output (the re-tagging drops the original). Sources: Fluent Bit 4.0.3
 * `plugins/filter_rewrite_tag/rewrite_tag.c` (rules in order, the first match wins, the new record
 * enters the pipeline from the start), `plugins/filter_multiline/ml.c` and the docs' "Multiline"
 * filter page (buffered mode re-emits with the same tag; it must be the first filter),
 * `plugins/out_cloudwatch_logs/cloudwatch_api.c` (the only calls without `auto_create_group` are
 * `CreateLogStream` and `PutLogEvents`), `src/flb_regex.c` (Onigmo, Ruby syntax, `onig_search`:
 * unanchored), `plugins/in_tail` (the tag's `*` is the file path with `/` as `.`).
 */

/** Where Fluent Bit keeps its state on the node: the tail offsets and the filesystem buffer. */
export const FLUENT_BIT_STATE_DIR = "/var/fluent-bit";

/** Names the chart and the NetworkPolicies share. */
export const FLUENT_BIT = {
  release: "fluent-bit",
  serviceAccount: "fluent-bit",
  /** The chart's pod selector label (`fluent-bit.selectorLabels`). */
  podLabels: { "app.kubernetes.io/name": "fluent-bit" },
  /** The HTTP server the chart's probes read (`metricsPort`). */
  httpPort: 2020,
} as const;

/** The container log files the tail input reads (the kubelet's symlinks to `/var/log/pods`). */
export const CONTAINER_LOG_PATH = "/var/log/containers/*.log";

/** Tag prefix of the tail input; the kubernetes filter's `Kube_Tag_Prefix` is this plus the path. */
const KUBE_TAG = "kube";
const KUBE_TAG_PREFIX = `${KUBE_TAG}.var.log.containers.`;

/** What the routing depends on. */
export interface LogShippingInputs {
  /** AWS region of the log groups. */
  readonly region: string;
  /** Names of the log groups Fluent Bit ships to, by class (the layer's `/hcp/<prefix>/<class>`). */
  readonly logGroups: Readonly<Record<ShippedClass, string>>;
  /** Namespaces of the application services (workloads contract). */
  readonly applicationNamespaces: readonly string[];
  /** The data tier's namespace in this region (data contract in the primary, dr in a DR region). */
  readonly dataNamespace: string;
  /** The PostgreSQL member container's name (`POSTGRES_CONTAINER` of `@hcp/postgres`). */
  readonly postgresContainer: string;
  /** PostgreSQL's `log_line_prefix` and `log_timezone` (`POSTGRES_LOG_FORMAT` of `@hcp/postgres`). */
  readonly postgresLog: { readonly log_line_prefix: string; readonly log_timezone: string };
}

/** One `[SECTION]` of a classic-format file: its name and its `Key Value` lines in order. */
export interface ConfigSection {
  readonly name: string;
  readonly entries: ReadonlyArray<readonly [string, string]>;
}

/** The rendered configuration: the main file's sections and the parsers file's. */
export interface LogShippingConfig {
  readonly service: ConfigSection;
  readonly inputs: readonly ConfigSection[];
  readonly filters: readonly ConfigSection[];
  readonly outputs: readonly ConfigSection[];
  /** `custom_parsers.conf` (the chart's key): the PostgreSQL multiline parser. */
  readonly parsers: readonly ConfigSection[];
}

/** The log classes Fluent Bit ships to (security holds the network layer's and EKS' telemetry). */
export const SHIPPED_CLASSES = ["audit", "application", "diagnostic"] as const satisfies readonly LogClass[];

/** A class Fluent Bit ships to. */
export type ShippedClass = (typeof SHIPPED_CLASSES)[number];

/** The multiline parser joining PostgreSQL's continuation lines. */
export const POSTGRES_MULTILINE_PARSER = "postgres-stderr";

/** What pgaudit writes at the start of its message (pgaudit's README, "Format": `AUDIT: SESSION,...`). */
export const PGAUDIT_PATTERN = "\\sAUDIT:\\s(SESSION|OBJECT),";

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The start of a PostgreSQL log line as the prefix renders it, as a regex: `%m` is the time with
 * milliseconds and the time zone's abbreviation (`log_timezone`), `%p` the process id; everything
 * after `%q` (session-only fields) is not part of the pattern, so the postmaster's own lines match
 * too. Continuation lines of a multi-line message start with a tab (PostgreSQL `elog.c`,
 * `append_with_tabs`). Refuses prefixes it cannot turn into a pattern, so a change of the data
 * tier's prefix fails the build here rather than silently splitting audit records.
 */
export function postgresLineStart(log: LogShippingInputs["postgresLog"]): string {
  const prefix = log.log_line_prefix.split("%q")[0] ?? "";
  if (log.log_timezone !== "UTC") {
    throw new Error(
      `PostgreSQL log_timezone '${log.log_timezone}': the multiline pattern matches %m only in UTC ` +
        "(another zone prints its own abbreviation or offset). Fix: keep log_timezone UTC (POSTGRES_LOG_FORMAT of @hcp/postgres).",
    );
  }
  let pattern = "^";
  for (let i = 0; i < prefix.length; i++) {
    const ch = prefix[i];
    if (ch !== "%") {
      pattern += ch === " " ? " " : escapeRegex(ch);
      continue;
    }
    const esc = prefix[++i];
    if (esc === "m") {
      pattern += `\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} ${escapeRegex(log.log_timezone)}`;
    } else if (esc === "p") {
      pattern += "\\d+";
    } else {
      throw new Error(
        `PostgreSQL log_line_prefix '${log.log_line_prefix}' uses %${esc ?? ""} before %q, which the ` +
          "multiline pattern does not know. Fix: start the prefix with %m and %p, or teach postgresLineStart the escape.",
      );
    }
  }
  if (!pattern.startsWith("^\\d{4}")) {
    throw new Error(
      `PostgreSQL log_line_prefix '${log.log_line_prefix}' does not start with %m: continuation lines ` +
        "could not be told from new lines. Fix: start the prefix with %m.",
    );
  }
  return pattern;
}

/** Tag regex of the files of `container` in the namespaces `namespaces` (any pod). */
function containerFiles(namespaces: readonly string[], container: string): string {
  const ns =
    namespaces.length === 1 ? escapeRegex(namespaces[0]) : `(${namespaces.map(escapeRegex).join("|")})`;
  return `^${escapeRegex(KUBE_TAG_PREFIX)}[^_]+_${ns}_${container}-[0-9a-f]+\\.log$`;
}

/** Problems of the inputs (every one listed, with the fix). */
export function logShippingProblems(i: LogShippingInputs): string[] {
  const problems: string[] = [];
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (i.applicationNamespaces.length === 0) {
    problems.push("applicationNamespaces is empty: name the workloads contract's namespaces");
  }
  for (const ns of [...i.applicationNamespaces, i.dataNamespace]) {
    if (!label.test(ns)) {
      problems.push(`namespace '${ns}' is not a DNS label (the tag patterns assume one)`);
    }
  }
  if (!label.test(i.postgresContainer)) {
    problems.push(`container '${i.postgresContainer}' is not a DNS label`);
  }
  if (i.applicationNamespaces.includes(i.dataNamespace)) {
    problems.push(
      `the data namespace '${i.dataNamespace}' is also an application namespace: its non-audit lines would ` +
        "be application logs; keep the data tier in its own namespace",
    );
  }
  for (const c of SHIPPED_CLASSES) {
    if (!i.logGroups[c]) {
      problems.push(`no log group for class ${c}`);
    }
  }
  return problems;
}

const section = (name: string, entries: Array<readonly [string, string | number]>): ConfigSection => ({
  name,
  entries: entries.map(([k, v]) => [k, String(v)] as const),
});

/** Output buffer caps on the node's disk per class: when reached, the oldest chunks are dropped. */
export const BUFFER_LIMITS: Readonly<Record<ShippedClass, string>> = {
  audit: "2G",
  application: "2G",
  diagnostic: "1G",
};

/** The Fluent Bit configuration of the layer (see the module comment for the routing). */
export function logShippingConfig(i: LogShippingInputs): LogShippingConfig {
  const problems = logShippingProblems(i);
  if (problems.length > 0) {
    throw new Error(`Log shipping: ${problems.join("; ")}.`);
  }
  const postgresFiles = containerFiles([i.dataNamespace], i.postgresContainer);
  const applicationFiles = containerFiles(i.applicationNamespaces, "[^_]+");
  const output = (cls: ShippedClass, match: string) =>
    section("OUTPUT", [
      ["Name", "cloudwatch_logs"],
      ["Alias", `cloudwatch-${cls}`],
      ["Match", match],
      ["region", i.region],
      ["log_group_name", i.logGroups[cls]],
      // The stream name is the prefix plus the record's tag: one stream per container log file.
      ["log_stream_prefix", "fluent-bit."],
      // The layer creates the groups (retention, KMS key); the role may not create others.
      ["auto_create_group", "false"],
      // Filesystem chunks wait for CloudWatch however long it is away, up to the cap.
      ["Retry_Limit", "no_limits"],
      ["storage.total_limit_size", BUFFER_LIMITS[cls]],
    ]);
  return {
    service: section("SERVICE", [
      ["Daemon", "Off"],
      ["Flush", 1],
      ["Log_Level", "info"],
      ["Parsers_File", "/fluent-bit/etc/parsers.conf"],
      ["Parsers_File", "/fluent-bit/etc/conf/custom_parsers.conf"],
      // The chart's liveness and readiness probes read the HTTP server.
      ["HTTP_Server", "On"],
      ["HTTP_Listen", "0.0.0.0"],
      ["HTTP_Port", FLUENT_BIT.httpPort],
      ["Health_Check", "On"],
      // The buffer lives on the node (hostPath), so chunks not yet delivered survive a pod restart.
      ["storage.path", `${FLUENT_BIT_STATE_DIR}/buffer/`],
      ["storage.sync", "normal"],
      ["storage.checksum", "off"],
      ["storage.backlog.mem_limit", "16M"],
      ["storage.max_chunks_up", 128],
    ]),
    inputs: [
      section("INPUT", [
        ["Name", "tail"],
        ["Alias", "containers"],
        ["Tag", `${KUBE_TAG}.*`],
        ["Path", CONTAINER_LOG_PATH],
        // containerd writes CRI lines (`<time> <stream> <F|P> <log>`); the parser joins partial lines.
        ["multiline.parser", "cri"],
        // Offsets on the node: a restarted pod resumes where it stopped, without loss or duplicates.
        ["DB", `${FLUENT_BIT_STATE_DIR}/tail.db`],
        ["DB.locking", "true"],
        // Files that appear before the pod starts (a node's first pods) are read from their start.
        ["Read_from_Head", "true"],
        ["Refresh_Interval", 10],
        ["Rotate_Wait", 30],
        ["Buffer_Chunk_Size", "64k"],
        ["Buffer_Max_Size", "1M"],
        // A single line over 1 MiB is skipped with a warning instead of stopping the whole file.
        ["Skip_Long_Lines", "On"],
        ["storage.type", "filesystem"],
      ]),
    ],
    filters: [
      // First, as the multiline filter must be (its records re-enter the pipeline).
      section("FILTER", [
        ["Name", "multiline"],
        ["Alias", "postgres-lines"],
        ["Match_Regex", postgresFiles],
        ["multiline.key_content", "log"],
        ["multiline.parser", POSTGRES_MULTILINE_PARSER],
        ["buffer", "on"],
        ["flush_ms", 2000],
        ["emitter_name", "postgres-lines-emitter"],
        ["emitter_storage.type", "filesystem"],
      ]),
      section("FILTER", [
        ["Name", "kubernetes"],
        ["Alias", "metadata"],
        ["Match", `${KUBE_TAG}.*`],
        ["Kube_Tag_Prefix", KUBE_TAG_PREFIX],
        ["Merge_Log", "Off"],
        ["Keep_Log", "On"],
        ["Labels", "Off"],
        ["Annotations", "Off"],
        // A pod must not be able to choose its parser or drop its own logs by annotation.
        ["K8S-Logging.Parser", "Off"],
        ["K8S-Logging.Exclude", "Off"],
        ["Buffer_Size", "0"],
      ]),
      section("FILTER", [
        ["Name", "rewrite_tag"],
        ["Alias", "audit-class"],
        ["Match_Regex", postgresFiles],
        ["Rule", `$log ${PGAUDIT_PATTERN} audit.$TAG false`],
        ["Emitter_Name", "audit-emitter"],
        ["Emitter_Storage.type", "filesystem"],
      ]),
      section("FILTER", [
        ["Name", "rewrite_tag"],
        ["Alias", "application-class"],
        ["Match_Regex", applicationFiles],
        // Every CRI record has a stream: the rule selects the whole file.
        ["Rule", "$stream ^(stdout|stderr)$ application.$TAG false"],
        ["Emitter_Name", "application-emitter"],
        ["Emitter_Storage.type", "filesystem"],
      ]),
    ],
    outputs: [
      output("audit", "audit.*"),
      output("application", "application.*"),
      output("diagnostic", `${KUBE_TAG}.*`),
    ],
    parsers: [
      section("MULTILINE_PARSER", [
        ["Name", POSTGRES_MULTILINE_PARSER],
        ["Type", "regex"],
        ["Flush_Timeout", 1000],
        ["Rule", `"start_state" "/${postgresLineStart(i.postgresLog)}/" "cont"`],
        ["Rule", `"cont" "/^\\t/" "cont"`],
      ]),
    ],
  };
}

/** Renders sections in Fluent Bit's classic format (keys indented by 4, values aligned). */
export function renderClassic(sections: readonly ConfigSection[]): string {
  return sections
    .map((s) => {
      const width = Math.max(...s.entries.map(([k]) => k.length));
      return [`[${s.name}]`, ...s.entries.map(([k, v]) => `    ${k.padEnd(width)} ${v}`)].join("\n");
    })
    .join("\n\n")
    .concat("\n");
}

/**
 * Parses Fluent Bit's classic format: `[SECTION]` headers, indented `Key Value` lines (the key is
 * the first word, the value the rest of the line, trimmed), `#` comment lines and blank lines.
 * Refuses what Fluent Bit refuses: an entry outside a section, an unindented entry, a key without
 * a value. (`@INCLUDE` / `@SET` are not used by this layer and refused too.)
 */
export function parseClassic(text: string): ConfigSection[] {
  const sections: Array<{ name: string; entries: Array<readonly [string, string]> }> = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    const where = `line ${index + 1}`;
    if (line.trim() === "" || line.trim().startsWith("#")) {
      return;
    }
    const header = /^\[([A-Z_]+)\]\s*$/.exec(line);
    if (header) {
      sections.push({ name: header[1], entries: [] });
      return;
    }
    if (line.startsWith("@")) {
      throw new Error(`${where}: '${line}' (@ commands) is not supported here`);
    }
    if (!/^\s+\S/.test(line)) {
      throw new Error(`${where}: '${line}' is neither a section header nor an indented entry`);
    }
    const current = sections[sections.length - 1];
    if (!current) {
      throw new Error(`${where}: entry '${line.trim()}' before any section`);
    }
    const m = /^\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
    if (!m) {
      throw new Error(`${where}: key '${line.trim()}' has no value`);
    }
    current.entries.push([m[1], m[2]]);
  });
  return sections;
}

/** The chart's `config` values: `service`, `inputs`, `filters`, `outputs` and `customParsers`. */
export function chartConfig(c: LogShippingConfig): Record<string, string> {
  return {
    service: renderClassic([c.service]),
    inputs: renderClassic(c.inputs),
    filters: renderClassic(c.filters),
    outputs: renderClassic(c.outputs),
    customParsers: renderClassic(c.parsers),
  };
}

/**
 * The fluent-bit chart's values (chart 0.50.0 `values.yaml`, `templates/_pod.tpl`): a DaemonSet on
 * every node (the database nodes' taint is tolerated: pgaudit is written there), the rendered
 * configuration, the node's `/var/log` read-only and `/var/fluent-bit` for offsets and buffer.
 * Root is needed to read the runtime's log files (0640 root); every capability is dropped and the
 * root filesystem is read-only. The chart's test pod (busybox:latest) is off.
 */
export function fluentBitValues(c: LogShippingConfig): Record<string, unknown> {
  return {
    kind: "DaemonSet",
    fullnameOverride: FLUENT_BIT.release,
    serviceAccount: { create: true, name: FLUENT_BIT.serviceAccount },
    // The kubernetes filter reads pods and namespaces; nothing on the nodes' API.
    rbac: { create: true, nodeAccess: false, eventsAccess: false },
    testFramework: { enabled: false },
    hostNetwork: false,
    podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
    tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
    metricsPort: FLUENT_BIT.httpPort,
    config: chartConfig(c),
    daemonSetVolumes: [
      { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
      { name: "state", hostPath: { path: FLUENT_BIT_STATE_DIR, type: "DirectoryOrCreate" } },
    ],
    daemonSetVolumeMounts: [
      { name: "varlog", mountPath: "/var/log", readOnly: true },
      { name: "state", mountPath: FLUENT_BIT_STATE_DIR },
    ],
  };
}

/**
 * The Pod Identity role's policy: create streams in and put events to exactly the shipped log
 * groups. No KMS permission: CloudWatch Logs encrypts with the group's key itself (the logs key's
 * policy grants the `logs.<region>` service). No `DescribeLogStreams`: Fluent Bit 4.0.3's
 * `cloudwatch_logs` never calls it.
 */
export function logShippingPolicy(logGroupArns: readonly string[]): aws.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ShipToTheLayersLogGroups",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: logGroupArns.flatMap((arn) => [arn, `${arn}:log-stream:*`]),
      },
    ],
  };
}
