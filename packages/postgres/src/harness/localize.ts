import type { PatroniConfig } from "../render/patroni";
import { envReferences } from "../render/placeholders";
import { type AllowedChange, type Change, assertOnlyAllowed, diffValues, formatChanges } from "./diff";
import { PG_BIN } from "./postgres";
import type { TlsFiles } from "./tls";

/**
 * Turns the rendered (production) Patroni configuration into what one local member runs, and
 * proves by diff that only local facts changed: the DCS, addresses and ports (loopback), paths,
 * TLS file locations and the PostgreSQL major / extension bits. Per-member values and passwords
 * are NOT changes: the rendered file references them as `${PATRONI_*}` environment variables and
 * the local member gets them the same way a pod does.
 */

/** The local facts of one member. */
export interface LocalMember {
  readonly name: string;
  readonly pgPort: number;
  readonly restPort: number;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly pgpassFile: string;
}

export interface LocalCluster {
  readonly etcdHosts: readonly string[];
  readonly tls: TlsFiles;
  /**
   * Benchmark variants only: replaces bootstrap.dcs timing / strictness (the baseline the rendered
   * settings are compared with). Integration tests never set it.
   */
  readonly dcsOverrides?: DcsOverrides;
  /**
   * A standby cluster only: where its source is reached on loopback. The rendered
   * `bootstrap.dcs.standby_cluster.host`/`port` name the writer region's replication NLB; locally a
   * `LeaderProxy` following the writer's leader stands in for it, and these are its address and port.
   * @default - the rendered values (a primary cluster has no standby_cluster)
   */
  readonly standbySource?: { readonly host: string; readonly port: number };
}

/** bootstrap.dcs keys a benchmark variant may change. */
export interface DcsOverrides {
  readonly ttl?: number;
  readonly loop_wait?: number;
  readonly retry_timeout?: number;
  readonly synchronous_mode_strict?: boolean;
  /** bootstrap.dcs.postgresql.parameters to change (a tuning experiment). */
  readonly parameters?: Readonly<Record<string, string | number>>;
}

/** Test passwords for the environment references of the rendered file (never the real secrets). */
export interface LocalSecrets {
  readonly superuser: string;
  readonly replication: string;
  readonly rewind: string;
  readonly restApi: string;
}

/** Extensions Debian's PostgreSQL 15 does not have (TimescaleDB is tested on its own engine). */
export const UNAVAILABLE_LIBRARIES = ["timescaledb"] as const;

const LOOPBACK = "127.0.0.1/32";

function withoutLibraries(value: string): string {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((lib) => !(UNAVAILABLE_LIBRARIES as readonly string[]).includes(lib))
    .join(",");
}

/** pg_hba line: `hostssl <db> <user> <address> <method>`: only the address may become loopback. */
function onlyAddressChanged(change: Change): boolean {
  if (change.kind !== "changed" || typeof change.from !== "string" || typeof change.to !== "string")
    return false;
  const before = change.from.split(/\s+/);
  const after = change.to.split(/\s+/);
  return (
    before[0] === "hostssl" &&
    after[3] === LOOPBACK &&
    before.length === after.length &&
    before.every((field, i) => i === 3 || field === after[i])
  );
}

function allowedChanges(bench: DcsOverrides | undefined, standbySource: boolean): AllowedChange[] {
  const rules: AllowedChange[] = [
    { reason: "DCS: etcd3 instead of the Kubernetes API", paths: /^(kubernetes|etcd3)(\.|$)/ },
    { reason: "address/port: loopback", paths: /^(restapi|postgresql)\.listen$/ },
    {
      reason: "address: pg_hba network limited to loopback",
      paths: /^postgresql\.pg_hba\[\d+\]$/,
      check: onlyAddressChanged,
    },
    {
      reason: "path",
      paths: /^postgresql\.(data_dir|pgpass|parameters\.unix_socket_directories)$/,
    },
    {
      reason: "PostgreSQL major: Debian 15 binaries",
      paths: /^postgresql\.bin_dir$/,
      check: (c) => c.to === PG_BIN,
    },
    {
      reason: "TLS file location",
      paths:
        /^(restapi\.(certfile|keyfile|cafile)|postgresql\.parameters\.ssl_(cert|key|ca)_file|postgresql\.authentication\.(replication|rewind)\.sslrootcert)$/,
    },
    {
      reason: "extension: no TimescaleDB for Debian PostgreSQL 15",
      paths: /^bootstrap\.dcs\.postgresql\.parameters\.shared_preload_libraries$/,
      check: (c) => typeof c.from === "string" && c.to === withoutLibraries(c.from),
    },
  ];
  if (standbySource) {
    rules.push({
      reason: "address/port: a LeaderProxy standing in for the writer region's replication NLB",
      paths: /^bootstrap\.dcs\.standby_cluster\.(host|port)$/,
    });
  }
  if (bench) {
    rules.push({
      reason: "benchmark variant",
      paths: /^bootstrap\.dcs\.(ttl|loop_wait|retry_timeout|synchronous_mode_strict)$/,
    });
    for (const key of Object.keys(bench.parameters ?? {})) {
      rules.push({
        reason: "benchmark variant",
        paths: new RegExp(`^bootstrap\\.dcs\\.postgresql\\.parameters\\.${key.replace(/\./g, "\\.")}$`),
      });
    }
  }
  return rules;
}

