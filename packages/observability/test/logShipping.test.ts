import * as assert from "node:assert/strict";
import { POSTGRES_CONTAINER, POSTGRES_LOG_FORMAT } from "@hcp/postgres";
import {
  chartConfig,
  type ConfigSection,
  fluentBitValues,
  logShippingConfig,
  type LogShippingInputs,
  logShippingPolicy,
  logShippingProblems,
  parseClassic,
  postgresLineStart,
  renderClassic,
} from "../src/logShipping";
import { matchesTag, portableRegexProblems, routeFile, splitTokens } from "../src/logRouting";

const INPUTS: LogShippingInputs = {
  region: "sa-east-1",
  logGroups: {
    audit: "/hcp/hcp-production-sa-east-1/audit",
    application: "/hcp/hcp-production-sa-east-1/application",
    diagnostic: "/hcp/hcp-production-sa-east-1/diagnostic",
  },
  applicationNamespaces: ["healthcare"],
  dataNamespace: "hcp-data",
  postgresContainer: POSTGRES_CONTAINER,
  postgresLog: POSTGRES_LOG_FORMAT,
};

/**
 * PostgreSQL 15.18 (Debian) with pgaudit, started with the data tier's rendered logging settings
 * (`POSTGRES_LOG_FORMAT`, `pgaudit.log = 'ddl, write, role'`, `log_connections = on`): its stderr,
 * verbatim, for a CREATE EXTENSION, a CREATE TABLE, an INSERT and an INSERT written on two lines
 * (PostgreSQL indents the continuation with a tab).
 */
const CAPTURED = [
  "2026-12-03 06:20:02.147 UTC [2470] LOG:  pgaudit extension initialized",
  "2026-12-03 06:20:05.211 UTC [2571] [unknown]@[unknown] app=[unknown] client=[local] LOG:  connection received: host=[local]",
  "2026-12-03 06:20:05.211 UTC [2571] postgres@postgres app=[unknown] client=[local] LOG:  connection authorized: user=postgres database=postgres application_name=psql",
  "2026-12-03 06:20:05.216 UTC [2571] postgres@postgres app=psql client=[local] LOG:  AUDIT: SESSION,1,1,DDL,CREATE EXTENSION,,,CREATE EXTENSION pgaudit,<not logged>",
  "2026-12-03 06:20:05.220 UTC [2571] postgres@postgres app=psql client=[local] LOG:  AUDIT: SESSION,2,1,DDL,CREATE TABLE,TABLE,public.t,CREATE TABLE t (id int),<not logged>",
  "2026-12-03 06:20:05.220 UTC [2571] postgres@postgres app=psql client=[local] LOG:  AUDIT: SESSION,3,1,WRITE,INSERT,TABLE,public.t,INSERT INTO t VALUES (1),<not logged>",
  '2026-12-03 06:20:19.596 UTC [2785] postgres@postgres app=psql client=[local] LOG:  AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,"INSERT INTO t',
  '\tVALUES (2)",<not logged>',
];
/** Patroni's own lines in the same container (Python logging's default format). */
const PATRONI = "2026-12-03 06:20:30,001 INFO: no action. I am (pg-0), the leader with the lock";

const HEX = "5f".repeat(32);
const file = (
  pod: string,
  namespace: string,
  container: string,
  lines: readonly string[],
  stream = "stderr",
) => ({
  path: `/var/log/containers/${pod}_${namespace}_${container}-${HEX}.log`,
  // containerd's CRI format: time, stream, F(ull) or P(artial), content.
  lines: lines.map((l) => `2026-12-03T06:20:05.220123456Z ${stream} F ${l}`),
});

const config = logShippingConfig(INPUTS);
const rendered = chartConfig(config);
const main = parseClassic(
  [rendered["service"], rendered["inputs"], rendered["filters"], rendered["outputs"]].join("\n"),
);
const parsers = parseClassic(rendered["customParsers"]);
const groupsOf = (f: ReturnType<typeof file>) => routeFile(main, parsers, f).map((r) => r.logGroup);

