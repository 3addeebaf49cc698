import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { inheritedDependsOn, writableVolumes } from "@hcp/kube";
import { type ImageRef, imageReference } from "@hcp/platform";
import { PATHS } from "../render/layout";
import type { BackupType } from "../render/pgbackrest";
import {
  DB_CLIENT_LABELS,
  type DbClientPodArgs,
  dbClientContainer,
  dbClientPodSpec,
  JOB_WRITABLE,
} from "./pgbackrestClient";
import { CONTAINER_SECURITY } from "./security";

/** The yearly long-term copy. */
export interface ArchiveCopyArgs {
  /** Cron schedule (UTC). @default "0 5 2 1 *" - 2 January, after the year's last diff backup */
  readonly schedule?: string;
  /** Image with the AWS CLI. */
  readonly image: ImageRef;
  /** repo1's bucket (the source of the copy) and its path. */
  readonly sourceBucket: pulumi.Input<string>;
  readonly sourcePath: string;
  /** The Object-Locked archive bucket and the key its objects are encrypted with. */
  readonly archiveBucket: pulumi.Input<string>;
  readonly archiveKmsKeyArn: pulumi.Input<string>;
  /** Region of both buckets. */
  readonly region: string;
}

/** Arguments of {@link BackupSchedule}. */
export interface BackupScheduleArgs extends DbClientPodArgs {
  readonly namespace: pulumi.Input<string>;
  readonly stanza: string;
  /** Cron schedule (UTC) and shell command of each backup type. */
  readonly backups: Readonly<Record<BackupType, { readonly schedule: string; readonly command: string }>>;
  /**
   * The yearly copy into the Object-Locked long-term archive (in the primary region).
   * @default - no yearly copy (a DR region's schedule: the archive bucket is the primary region's)
   */
  readonly archiveCopy?: ArchiveCopyArgs;
  /**
   * `active` runs the schedules; `suspended` keeps the CronJobs but starts no Job (a cluster that is
   * not the writer has nothing to back up: its leader is a standby). Switching is an in-place update.
   * @default "active"
   */
  readonly state?: "active" | "suspended";
}

/** Shell script of the yearly copy's pgBackRest step: a full backup with the WAL it needs inside. */
export function yearlyBackupScript(stanza: string): string {
  return [
    `pgbackrest --stanza=${stanza} --repo=1 --type=full --archive-copy --annotation=hcp.io/yearly-copy=$(date -u +%Y) backup`,
    `pgbackrest --stanza=${stanza} --repo=1 --output=json info | jq -r '.[0].backup[-1].label' > /work/label`,
  ].join("\n");
}

/** Shell script of the yearly copy's S3 step: the backup set and the info files it needs to restore. */
export function yearlyCopyScript(args: {
  readonly stanza: string;
  readonly sourceBucket: string;
  readonly sourcePath: string;
  readonly archiveBucket: string;
  readonly archiveKmsKeyArn: string;
}): string {
  const src = `s3://${args.sourceBucket}${args.sourcePath}`;
  const dst = `s3://${args.archiveBucket}/${args.stanza}/$(date -u +%Y)`;
  const sse = `--sse aws:kms --sse-kms-key-id ${args.archiveKmsKeyArn} --only-show-errors`;
  return [
    "label=$(cat /work/label)",
    'test -n "$label"',
    `aws s3 cp --recursive ${sse} "${src}/backup/${args.stanza}/$label/" "${dst}/backup/${args.stanza}/$label/"`,
    `aws s3 cp ${sse} "${src}/backup/${args.stanza}/backup.info" "${dst}/backup/${args.stanza}/backup.info"`,
    `aws s3 cp ${sse} "${src}/archive/${args.stanza}/archive.info" "${dst}/archive/${args.stanza}/archive.info"`,
  ].join("\n");
}

