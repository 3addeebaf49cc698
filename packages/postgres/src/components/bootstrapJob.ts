import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn } from "@hcp/kube";
import { PATHS, PORTS, SYSTEM_USERS } from "../render/layout";
import { PSQL_PASSWORD_VARIABLES } from "../render/placeholders";
import type { RenderedSql } from "../render/sql";
import { bootstrapPasswordEnv } from "./databaseSecrets";
import {
  DB_CLIENT_LABELS,
  type DbClientPodArgs,
  dbClientContainer,
  dbClientPodSpec,
  JOB_WRITABLE,
} from "./pgbackrestClient";

/** Arguments of {@link BootstrapJob}. */
export interface BootstrapJobArgs extends DbClientPodArgs {
  readonly namespace: pulumi.Input<string>;
  /** Rendered bootstrap SQL. */
  readonly sql: RenderedSql;
  readonly databaseName: string;
  /** Host of the leader (the primary Service; in the server certificate). */
  readonly primaryHost: string;
  /** pgBackRest stanza created after the SQL. */
  readonly stanza: string;
  /** Secret with PGPASSWORD and the psql password variables. */
  readonly credentialsSecretName: pulumi.Input<string>;
}

/** The shell script the bootstrap Job runs (exported for tests and review). */
export function bootstrapScript(
  args: Pick<BootstrapJobArgs, "sql" | "databaseName" | "primaryHost" | "stanza">,
): string {
  const variables = Object.values(PSQL_PASSWORD_VARIABLES)
    .map((v) => `-v "${v}=$${bootstrapPasswordEnv(v)}"`)
    .join(" ");
  const psql = (file: string, db: string) =>
    `psql -X -q -v ON_ERROR_STOP=1 -d ${db}${file.includes("password") ? ` ${variables}` : ""} -f /sql/${file}`;
  const steps = args.sql.manifest.map((f) =>
    psql(f.name, f.database === "maintenance" ? "postgres" : args.databaseName),
  );
  return [
    `export PGHOST=${args.primaryHost} PGPORT=${PORTS.postgres} PGUSER=${SYSTEM_USERS.superuser}`,
    `export PGSSLMODE=verify-full PGSSLROOTCERT=${PATHS.pgbackrestTls}/ca.crt PGAPPNAME=hcp-bootstrap PGCONNECT_TIMEOUT=10`,
    'until pg_isready -q; do echo "waiting for the Patroni leader"; sleep 5; done',
    ...steps,
    `pgbackrest --stanza=${args.stanza} stanza-create`,
    `pgbackrest --stanza=${args.stanza} check`,
  ].join("\n");
}

/**
 * Applies the bootstrap SQL to the leader as an idempotent Kubernetes Job, then creates the pgBackRest
 * stanza. A Job rather than Patroni's post_bootstrap: post_bootstrap runs once, when the cluster is
 * first initialised, and a failure there aborts the bootstrap; the Job runs again whenever the SQL
 * changes (its name carries the SQL's hash, so Pulumi replaces it), every file converges when re-run,
 * and its status and logs are ordinary Kubernetes objects. DR standby clusters receive the result
 * through physical replication and need no Job.
 */
export class BootstrapJob extends pulumi.ComponentResource {
  readonly configMap: k8s.core.v1.ConfigMap;
  readonly job: k8s.batch.v1.Job;

  constructor(name: string, args: BootstrapJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:postgres:BootstrapJob", name, {}, opts);
    const script = bootstrapScript(args);
    const hash = createHash("sha256")
      .update(script)
      .update(JSON.stringify(args.sql.files))
      .digest("hex")
      .slice(0, 10);
    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-sql`,
      {
        metadata: { name: `bootstrap-sql-${hash}`, namespace: args.namespace, labels: DB_CLIENT_LABELS },
        data: { ...args.sql.files },
      },
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    this.job = new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: {
          name: `bootstrap-${hash}`,
          namespace: args.namespace,
          labels: DB_CLIENT_LABELS,
          // The Job waits for a leader; a first deployment needs the members to initialise.
          annotations: { "pulumi.com/timeoutSeconds": "1800" },
        },
        spec: {
          backoffLimit: 6,
          activeDeadlineSeconds: 1800,
          template: {
            metadata: { labels: DB_CLIENT_LABELS },
            spec: dbClientPodSpec(
              args,
              [
                dbClientContainer(args, "bootstrap", script, {
                  envFrom: [{ secretRef: { name: args.credentialsSecretName } }],
                  volumeMounts: [
                    { name: "pgbackrest-config", mountPath: "/etc/pgbackrest", readOnly: true },
                    { name: "client-tls", mountPath: PATHS.pgbackrestTls, readOnly: true },
                    JOB_WRITABLE.mounts.tmp,
                    { name: "sql", mountPath: "/sql", readOnly: true },
                  ],
                }),
              ],
              { volumes: [{ name: "sql", configMap: { name: this.configMap.metadata.name } }] },
            ),
          },
        },
      },
      // Created "after the cluster" (dependsOn: [patroni]): the Job itself must wait for the members.
      { parent: this, dependsOn: inheritedDependsOn(opts) },
    );
    this.registerOutputs({ job: this.job.metadata.name });
  }
}
