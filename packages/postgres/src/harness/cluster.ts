import { randomBytes } from "node:crypto";
import type { RenderedPatroni } from "../render/patroni";
import { type Etcd, startEtcd } from "./etcd";
import { type LocalCluster, type LocalSecrets, type LocalizedPatroni, localizePatroni } from "./localize";
import { LocalPatroniCluster, type MemberSpec } from "./patroni";
import { freePorts } from "./ports";
import type { Sandbox } from "./sandbox";
import { makeTls, type TlsFiles } from "./tls";

/** A throwaway password (URL-safe, so it needs no quoting in a DSN or config file). */
export function testPassword(): string {
  return randomBytes(18).toString("base64url");
}

export interface RenderedClusterOptions {
  readonly sandbox: Sandbox;
  readonly rendered: RenderedPatroni;
  /** Number of members. @default - 3 */
  readonly members?: number;
  /** bootstrap.dcs overrides (benchmark variants only). */
  readonly dcsOverrides?: LocalCluster["dcsOverrides"];
  /** Prefix of the sandbox directories, so several clusters can share one sandbox. @default - "pg" */
  readonly prefix?: string;
}

export interface RenderedCluster {
  readonly cluster: LocalPatroniCluster;
  readonly etcd: Etcd;
  readonly tls: TlsFiles;
  readonly secrets: LocalSecrets;
  /** Local configuration of each member, with the computed list of changed keys. */
  readonly localized: readonly LocalizedPatroni[];
}

/**
 * A local Patroni cluster running the rendered configuration: one etcd, a throwaway CA and server
 * certificate, and one Patroni + PostgreSQL 15 per member on free loopback ports. Members are not
 * started yet (call `cluster.startAll()`).
 */
export async function renderedCluster(options: RenderedClusterOptions): Promise<RenderedCluster> {
  const { sandbox, rendered } = options;
  const prefix = options.prefix ?? "pg";
  const count = options.members ?? 3;
  const tls = makeTls(sandbox, `${prefix}-tls`);
  const etcd = await startEtcd(sandbox, `${prefix}-etcd`);
  const ports = await freePorts(2 * count);
  const secrets: LocalSecrets = {
    superuser: testPassword(),
    replication: testPassword(),
    rewind: testPassword(),
    restApi: testPassword(),
  };
  const specs: MemberSpec[] = [];
  const localized: LocalizedPatroni[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${rendered.config.scope}-${i}`;
    const dataDir = sandbox.mkdir(`${prefix}-${i}/data`);
    const socketDir = sandbox.mkdir(`${prefix}-${i}/run`, 0o755);
    const local = localizePatroni(
      rendered.config,
      {
        name,
        pgPort: ports[i],
        restPort: ports[count + i],
        dataDir,
        socketDir,
        pgpassFile: sandbox.path(`${prefix}-${i}`, "pgpass"),
      },
      { etcdHosts: [etcd.endpoint], tls, dcsOverrides: options.dcsOverrides },
      secrets,
    );
    localized.push(local);
    specs.push({
      name,
      pgPort: ports[i],
      restPort: ports[count + i],
      dataDir,
      socketDir,
      config: local.config,
      env: local.env,
    });
  }
  const cluster = new LocalPatroniCluster(sandbox, specs, {
    restUsername: rendered.config.restapi.authentication.username,
    restPassword: secrets.restApi,
    restCaFile: rendered.config.restapi.certfile !== undefined ? tls.caFile : undefined,
    superuser: rendered.config.postgresql.authentication.superuser.username,
    superuserPassword: secrets.superuser,
    caFile: tls.caFile,
  });
  return { cluster, etcd, tls, secrets, localized };
}