type Mutable = Record<string, unknown>;

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The member's local configuration object and the environment its Patroni process gets. */
export interface LocalizedPatroni {
  readonly config: Record<string, unknown>;
  readonly env: Record<string, string>;
  readonly changes: ReturnType<typeof assertOnlyAllowed>;
  /** Printable list of the changed keys. */
  readonly report: string;
}

export function localizePatroni(
  rendered: PatroniConfig,
  member: LocalMember,
  cluster: LocalCluster,
  secrets: LocalSecrets,
): LocalizedPatroni {
  const config = clone(rendered) as unknown as Mutable;
  const restapi = config.restapi as Mutable;
  const postgresql = config.postgresql as Mutable;
  const parameters = postgresql.parameters as Mutable;
  const auth = postgresql.authentication as Record<string, Mutable>;
  const dcs = (config.bootstrap as Mutable).dcs as Mutable;
  const dcsParameters = (dcs.postgresql as Mutable).parameters as Mutable;

  delete config.kubernetes;
  config.etcd3 = { hosts: [...cluster.etcdHosts] };

  restapi.listen = `127.0.0.1:${member.restPort}`;
  if (restapi.certfile !== undefined) {
    restapi.certfile = cluster.tls.certFile;
    restapi.keyfile = cluster.tls.keyFile;
    restapi.cafile = cluster.tls.caFile;
  }
  postgresql.listen = `127.0.0.1:${member.pgPort}`;
  postgresql.data_dir = member.dataDir;
  postgresql.pgpass = member.pgpassFile;
  postgresql.bin_dir = PG_BIN;
  parameters.unix_socket_directories = member.socketDir;
  parameters.ssl_cert_file = cluster.tls.certFile;
  parameters.ssl_key_file = cluster.tls.keyFile;
  parameters.ssl_ca_file = cluster.tls.caFile;
  for (const user of ["replication", "rewind"]) auth[user].sslrootcert = cluster.tls.caFile;
  postgresql.pg_hba = (postgresql.pg_hba as string[]).map((line) => {
    const fields = line.split(/\s+/);
    return fields[0] === "hostssl" ? [...fields.slice(0, 3), LOOPBACK, ...fields.slice(4)].join(" ") : line;
  });
  if (typeof dcsParameters.shared_preload_libraries === "string") {
    dcsParameters.shared_preload_libraries = withoutLibraries(dcsParameters.shared_preload_libraries);
  }
  if (cluster.standbySource) {
    const standby = dcs.standby_cluster as Mutable | undefined;
    if (standby === undefined) {
      throw new Error("localizePatroni: standbySource given for a configuration without standby_cluster");
    }
    standby.host = cluster.standbySource.host;
    standby.port = cluster.standbySource.port;
  }
  if (cluster.dcsOverrides) {
    const { parameters: extra, ...keys } = cluster.dcsOverrides;
    Object.assign(dcs, keys);
    Object.assign(dcsParameters, extra);
  }

  const env: Record<string, string> = {
    PATRONI_NAME: member.name,
    PATRONI_RESTAPI_CONNECT_ADDRESS: `127.0.0.1:${member.restPort}`,
    PATRONI_POSTGRESQL_CONNECT_ADDRESS: `127.0.0.1:${member.pgPort}`,
    PATRONI_SUPERUSER_PASSWORD: secrets.superuser,
    PATRONI_REPLICATION_PASSWORD: secrets.replication,
    PATRONI_REWIND_PASSWORD: secrets.rewind,
    PATRONI_RESTAPI_PASSWORD: secrets.restApi,
  };
  // Every reference in the rendered configuration must be provided, and nothing else is passed.
  const references = envReferences(JSON.stringify(rendered)).sort();
  const provided = Object.keys(env).sort();
  if (JSON.stringify(references) !== JSON.stringify(provided)) {
    throw new Error(
      `the rendered patroni.yml references ${references.join(", ")} but the local member provides ${provided.join(", ")}`,
    );
  }

  const changes = assertOnlyAllowed(
    "patroni.yml",
    diffValues(rendered, config),
    allowedChanges(cluster.dcsOverrides, cluster.standbySource !== undefined),
  );
  return { config, env, changes, report: formatChanges("patroni.yml", changes) };
}
