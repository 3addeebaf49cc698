/** How pgBackRest gets AWS credentials for an S3 repository. */
export type S3KeyType =
  /** EKS Pod Identity (pgBackRest >= 2.58 reads AWS_CONTAINER_CREDENTIALS_FULL_URI). */
  | "pod-id"
  /** IRSA web identity. */
  | "web-id"
  /** Instance profile. */
  | "auto"
  /** Static keys (local test endpoints only). */
  | "shared";

/** One pgBackRest repository. */
export type PgbackrestRepo =
  | {
      readonly type: "s3";
      /** Repository index (1 = this region, 2.. = DR regions). */
      readonly index: number;
      readonly bucket: string;
      readonly region: string;
      /** S3 endpoint host, e.g. `s3.sa-east-1.amazonaws.com`. */
      readonly endpoint: string;
      /** KMS key (ARN) pgBackRest asks S3 to encrypt every object with (SSE-KMS). */
      readonly kmsKeyArn: string;
      readonly keyType: S3KeyType;
      /** Path inside the bucket. */
      readonly path: string;
    }
  | {
      /** A local directory (integration tests). */
      readonly type: "posix";
      readonly index: number;
      readonly path: string;
    };

/** TLS files of a pgBackRest TLS server or client. */
export interface PgbackrestTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/** Input of {@link renderPgbackrestConf}. */
export interface PgbackrestRenderInput {
  /** The stanza this cluster archives to and backs up into (when it is the writer). */
  readonly stanza: string;
  /**
   * Other stanzas the members read WAL and backups from (the writer's, and those of the regions
   * that wrote earlier timelines): each gets a section with the same database options, so
   * `archive-get` and `restore` work for them. Nothing ever writes to them from this cluster.
   * @default - none
   */
  readonly readStanzas?: readonly string[];
  readonly repos: readonly PgbackrestRepo[];
  /** Full backups kept in each repository. */
  readonly fullRetentionCount: number;
  /** Differential backups kept in each repository. */
  readonly diffRetentionCount: number;
  /** Parallel processes for backup/restore and async archiving. */
  readonly processMax: number;
  /** Spool directory of asynchronous archive-push/get. */
  readonly spoolPath: string;
  readonly postgres: {
    readonly dataDir: string;
    readonly port: number;
    readonly socketDir: string;
    readonly user: string;
  };
  /**
   * The pgBackRest TLS server each member runs as a sidecar, and the backup Jobs that use it as
   * "repository host": `undefined` renders only the member file (local variants run backups in place).
   */
  readonly remote?: {
    readonly port: number;
    /** Host the backup Jobs reach the current leader's TLS server at (the primary Service). */
    readonly primaryHost: string;
    /** Server side (member sidecar). */
    readonly server: PgbackrestTls;
    /** Client side (backup Job). */
    readonly client: PgbackrestTls;
    /** Common name of the client certificate, the only client the server accepts. */
    readonly clientCommonName: string;
  };
}

/** An INI section: option -> value. */
export type IniSection = Readonly<Record<string, string | number>>;

/** The typed content of a pgBackRest configuration: section name -> options. */
export type PgbackrestConfig = Readonly<Record<string, IniSection>>;

/** Rendered pgBackRest configuration. */
export interface RenderedPgbackrest {
  /** The members' file (archive-push/get, restore, TLS server). */
  readonly config: PgbackrestConfig;
  readonly conf: string;
  /** The backup Jobs' file (`pg1-host` = the leader's TLS server); absent without `remote`. */
  readonly backupJobConfig?: PgbackrestConfig;
  readonly backupJobConf?: string;
}

function repoOptions(repo: PgbackrestRepo, input: PgbackrestRenderInput): Record<string, string | number> {
  const p = `repo${repo.index}`;
  const common = {
    [`${p}-retention-full-type`]: "count",
    [`${p}-retention-full`]: input.fullRetentionCount,
    [`${p}-retention-diff`]: input.diffRetentionCount,
    [`${p}-bundle`]: "y",
  };
  if (repo.type === "posix") {
    return { [`${p}-type`]: "posix", [`${p}-path`]: repo.path, ...common };
  }
  return {
    [`${p}-type`]: "s3",
    [`${p}-path`]: repo.path,
    [`${p}-s3-bucket`]: repo.bucket,
    [`${p}-s3-endpoint`]: repo.endpoint,
    [`${p}-s3-region`]: repo.region,
    [`${p}-s3-key-type`]: repo.keyType,
    [`${p}-s3-kms-key-id`]: repo.kmsKeyArn,
    [`${p}-s3-uri-style`]: "host",
    [`${p}-storage-verify-tls`]: "y",
    ...common,
  };
}