/**
 * Scheduled backups as CronJobs: a weekly full and a daily differential backup of every repository,
 * and a yearly full backup copied into the Object-Locked archive. CronJobs rather than Patroni
 * callbacks: callbacks fire on role changes, not on a clock, so a schedule would need a cron inside
 * the members that every failover must hand over; a CronJob has one schedule, refuses overlapping
 * runs (concurrencyPolicy Forbid), keeps a history, and its failures are Kubernetes Job failures the
 * alert rules already watch. The Job is pgBackRest's "repository host": it reaches whichever member
 * is the leader through the primary Service and that member's pgBackRest TLS server.
 */
export class BackupSchedule extends pulumi.ComponentResource {
  readonly cronJobs: Readonly<Record<BackupType, k8s.batch.v1.CronJob>> & {
    readonly yearly?: k8s.batch.v1.CronJob;
  };

  constructor(name: string, args: BackupScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:postgres:BackupSchedule", name, {}, opts);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const cronJob = (
      key: string,
      schedule: string,
      spec: k8s.types.input.core.v1.PodSpec,
      activeDeadlineSeconds: number,
    ) =>
      new k8s.batch.v1.CronJob(
        `${name}-${key}`,
        {
          metadata: { name: `pgbackrest-${key}`, namespace: args.namespace, labels: DB_CLIENT_LABELS },
          spec: {
            schedule,
            // Only a suspended schedule says so: an active one keeps the object it always had.
            ...(args.state === "suspended" ? { suspend: true } : {}),
            timeZone: "Etc/UTC",
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 3600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
              metadata: { labels: DB_CLIENT_LABELS },
              spec: {
                backoffLimit: 2,
                activeDeadlineSeconds,
                template: { metadata: { labels: DB_CLIENT_LABELS }, spec },
              },
            },
          },
        },
        child,
      );
    const backup = (type: BackupType) =>
      cronJob(
        type,
        args.backups[type].schedule,
        dbClientPodSpec(args, [dbClientContainer(args, "pgbackrest", args.backups[type].command)]),
        12 * 3600,
      );
    const full = backup("full");
    const diff = backup("diff");
    const copy = args.archiveCopy;
    if (!copy) {
      this.cronJobs = { full, diff };
      this.registerOutputs({});
      return;
    }
    // The backup step hands the backup label to the copy step through /work.
    const scratch = writableVolumes({ work: "/work" });
    const work = scratch.mounts.work;
    const yearly = cronJob(
      "yearly",
      copy.schedule ?? "0 5 2 1 *",
      dbClientPodSpec(
        args,
        [
          {
            name: "copy",
            image: imageReference(copy.image),
            command: [
              "sh",
              "-ec",
              pulumi
                .all([copy.sourceBucket, copy.archiveBucket, copy.archiveKmsKeyArn])
                .apply(([sourceBucket, archiveBucket, archiveKmsKeyArn]) =>
                  yearlyCopyScript({
                    stanza: args.stanza,
                    sourceBucket,
                    sourcePath: copy.sourcePath,
                    archiveBucket,
                    archiveKmsKeyArn,
                  }),
                ),
            ],
            env: [
              { name: "AWS_REGION", value: copy.region },
              { name: "HOME", value: PATHS.tmp },
            ],
            resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
            securityContext: CONTAINER_SECURITY,
            volumeMounts: [work, JOB_WRITABLE.mounts.tmp],
          },
        ],
        {
          initContainers: [
            dbClientContainer(args, "backup", yearlyBackupScript(args.stanza), {
              volumeMounts: [
                { name: "pgbackrest-config", mountPath: "/etc/pgbackrest", readOnly: true },
                { name: "client-tls", mountPath: PATHS.pgbackrestTls, readOnly: true },
                JOB_WRITABLE.mounts.tmp,
                work,
              ],
            }),
          ],
          volumes: scratch.volumes,
        },
      ),
      24 * 3600,
    );
    this.cronJobs = { full, diff, yearly };
    this.registerOutputs({});
  }
}
