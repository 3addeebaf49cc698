import type { RenderedArtifacts } from "@hcp/postgres";
import {
  type AllowedChange,
  assertOnlyAllowed,
  diffValues,
  type Etcd,
  formatChanges,
  formatIni,
  freePorts,
  localizePatroni,
  LocalPatroniCluster,
  type LocalSecrets,
  type LocalizedPatroni,
  type MemberSpec,
  type Sandbox,
  startEtcd,
  type TlsFiles,
} from "@hcp/postgres/harness";

/**
 * One "region" of the drill on loopback: the region's rendered Patroni configuration (primary or
 * standby cluster, exactly as `renderArtifacts` gives it for that region) on Debian's Patroni 3.0.2,
 * PostgreSQL 15 and its own single-member etcd, plus the region's rendered pgbackrest.conf with its
 * S3 repositories turned into local directories (one directory per AWS region, shared by every
 * cluster whose repository lives in that region, as the buckets are).
 */

/** A pgBackRest repository directory per AWS region (the region's bucket on loopback). */
export type RepoDirs = Readonly<Record<string, string>>;

export interface RegionOptions {
  readonly sandbox: Sandbox;
  readonly artifacts: RenderedArtifacts;
  /** Sandbox directory prefix of the region (every path of its processes starts with it). */
  readonly prefix: string;
  readonly members: number;
  /** The environment CA and a loopback server certificate it signed (both regions use it). */
  readonly tls: TlsFiles;
  /** One set for both regions: a standby cluster is a physical copy (same roles, same passwords). */
  readonly secrets: LocalSecrets;
  readonly repoDirs: RepoDirs;
  /** Standby cluster: the LeaderProxy standing in for the writer region's replication NLB. */
  readonly standbySource?: { readonly host: string; readonly port: number };
  /**
   * Negative test only: the CA the members verify replication connections against, instead of
   * the environment CA (a CA that did not sign the source's certificate). Printed with the changes.
   */
  readonly wrongReplicationCa?: string;
  /**
   * Ordinal of the first member (its name is `<scope>-<ordinal>`, like a StatefulSet pod), so a
   * second cluster of the same scope in the sandbox gets its own names, files and logs.
   * @default 0
   */
  readonly firstOrdinal?: number;
}

export interface DrillRegion {
  readonly region: string;
  readonly prefix: string;
  readonly artifacts: RenderedArtifacts;
  readonly cluster: LocalPatroniCluster;
  readonly etcd: Etcd;
  readonly localized: readonly LocalizedPatroni[];
  /** PGBACKREST_CONFIG of each member (the rendered commands name no config file). */
  readonly pgbackrestConfigs: Readonly<Record<string, string>>;
  /** Every key changed from the rendered files, printable. */
  readonly report: string;
}

type Ini = Record<string, Record<string, string | number>>;

/** What may differ between the rendered pgbackrest.conf and a member's local one. */
function pgbackrestAllowed(stanzas: readonly string[]): AllowedChange[] {
  const s = stanzas.map((stanza) => stanza.replace(/[.-]/g, (c) => `\\${c}`)).join("|");
  return [
    {
      reason: "repository: a local directory per AWS region instead of that region's S3 bucket",
      paths: /^global\.repo\d+-(type|path)$/,
    },
    {
      reason: "repository: S3-only options dropped with S3",
      paths: /^global\.repo\d+-(s3-[a-z-]+|storage-verify-tls)$/,
      check: (c) => c.kind === "removed",
    },
    { reason: "path", paths: /^global\.(spool-path|lock-path)$/ },
    { reason: "TLS file location", paths: /^global\.tls-server-(cert|key|ca)-file$/ },
    {
      reason: "path/port: the local member (its own stanza and the ones it reads)",
      paths: new RegExp(`^(${s})\\.pg1-(path|port|socket-path)$`),
    },
  ];
}

function localPgbackrest(
  options: RegionOptions,
  member: {
    readonly index: number;
    readonly dataDir: string;
    readonly pgPort: number;
    readonly socketDir: string;
  },
): { text: string; report: string } {
  const { sandbox, artifacts, prefix, tls } = options;
  const rendered = artifacts.pgbackrest.config as unknown as Ini;
  const local: Ini = structuredClone(rendered);
  const global = local.global;
  for (const repo of artifacts.inputs.pgbackrest.repos) {
    const p = `repo${repo.index}`;
    const region = repo.type === "s3" ? repo.region : undefined;
    const dir = region === undefined ? undefined : options.repoDirs[region];
    if (dir === undefined) {
      throw new Error(
        `${p} of ${artifacts.region}: no local directory for its region ${region ?? "(posix)"}`,
      );
    }
    for (const key of Object.keys(global)) {
      if (key.startsWith(`${p}-s3-`) || key === `${p}-storage-verify-tls`) delete global[key];
    }
    global[`${p}-type`] = "posix";
    global[`${p}-path`] = dir;
  }
  global["spool-path"] = sandbox.mkdir(`${prefix}-${member.index}/spool`, 0o750);
  global["lock-path"] = sandbox.mkdir(`${prefix}-${member.index}/lock`, 0o750);
  global["tls-server-cert-file"] = tls.certFile;
  global["tls-server-key-file"] = tls.keyFile;
  global["tls-server-ca-file"] = tls.caFile;
  const stanzas = [artifacts.inputs.pgbackrest.stanza, ...(artifacts.inputs.pgbackrest.readStanzas ?? [])];
  for (const name of stanzas) {
    const section = local[name];
    if (section === undefined) throw new Error(`pgbackrest.conf of ${artifacts.region}: no [${name}]`);
    section["pg1-path"] = member.dataDir;
    section["pg1-port"] = member.pgPort;
    section["pg1-socket-path"] = member.socketDir;
  }
  const changes = assertOnlyAllowed(
    `pgbackrest.conf (${artifacts.region})`,
    diffValues(rendered, local),
    pgbackrestAllowed(stanzas),
  );
  return {
    text: formatIni(local as Record<string, Record<string, string>>),
    report: formatChanges(`pgbackrest.conf (${artifacts.region})`, changes),
  };
}