function globalSection(input: PgbackrestRenderInput): Record<string, string | number> {
  const repos = [...input.repos].sort((a, b) => a.index - b.index);
  return {
    ...repos.reduce<Record<string, string | number>>((all, r) => ({ ...all, ...repoOptions(r, input) }), {}),
    "compress-type": "zst",
    "process-max": input.processMax,
    "archive-async": "y",
    "spool-path": input.spoolPath,
    "start-fast": "y",
    delta: "y",
    "log-level-console": "info",
    "log-level-stderr": "warn",
    "log-level-file": "off",
  };
}

/**
 * Renders `pgbackrest.conf` for the members and, with `remote`, for the backup Jobs. Archiving is
 * asynchronous (`archive-async`): PostgreSQL hands a segment to a local queue and a background
 * process pushes it to every repository, so a slow cross-region repo2 does not slow commits.
 * Retention applies per repository; every repository is a bucket pgBackRest may expire from, so
 * none of them is Object-Locked.
 */
export function renderPgbackrestConf(input: PgbackrestRenderInput): RenderedPgbackrest {
  const indexes = input.repos.map((r) => r.index);
  if (new Set(indexes).size !== indexes.length || indexes.some((i) => i < 1 || i > 256)) {
    throw new Error(
      `pgBackRest repositories of ${input.stanza} need distinct indexes from 1 to 256, got ${indexes.join(", ")}.`,
    );
  }
  const global = globalSection(input);
  const pg = {
    "pg1-path": input.postgres.dataDir,
    "pg1-port": input.postgres.port,
    "pg1-socket-path": input.postgres.socketDir,
    "pg1-user": input.postgres.user,
  };
  const remote = input.remote;
  const server: IniSection = remote
    ? {
        "tls-server-address": "*",
        "tls-server-port": remote.port,
        "tls-server-cert-file": remote.server.certFile,
        "tls-server-key-file": remote.server.keyFile,
        "tls-server-ca-file": remote.server.caFile,
        "tls-server-auth": `${remote.clientCommonName}=${input.stanza}`,
      }
    : {};
  const config: PgbackrestConfig = {
    global: { ...global, ...server },
    "global:archive-push": { "process-max": Math.max(2, input.processMax) },
    [input.stanza]: pg,
    // A copy per section: a caller localizing one stanza must not change the others through it.
    ...Object.fromEntries((input.readStanzas ?? []).map((stanza) => [stanza, { ...pg }])),
  };
  const header = [
    `# pgBackRest configuration of stanza ${input.stanza}, rendered by @hcp/data.`,
    "# <deploy:...> markers are values that exist only after `pulumi up`; the deployed file has them filled in.",
  ];
  const result: RenderedPgbackrest = { config, conf: iniText(header, config) };
  if (!remote) {
    return result;
  }
  const backupJobConfig: PgbackrestConfig = {
    global,
    [input.stanza]: {
      "pg1-host": remote.primaryHost,
      "pg1-host-type": "tls",
      "pg1-host-port": remote.port,
      "pg1-host-cert-file": remote.client.certFile,
      "pg1-host-key-file": remote.client.keyFile,
      "pg1-host-ca-file": remote.client.caFile,
      "pg1-path": input.postgres.dataDir,
      "pg1-port": input.postgres.port,
    },
  };
  return {
    ...result,
    backupJobConfig,
    backupJobConf: iniText(
      [
        ...header,
        "# Backup Jobs: the database is the current leader, reached through its pgBackRest TLS server.",
      ],
      backupJobConfig,
    ),
  };
}

function iniText(header: readonly string[], config: PgbackrestConfig): string {
  const sections = Object.entries(config).map(([name, options]) =>
    [`[${name}]`, ...Object.entries(options).map(([k, v]) => `${k}=${v}`)].join("\n"),
  );
  return `${header.join("\n")}\n${sections.join("\n\n")}\n`;
}

/** The backup types the schedules run. */
export type BackupType = "full" | "diff";

/**
 * Shell command of a scheduled backup: one backup per repository, in index order, each followed by
 * pgBackRest's automatic expire of that repository. `stanza-create` first is a no-op once the
 * stanza exists and makes the first scheduled run work on a fresh cluster.
 */
export function backupCommand(stanza: string, repoIndexes: readonly number[], type: BackupType): string {
  const steps = [...repoIndexes]
    .sort((a, b) => a - b)
    .map((i) => `pgbackrest --stanza=${stanza} --repo=${i} --type=${type} backup`);
  return [`pgbackrest --stanza=${stanza} stanza-create`, ...steps].join(" && ");
}

/** `archive_command` of the members. */
export function archiveCommand(stanza: string): string {
  return `pgbackrest --stanza=${stanza} archive-push "%p"`;
}

/** Command Patroni runs to build a new replica from the repository instead of the primary. */
export function replicaRestoreCommand(stanza: string): string {
  return `pgbackrest --stanza=${stanza} --delta restore`;
}