/**
 * Option names Fluent Bit 4.0.3 accepts, per plugin, from its source: the `FLB_CONFIG_MAP_*` entries
 * of `plugins/in_tail/tail.c`, `plugins/filter_kubernetes/kubernetes.c`,
 * `plugins/filter_rewrite_tag/rewrite_tag.c`, `plugins/filter_multiline/ml.c`,
 * `plugins/out_cloudwatch_logs/cloudwatch_logs.c`; the instance properties of `src/flb_input.c`,
 * `src/flb_filter.c`, `src/flb_output.c` (`prop_key_check`); the service keys of
 * `include/fluent-bit/flb_config.h`; the multiline parser keys of `src/flb_parser.c`. Keys are
 * case-insensitive. Only the names this layer might use are listed.
 */
const KNOWN: Readonly<Record<string, readonly string[]>> = {
  SERVICE: [
    "daemon",
    "flush",
    "grace",
    "log_level",
    "parsers_file",
    "http_server",
    "http_listen",
    "http_port",
    "health_check",
    "storage.path",
    "storage.sync",
    "storage.checksum",
    "storage.backlog.mem_limit",
    "storage.max_chunks_up",
    "storage.metrics",
  ],
  "INPUT:tail": [
    "name",
    "alias",
    "tag",
    "storage.type",
    "mem_buf_limit",
    "path",
    "exclude_path",
    "read_from_head",
    "refresh_interval",
    "rotate_wait",
    "buffer_chunk_size",
    "buffer_max_size",
    "skip_long_lines",
    "db",
    "db.sync",
    "db.locking",
    "multiline.parser",
  ],
  "FILTER:multiline": [
    "name",
    "alias",
    "match",
    "match_regex",
    "buffer",
    "mode",
    "flush_ms",
    "multiline.parser",
    "multiline.key_content",
    "emitter_name",
    "emitter_storage.type",
    "emitter_mem_buf_limit",
  ],
  "FILTER:kubernetes": [
    "name",
    "alias",
    "match",
    "match_regex",
    "kube_tag_prefix",
    "merge_log",
    "keep_log",
    "labels",
    "annotations",
    "k8s-logging.parser",
    "k8s-logging.exclude",
    "buffer_size",
    "kube_url",
  ],
  "FILTER:rewrite_tag": [
    "name",
    "alias",
    "match",
    "match_regex",
    "rule",
    "emitter_name",
    "emitter_storage.type",
    "emitter_mem_buf_limit",
  ],
  "OUTPUT:cloudwatch_logs": [
    "name",
    "alias",
    "match",
    "match_regex",
    "retry_limit",
    "storage.total_limit_size",
    "workers",
    "region",
    "log_group_name",
    "log_stream_name",
    "log_stream_prefix",
    "log_key",
    "auto_create_group",
    "log_retention_days",
  ],
  MULTILINE_PARSER: ["name", "type", "flush_timeout", "rule", "key_content", "parser"],
};

const kindOf = (s: ConfigSection) => {
  const name = s.entries.find(([k]) => k.toLowerCase() === "name")?.[1];
  return s.name === "SERVICE" || s.name === "MULTILINE_PARSER" ? s.name : `${s.name}:${name}`;
};