/**
 * Builds the region's members (not started: call `cluster.startAll()`), after starting its etcd.
 * Fails when a local change falls outside the allowed list (DCS, loopback addresses/ports, paths,
 * TLS file locations, PostgreSQL 15 bits, the standby source, S3 -> local directory).
 */
export async function startRegion(options: RegionOptions): Promise<DrillRegion> {
  const { sandbox, artifacts, prefix, tls, secrets } = options;
  const rendered = artifacts.patroni;
  const etcd = await startEtcd(sandbox, `${prefix}-etcd`);
  const ports = await freePorts(2 * options.members);
  const specs: MemberSpec[] = [];
  const localized: LocalizedPatroni[] = [];
  const pgbackrestConfigs: Record<string, string> = {};
  let pgbackrestReport = "";
  for (let i = 0; i < options.members; i++) {
    const name = `${rendered.config.scope}-${(options.firstOrdinal ?? 0) + i}`;
    const dataDir = sandbox.mkdir(`${prefix}-${i}/data`);
    const socketDir = sandbox.mkdir(`${prefix}-${i}/run`, 0o755);
    const pgPort = ports[i];
    const restPort = ports[options.members + i];
    const local = localizePatroni(
      rendered.config,
      { name, pgPort, restPort, dataDir, socketDir, pgpassFile: sandbox.path(`${prefix}-${i}`, "pgpass") },
      {
        etcdHosts: [etcd.endpoint],
        tls,
        ...(options.standbySource ? { standbySource: options.standbySource } : {}),
      },
      secrets,
    );
    if (options.wrongReplicationCa !== undefined) {
      const auth = (local.config.postgresql as { authentication: Record<string, Record<string, unknown>> })
        .authentication;
      auth.replication.sslrootcert = options.wrongReplicationCa;
    }
    localized.push(local);
    const pgbackrest = localPgbackrest(options, { index: i, dataDir, pgPort, socketDir });
    const conf = sandbox.writeFile(`${prefix}-${i}/pgbackrest.conf`, pgbackrest.text, 0o640);
    pgbackrestConfigs[name] = conf;
    if (i === 0) pgbackrestReport = pgbackrest.report;
    specs.push({
      name,
      pgPort,
      restPort,
      dataDir,
      socketDir,
      config: local.config,
      // The rendered archive/restore commands name no config file: pgBackRest reads PGBACKREST_CONFIG
      // (Patroni passes its environment, minus PATRONI_*, to PostgreSQL and the replica methods).
      env: { ...local.env, PGBACKREST_CONFIG: conf },
    });
  }
  const cluster = new LocalPatroniCluster(sandbox, specs, {
    restUsername: rendered.config.restapi.authentication.username,
    restPassword: secrets.restApi,
    restCaFile: tls.caFile,
    superuser: rendered.config.postgresql.authentication.superuser.username,
    superuserPassword: secrets.superuser,
    caFile: tls.caFile,
  });
  const wrongCa =
    options.wrongReplicationCa === undefined
      ? ""
      : `\n      [negative test] postgresql.authentication.replication.sslrootcert -> ${options.wrongReplicationCa} (a CA that did not sign the source's certificate)`;
  const report = [
    `    ${artifacts.region} (${rendered.config.bootstrap.dcs.standby_cluster ? "standby cluster" : "primary cluster"}, ${options.members} members)`,
    localized[0].report + wrongCa,
    pgbackrestReport,
    `      [environment] PGBACKREST_CONFIG=<member's pgbackrest.conf> added to each member's environment`,
  ].join("\n");
  return { region: artifacts.region, prefix, artifacts, cluster, etcd, localized, pgbackrestConfigs, report };
}

/** Patroni 3.0 `master`, Patroni 4 `primary`, a standby cluster's `standby_leader`. */
export function isLeaderRole(role: string | undefined): boolean {
  return role === "master" || role === "primary" || role === "standby_leader";
}

/** The member holding the region's leader label (writer or standby leader), running. */
export async function regionLeader(cluster: LocalPatroniCluster): Promise<string | undefined> {
  for (const m of cluster.members) {
    const s = await cluster.status(m.name);
    if (s && isLeaderRole(s.role) && s.state === "running") return m.name;
  }
  return undefined;
}

/** The leader's PostgreSQL port: what the region's replication NLB (here a LeaderProxy) selects. */
export async function regionLeaderPort(cluster: LocalPatroniCluster): Promise<number | undefined> {
  const leader = await regionLeader(cluster);
  return leader === undefined ? undefined : cluster.member(leader).pgPort;
}