describe("log shipping: the rendered Fluent Bit configuration", () => {
  it("renders the routing exactly: tail with CRI, multiline then kubernetes then two re-taggings, three CloudWatch outputs", () => {
    assert.equal(
      rendered["filters"],
      [
        "[FILTER]",
        "    Name                  multiline",
        "    Alias                 postgres-lines",
        "    Match_Regex           ^kube\\.var\\.log\\.containers\\.[^_]+_hcp-data_postgres-[0-9a-f]+\\.log$",
        "    multiline.key_content log",
        "    multiline.parser      postgres-stderr",
        "    buffer                on",
        "    flush_ms              2000",
        "    emitter_name          postgres-lines-emitter",
        "    emitter_storage.type  filesystem",
        "",
        "[FILTER]",
        "    Name                kubernetes",
        "    Alias               metadata",
        "    Match               kube.*",
        "    Kube_Tag_Prefix     kube.var.log.containers.",
        "    Merge_Log           Off",
        "    Keep_Log            On",
        "    Labels              Off",
        "    Annotations         Off",
        "    K8S-Logging.Parser  Off",
        "    K8S-Logging.Exclude Off",
        "    Buffer_Size         0",
        "",
        "[FILTER]",
        "    Name                 rewrite_tag",
        "    Alias                audit-class",
        "    Match_Regex          ^kube\\.var\\.log\\.containers\\.[^_]+_hcp-data_postgres-[0-9a-f]+\\.log$",
        "    Rule                 $log \\sAUDIT:\\s(SESSION|OBJECT), audit.$TAG false",
        "    Emitter_Name         audit-emitter",
        "    Emitter_Storage.type filesystem",
        "",
        "[FILTER]",
        "    Name                 rewrite_tag",
        "    Alias                application-class",
        "    Match_Regex          ^kube\\.var\\.log\\.containers\\.[^_]+_healthcare_[^_]+-[0-9a-f]+\\.log$",
        "    Rule                 $stream ^(stdout|stderr)$ application.$TAG false",
        "    Emitter_Name         application-emitter",
        "    Emitter_Storage.type filesystem",
        "",
      ].join("\n"),
    );
    assert.equal(
      rendered["outputs"].split("\n\n")[0],
      [
        "[OUTPUT]",
        "    Name                     cloudwatch_logs",
        "    Alias                    cloudwatch-audit",
        "    Match                    audit.*",
        "    region                   sa-east-1",
        "    log_group_name           /hcp/hcp-production-sa-east-1/audit",
        "    log_stream_prefix        fluent-bit.",
        "    auto_create_group        false",
        "    Retry_Limit              no_limits",
        "    storage.total_limit_size 2G",
      ].join("\n"),
    );
    assert.deepEqual(
      config.outputs.map((o) => [
        o.entries.find(([k]) => k === "Match")?.[1],
        o.entries.find(([k]) => k === "log_group_name")?.[1],
      ]),
      [
        ["audit.*", INPUTS.logGroups.audit],
        ["application.*", INPUTS.logGroups.application],
        ["kube.*", INPUTS.logGroups.diagnostic],
      ],
    );
    assert.equal(
      rendered["customParsers"],
      [
        "[MULTILINE_PARSER]",
        "    Name          postgres-stderr",
        "    Type          regex",
        "    Flush_Timeout 1000",
        '    Rule          "start_state" "/^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} UTC \\[\\d+\\] /" "cont"',
        '    Rule          "cont" "/^\\t/" "cont"',
        "",
      ].join("\n"),
    );
  });

  it("buffers on the node's filesystem: tail offsets, input, emitters and the storage path under /var/fluent-bit", () => {
    const get = (s: ConfigSection, k: string) => s.entries.filter(([key]) => key === k).map(([, v]) => v);
    assert.deepEqual(get(config.service, "storage.path"), ["/var/fluent-bit/buffer/"]);
    assert.deepEqual(get(config.inputs[0], "DB"), ["/var/fluent-bit/tail.db"]);
    assert.deepEqual(get(config.inputs[0], "storage.type"), ["filesystem"]);
    assert.deepEqual(get(config.inputs[0], "multiline.parser"), ["cri"]);
    assert.deepEqual(get(config.inputs[0], "Path"), ["/var/log/containers/*.log"]);
    for (const f of config.filters.filter((x) => get(x, "Name")[0] !== "kubernetes")) {
      const key = get(f, "Emitter_Storage.type").concat(get(f, "emitter_storage.type"));
      assert.deepEqual(key, ["filesystem"], `${get(f, "Alias")[0]} emits to memory`);
    }
  });

  it("uses only option names Fluent Bit 4.0.3 defines for each plugin", () => {
    for (const s of [...main, ...parsers]) {
      const known = KNOWN[kindOf(s)];
      assert.ok(known, `no option table for ${kindOf(s)}`);
      const unknown = s.entries.map(([k]) => k.toLowerCase()).filter((k) => !known.includes(k));
      assert.deepEqual(unknown, [], `${kindOf(s)}: unknown options`);
    }
  });

  it("uses only regular expressions that mean the same in Onigmo and JavaScript", () => {
    const patterns = [
      ...config.filters.flatMap((f) => f.entries.filter(([k]) => k === "Match_Regex").map(([, v]) => v)),
      ...config.filters.flatMap((f) =>
        f.entries.filter(([k]) => k === "Rule").map(([, v]) => splitTokens(v)[1]),
      ),
      ...config.parsers.flatMap((p) =>
        p.entries.filter(([k]) => k === "Rule").map(([, v]) => /^\/(.*)\/$/.exec(splitTokens(v)[1])![1]),
      ),
    ];
    assert.equal(patterns.length, 7);
    for (const p of patterns) assert.deepEqual(portableRegexProblems(p), [], p);
    // The check refuses what differs: '.' across lines, lookaround, Onigmo-only escapes.
    assert.ok(portableRegexProblems("a.*b").length > 0);
    assert.ok(portableRegexProblems("(?!x)y").length > 0);
    assert.ok(portableRegexProblems("\\h+").length > 0);
    assert.ok(portableRegexProblems("a$|b").length > 0);
  });
});

describe("log shipping: routing evaluated on the rendered configuration", () => {
  it("ships the data tier's pgaudit lines, captured from a real PostgreSQL, to the audit group as whole records", () => {
    const routed = routeFile(main, parsers, file("pg-0", "hcp-data", POSTGRES_CONTAINER, CAPTURED));
    const audit = routed.filter((r) => r.logGroup === INPUTS.logGroups.audit);
    assert.deepEqual(
      audit.map((r) => r.log),
      [CAPTURED[3], CAPTURED[4], CAPTURED[5], `${CAPTURED[6]}\n${CAPTURED[7]}`],
    );
    assert.ok(audit.every((r) => r.tag.startsWith("audit.kube.var.log.containers.pg-0_hcp-data_postgres-")));
    // The server's other lines (start-up, connections) are diagnostics; every line goes somewhere once.
    assert.deepEqual(
      routed.filter((r) => r.logGroup === INPUTS.logGroups.diagnostic).map((r) => r.log),
      CAPTURED.slice(0, 3),
    );
    assert.equal(routed.length, 7);
  });

  it("ships Patroni's lines of the same container to diagnostic, without swallowing the next audit line", () => {
    const routed = routeFile(
      main,
      parsers,
      file("pg-1", "hcp-data", POSTGRES_CONTAINER, [PATRONI, CAPTURED[5], PATRONI]),
    );
    assert.deepEqual(
      routed.map((r) => [r.logGroup, r.log]),
      [
        [INPUTS.logGroups.diagnostic, PATRONI],
        [INPUTS.logGroups.audit, CAPTURED[5]],
        [INPUTS.logGroups.diagnostic, PATRONI],
      ],
    );
  });

  it("ships the application's lines (both streams, partial lines joined) to the application group", () => {
    assert.deepEqual(
      groupsOf(file("api-7d9f-x2", "healthcare", "api", ['{"msg":"GET /patients"}'], "stdout")),
      [INPUTS.logGroups.application],
    );
    const partial = {
      path: `/var/log/containers/api-7d9f-x2_healthcare_api-${HEX}.log`,
      lines: ["2026-12-03T06:20:05Z stderr P part one, ", "2026-12-03T06:20:05Z stderr F part two"],
    };
    assert.deepEqual(
      routeFile(main, parsers, partial).map((r) => [r.logGroup, r.log]),
      [[INPUTS.logGroups.application, "part one, part two"]],
    );
  });

  it("does not take an application's 'AUDIT: SESSION,' line for pgaudit, nor the data tier's other containers", () => {
    assert.deepEqual(groupsOf(file("api-1", "healthcare", "api", [CAPTURED[5]])), [
      INPUTS.logGroups.application,
    ]);
    assert.deepEqual(groupsOf(file("pgbouncer-0", "hcp-data", "pgbouncer", [CAPTURED[5]])), [
      INPUTS.logGroups.diagnostic,
    ]);
    assert.deepEqual(groupsOf(file("pg-0", "other-data", POSTGRES_CONTAINER, [CAPTURED[5]])), [
      INPUTS.logGroups.diagnostic,
    ]);
  });

  it("ships everything else (system namespaces, the agents themselves) to diagnostic", () => {
    for (const [pod, ns, container] of [
      ["coredns-abc", "kube-system", "coredns"],
      ["fluent-bit-x1", "monitoring-agents", "fluent-bit"],
      ["kps-prometheus-0", "monitoring", "prometheus"],
    ] as const) {
      assert.deepEqual(groupsOf(file(pod, ns, container, ["hello"])), [INPUTS.logGroups.diagnostic]);
    }
  });

  it("fails when the routing is wrong: without the audit re-tagging pgaudit lands in diagnostic", () => {
    const broken = main.filter((s) => !s.entries.some(([k, v]) => k === "Alias" && v === "audit-class"));
    assert.deepEqual(
      routeFile(broken, parsers, file("pg-0", "hcp-data", POSTGRES_CONTAINER, [CAPTURED[5]])).map(
        (r) => r.logGroup,
      ),
      [INPUTS.logGroups.diagnostic],
    );
    const cycle = main.map((s) =>
      s.entries.some(([k, v]) => k === "Alias" && v === "application-class")
        ? {
            ...s,
            entries: s.entries.map(
              ([k, v]) => [k, k === "Rule" ? "$stream ^(stdout|stderr)$ $TAG false" : v] as const,
            ),
          }
        : s,
    );
    assert.throws(
      () => routeFile(cycle, parsers, file("api-1", "healthcare", "api", ["x"])),
      /emitter cycle|re-tagged more than/,
    );
  });

  it("matches tags like Fluent Bit: Match is a whole-tag wildcard, Match_Regex anchored at the start", () => {
    const s = (entries: Array<[string, string]>): ConfigSection => ({ name: "OUTPUT", entries });
    assert.equal(matchesTag(s([["Match", "kube.*"]]), "kube.var.log.x", "t"), true);
    assert.equal(matchesTag(s([["Match", "kube.*"]]), "audit.kube.var", "t"), false);
    assert.equal(matchesTag(s([["Match_Regex", "kube"]]), "audit.kube", "t"), false);
    assert.equal(matchesTag(s([["Match_Regex", "audit"]]), "audit.kube", "t"), true);
  });
});

describe("log shipping: the PostgreSQL line start", () => {
  it("is built from the data tier's log_line_prefix and matches every line the real server began", () => {
    const start = new RegExp(postgresLineStart(POSTGRES_LOG_FORMAT));
    assert.deepEqual(
      CAPTURED.map((l) => start.test(l)),
      [true, true, true, true, true, true, true, false],
    );
    assert.equal(start.test(PATRONI), false);
  });

  it("refuses a prefix or time zone it cannot turn into a pattern, with the fix", () => {
    assert.throws(
      () => postgresLineStart({ log_line_prefix: "%t %u ", log_timezone: "UTC" }),
      /%t before %q.*Fix/,
    );
    assert.throws(
      () => postgresLineStart({ log_line_prefix: "[%p] %m ", log_timezone: "UTC" }),
      /does not start with %m.*Fix/,
    );
    assert.throws(
      () => postgresLineStart({ log_line_prefix: "%m [%p] ", log_timezone: "America/Sao_Paulo" }),
      /America\/Sao_Paulo.*Fix: keep log_timezone UTC/,
    );
  });
});

describe("log shipping: inputs, chart values and the role's policy", () => {
  it("lists every problem of the inputs", () => {
    assert.deepEqual(
      logShippingProblems({
        ...INPUTS,
        applicationNamespaces: ["hcp-data", "Bad_NS"],
        logGroups: { ...INPUTS.logGroups, audit: "" },
      }),
      [
        "namespace 'Bad_NS' is not a DNS label (the tag patterns assume one)",
        "the data namespace 'hcp-data' is also an application namespace: its non-audit lines would be application logs; keep the data tier in its own namespace",
        "no log group for class audit",
      ],
    );
    assert.throws(
      () => logShippingConfig({ ...INPUTS, applicationNamespaces: [] }),
      /applicationNamespaces is empty/,
    );
  });

  it("runs a DaemonSet as root without capabilities, on every node, with hostPath state and no emptyDir", () => {
    const v = fluentBitValues(config);
    assert.equal(v["kind"], "DaemonSet");
    assert.deepEqual(v["testFramework"], { enabled: false });
    assert.deepEqual(v["securityContext"], {
      runAsUser: 0,
      runAsGroup: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    assert.deepEqual(v["tolerations"], [{ operator: "Exists", effect: "NoSchedule" }]);
    assert.deepEqual(v["daemonSetVolumes"], [
      { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
      { name: "state", hostPath: { path: "/var/fluent-bit", type: "DirectoryOrCreate" } },
    ]);
    assert.deepEqual(v["daemonSetVolumeMounts"], [
      { name: "varlog", mountPath: "/var/log", readOnly: true },
      { name: "state", mountPath: "/var/fluent-bit" },
    ]);
    assert.deepEqual(v["config"], rendered);
  });

  it("allows only CreateLogStream and PutLogEvents on exactly the given groups and their streams", () => {
    assert.deepEqual(
      logShippingPolicy(["arn:aws:logs:sa-east-1:1:log-group:/a", "arn:aws:logs:sa-east-1:1:log-group:/b"]),
      {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ShipToTheLayersLogGroups",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [
              "arn:aws:logs:sa-east-1:1:log-group:/a",
              "arn:aws:logs:sa-east-1:1:log-group:/a:log-stream:*",
              "arn:aws:logs:sa-east-1:1:log-group:/b",
              "arn:aws:logs:sa-east-1:1:log-group:/b:log-stream:*",
            ],
          },
        ],
      },
    );
  });
});

describe("log shipping: the classic-format parser", () => {
  it("reads sections, indented entries, repeated keys, comments and blank lines, and round-trips the rendering", () => {
    const text = [
      "# a comment",
      "[SERVICE]",
      "    Flush        1",
      "\tParsers_File a.conf",
      "    Parsers_File b.conf   ",
      "",
      "[OUTPUT]",
      "    # inside a section",
      "    Name  cloudwatch_logs",
      "    Rule  $log ^a b.$TAG false",
    ].join("\n");
    assert.deepEqual(parseClassic(text), [
      {
        name: "SERVICE",
        entries: [
          ["Flush", "1"],
          ["Parsers_File", "a.conf"],
          ["Parsers_File", "b.conf"],
        ],
      },
      {
        name: "OUTPUT",
        entries: [
          ["Name", "cloudwatch_logs"],
          ["Rule", "$log ^a b.$TAG false"],
        ],
      },
    ]);
    const all = [config.service, ...config.inputs, ...config.filters, ...config.outputs, ...config.parsers];
    assert.deepEqual(
      parseClassic(renderClassic(all)),
      all.map((s) => ({ name: s.name, entries: [...s.entries] })),
    );
  });

  it("refuses entries outside a section, unindented entries, keys without values and @ commands", () => {
    assert.throws(() => parseClassic("    Name tail"), /line 1: entry 'Name tail' before any section/);
    assert.throws(() => parseClassic("[INPUT]\nName tail"), /line 2: 'Name tail' is neither/);
    assert.throws(() => parseClassic("[INPUT]\n    Name"), /line 2: key 'Name' has no value/);
    assert.throws(() => parseClassic("@INCLUDE x.conf"), /@ commands/);
  });
});
