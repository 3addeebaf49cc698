import { type EnvironmentTopology, primaryRegion, writerRegionName } from "@hcp/platform";
import { PORTS, replicationDynamicConfig, replicationHostName, withWriter } from "@hcp/postgres";
import { isWriterRole, type MemberState, type PatroniApi } from "./patroniApi";

/**
 * `pnpm dr promote` / `failback` / `fence` as one operation: move the writer of an environment from
 * the region that holds it (the configured writer) to another region, through Patroni's dynamic
 * configuration only (PATCH /config with the bodies `@hcp/postgres`'s `replicationDynamicConfig`
 * computes for the new writer, the same values the renderers bootstrap a cluster with).
 *
 * Planned move (the current writer answers): fence the writer first (it becomes a standby cluster of
 * the target, so it stops accepting writes), wait until the target has replayed everything the old
 * writer wrote, promote the target, then drop the old writer's permanent slots. No acknowledged
 * commit is lost. Region loss (`writer: lost`): the target is promoted from what it has; the
 * precondition is that its newest replayed commit is at most `dr.rpoSeconds` old.
 *
 * Dry run by default: every step is logged with the request it would send and nothing is changed.
 */

/** Which command runs. */
export type MoveKind = "promote" | "failback" | "fence";

/** Inputs of {@link moveWriter}. */
export interface MoveArgs {
  readonly kind: MoveKind;
  /** The environment as its file says now (before `dr.promotedRegion` is changed). */
  readonly topology: EnvironmentTopology;
  /** Region that becomes the writer (promote: a DR region; failback: the primary region). */
  readonly target: string;
  /** The target cluster's leader (for `fence`: the cluster being fenced). */
  readonly targetApi: PatroniApi;
  /** The current writer's leader, or `lost` when its region is gone (promote only). */
  readonly writer: PatroniApi | "lost";
  /** Send the requests (default: dry run). */
  readonly execute: boolean;
  /** Promote although the newest replayed commit is older than `dr.rpoSeconds`. */
  readonly acceptDataLoss: boolean;
  readonly log: (line: string) => void;
  /** Epoch milliseconds (the replay age is measured against it). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Each wait's limit. @default 120 */
  readonly waitSeconds?: number;
  /**
   * Where a region's replication endpoint is reached, when it is not the rendered name and port
   * (`replication.<region>.data.<env>.hcp.internal:5432`, the NLB following that region's leader):
   * the loopback drill, where a `LeaderProxy` stands in for each region's NLB. It is what the
   * precondition expects the target to follow and what the `standby_cluster` bodies sent name.
   * A region it returns `undefined` for is at its rendered name and port.
   * @default - the rendered name and port
   */
  readonly replicationEndpoint?: (region: string) => ReplicationEndpoint | undefined;
}

/** A replication endpoint: host and port. */
export interface ReplicationEndpoint {
  readonly host: string;
  readonly port: number;
}

function endpointOf(args: MoveArgs, region: string): ReplicationEndpoint {
  return (
    args.replicationEndpoint?.(region) ?? {
      host: replicationHostName(args.topology.name, region),
      port: PORTS.postgres,
    }
  );
}

/** `standby_cluster` of a body with the endpoint the source region is reached at. */
function standbyAt(
  args: MoveArgs,
  source: string,
  standby: ReturnType<typeof replicationDynamicConfig>["standby_cluster"],
): ReturnType<typeof replicationDynamicConfig>["standby_cluster"] {
  if (standby === null || args.replicationEndpoint === undefined) return standby;
  return { ...standby, ...endpointOf(args, source) };
}

/** A refused move: every failed precondition, each with its fix. */
export class PreconditionError extends Error {
  override readonly name = "PreconditionError";
  constructor(
    readonly kind: MoveKind,
    readonly problems: readonly string[],
  ) {
    super(
      `${kind} refused (${problems.length} precondition${problems.length === 1 ? "" : "s"} failed):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
}

/** What a move did (or, in a dry run, would do). */
export interface MoveResult {
  readonly executed: boolean;
  /** Requests in order: which cluster, the body. */
  readonly requests: ReadonlyArray<{
    readonly cluster: string;
    readonly body: Readonly<Record<string, unknown>>;
  }>;
  /** Age of the target's newest replayed commit when the move started, seconds (region loss only). */
  readonly replayAgeSeconds?: number;
  /** The config change the operator commits afterwards. */
  readonly nextConfig: string;
}

/**
 * Where a fenced writer's WAL ends, once it runs as a standby leader: its replayed position. Not
 * `received_location`: that counts streamed bytes, which can run past the last complete record (a
 * record the immediate stop cut in half, which no standby ever replays) and, once fenced, are bytes
 * it streams back from the very cluster that is waited on.
 */
function fencedEnd(s: MemberState): number | undefined {
  if (s.role !== "standby_leader" || s.state !== "running") return undefined;
  return s.xlog?.replayed_location;
}

function describeState(s: MemberState): string {
  return `${s.role} (${s.state})`;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function statusOf(api: PatroniApi): Promise<MemberState | Error> {
  try {
    return await api.status();
  } catch (e) {
    return e as Error;
  }
}

/** Standby source a cluster's dynamic configuration follows (undefined when it is not a standby cluster). */
function followedEndpoint(config: Record<string, unknown>): string | undefined {
  const standby = config["standby_cluster"] as { host?: unknown; port?: unknown } | null | undefined;
  if (typeof standby?.host !== "string") return undefined;
  const port = typeof standby.port === "number" ? standby.port : PORTS.postgres;
  return `${standby.host}:${port}`;
}

/** The preconditions, collected; empty when the move may run. */
async function preconditions(
  args: MoveArgs,
  now: number,
): Promise<{ problems: string[]; replayAgeSeconds?: number }> {
  const { topology, target, kind } = args;
  const problems: string[] = [];
  const primary = primaryRegion(topology).name;
  const writer = writerRegionName(topology);
  const region = topology.regions.find((r) => r.name === target);
  const regions = topology.regions.map((r) => r.name).join(", ");
  if (!region) {
    return {
      problems: [
        `${target} is not a region of ${topology.name} (its regions: ${regions}). Fix: pass --region with one of them.`,
      ],
    };
  }
  if (kind === "promote") {
    if (target === primary) {
      problems.push(
        `${target} is the primary region of ${topology.name}. Fix: promote a DR region; to return the writer to ${primary} run \`pnpm dr failback\`.`,
      );
    }
    if (writer !== primary) {
      problems.push(
        `${topology.name} already has ${writer} promoted (dr.promotedRegion). Fix: run \`pnpm dr failback\` first, or correct dr.promotedRegion if it is stale.`,
      );
    }
  }
  if (kind === "failback") {
    if (writer === primary) {
      problems.push(
        `${topology.name} has no promoted region (dr.promotedRegion is not set): the writer is already ${primary}. Nothing to fail back.`,
      );
    }
    if (target !== primary) {
      problems.push(
        `failback returns the writer to the primary region ${primary}, not ${target}. Fix: --region ${primary}.`,
      );
    }
    if (args.writer === "lost") {
      problems.push(
        `failback needs the promoted region ${writer} to answer (it is planned: zero acknowledged commits lost). Fix: pass its REST API; if ${writer} is lost, set dr.promotedRegion to the surviving DR region with \`pnpm dr promote\` instead.`,
      );
    }
  }
  if (kind === "fence" && target === writer) {
    problems.push(
      `${target} holds the writer of ${topology.name} as configured: fencing it would leave no writer. Fix: fence the region that lost the writer.`,
    );
  }
  const source = endpointOf(args, writer);
  const expectedSource = `${source.host}:${source.port}`;
  const targetState = await statusOf(args.targetApi);
  if (targetState instanceof Error) {
    problems.push(
      `the cluster of ${target} does not answer at ${args.targetApi.description}: ${targetState.message}. Fix: port-forward to its leader pod's REST API (docs/runbooks/dr.md).`,
    );
  } else if (kind === "fence") {
    if (targetState.role === "standby_leader") {
      problems.push(`${target}'s leader is already a standby leader: it is fenced.`);
    } else if (!isWriterRole(targetState.role)) {
      problems.push(
        `the member at ${args.targetApi.description} is a ${targetState.role} (${targetState.state}), not ${target}'s leader. Fix: port-forward to the leader (GET /cluster names it).`,
      );
    }
  } else {
    if (targetState.role !== "standby_leader" || targetState.state !== "running") {
      problems.push(
        `the member at ${args.targetApi.description} is a ${targetState.role} (${targetState.state}), not the running standby leader of ${target}. Fix: port-forward to ${target}'s standby leader (GET /cluster names it) and check it is running.`,
      );
    }
    try {
      const followed = followedEndpoint(await args.targetApi.config());
      if (followed !== expectedSource) {
        problems.push(
          `${target}'s cluster follows ${followed ?? "nothing (it is not a standby cluster)"}, not the writer's replication endpoint ${expectedSource}. Fix: check dr.promotedRegion in Pulumi.${topology.name}.yaml against the clusters (GET /config).`,
        );
      }
    } catch (e) {
      problems.push(`GET /config of ${target} failed: ${(e as Error).message}`);
    }
  }
  let replayAgeSeconds: number | undefined;
  if (kind !== "fence") {
    if (args.writer === "lost") {
      // An unreachable target is already reported; its replay time is then unknown, not missing.
      const stamp = targetState instanceof Error ? "unreachable" : targetState.xlog?.replayed_timestamp;
      if (stamp === "unreachable") {
        // reported above
      } else if (!stamp) {
        problems.push(
          `${target} reports no replayed commit time, so the data loss cannot be bounded. Fix: pass --accept-data-loss after checking the standby by hand.`,
        );
      } else {
        replayAgeSeconds = Math.max(0, (now - Date.parse(stamp)) / 1000);
        if (replayAgeSeconds > topology.dr.rpoSeconds && !args.acceptDataLoss) {
          problems.push(
            `${target}'s newest replayed commit is ${replayAgeSeconds.toFixed(1)} s old, more than dr.rpoSeconds (${topology.dr.rpoSeconds}). ` +
              "Promoting would lose the commits after it. Fix: wait for the standby to catch up from the archive, or pass --accept-data-loss " +
              "(an idle writer also ages this stamp: check the writer's last activity).",
          );
        }
      }
    } else {
      const writerState = await statusOf(args.writer);
      if (writerState instanceof Error) {
        problems.push(
          `the writer ${writer} does not answer at ${args.writer.description}: ${writerState.message}. Fix: port-forward to its leader, or pass --writer-lost if the region is gone.`,
        );
      } else if (!isWriterRole(writerState.role) || writerState.state !== "running") {
        problems.push(
          `the member at ${args.writer.description} is a ${writerState.role} (${writerState.state}), not ${writer}'s running leader. Fix: port-forward to the leader (GET /cluster names it).`,
        );
      }
    }
  }
  return { problems, ...(replayAgeSeconds !== undefined ? { replayAgeSeconds } : {}) };
}

/** Moves the writer (see the module comment); throws {@link PreconditionError} when refused. */
export async function moveWriter(args: MoveArgs): Promise<MoveResult> {
  const now = args.now ?? Date.now;
  const sleep = args.sleep ?? defaultSleep;
  const waitMs = (args.waitSeconds ?? 120) * 1000;
  const { topology, target, kind, log } = args;
  const writer = writerRegionName(topology);
  const mark = args.execute ? "" : "[dry run] would ";
  log(
    `${kind} ${topology.name}: writer ${writer} -> ${kind === "fence" ? `${writer} (fence ${target})` : target}${args.execute ? "" : " (dry run: nothing is changed; pass --execute)"}`,
  );

  const checked = await preconditions(args, now());
  if (checked.replayAgeSeconds !== undefined) {
    log(
      `${target}: newest replayed commit ${checked.replayAgeSeconds.toFixed(1)} s old (dr.rpoSeconds ${topology.dr.rpoSeconds})`,
    );
  }
  if (checked.problems.length > 0) {
    throw new PreconditionError(kind, checked.problems);
  }
  log("preconditions hold");

  const newWriter = kind === "fence" ? writer : target;
  const after = withWriter(topology, newWriter);
  const requests: Array<{ cluster: string; body: Readonly<Record<string, unknown>> }> = [];
  const send = async (
    cluster: string,
    api: PatroniApi,
    body: Readonly<Record<string, unknown>>,
    why: string,
  ) => {
    requests.push({ cluster, body });
    log(`${mark}PATCH /config on ${cluster} (${api.description}): ${why}: ${JSON.stringify(body)}`);
    if (args.execute) {
      await api.patchConfig(body);
    }
  };
  /** Polls `check` until it holds; `last` is what the latest poll saw (said when the wait times out). */
  const waitUntil = async (what: string, check: () => Promise<{ ok: boolean; last: string }>) => {
    log(`${mark}wait until ${what}`);
    if (!args.execute) return;
    const deadline = now() + waitMs;
    for (;;) {
      const seen = await check().catch((e: unknown) => ({
        ok: false,
        last: `no answer (${(e as Error).message})`,
      }));
      if (seen.ok) {
        log(`  ${what}: yes`);
        return;
      }
      if (now() > deadline) {
        throw new Error(
          `${kind}: timed out after ${waitMs / 1000} s waiting until ${what} (last seen: ${seen.last}). The requests sent so far: ${requests.length}; see docs/runbooks/dr.md.`,
        );
      }
      await sleep(500);
    }
  };
  const roleIs = async (api: PatroniApi, ok: (s: MemberState) => boolean) => {
    const s = await api.status();
    return { ok: ok(s), last: describeState(s) };
  };

  if (kind === "fence") {
    // The fenced cluster becomes a standby of the configured writer: no second writer once its region returns.
    const body = replicationDynamicConfig(after, target);
    await send(
      target,
      args.targetApi,
      { standby_cluster: standbyAt(args, writer, body.standby_cluster), slots: body.slots },
      `follow ${writer}`,
    );
    await waitUntil(`${target}'s leader is a standby leader`, () =>
      roleIs(args.targetApi, (s) => s.role === "standby_leader"),
    );
    return {
      executed: args.execute,
      requests,
      nextConfig: `dr.promotedRegion stays ${writer === primaryRegion(topology).name ? "unset" : writer}`,
    };
  }

  const writerApi = args.writer;
  if (writerApi !== "lost") {
    const fence = replicationDynamicConfig(after, writer);
    await send(
      writer,
      writerApi,
      { standby_cluster: standbyAt(args, target, fence.standby_cluster) },
      `fence the writer: it follows ${target}`,
    );
    // Patroni stops a leader that is given a standby_cluster at once (`immediate`), then starts it as a
    // standby. Only then, running, does it report where its WAL ends: crash recovery has replayed every
    // complete record it holds (each acknowledged commit among them) before it accepts connections.
    await waitUntil(`${writer}'s leader is a running standby leader`, () =>
      roleIs(writerApi, (s) => fencedEnd(s) !== undefined),
    );
    let end = 0;
    if (args.execute) {
      end = fencedEnd(await writerApi.status()) ?? 0;
      log(`  ${writer}'s WAL ends at ${end} (its replayed position)`);
    }
    await waitUntil(`${target} has replayed ${writer}'s WAL to its end`, async () => {
      const replayed = (await args.targetApi.status()).xlog?.replayed_location;
      return { ok: (replayed ?? -1) >= end, last: `${target} replayed ${replayed ?? "nothing"} of ${end}` };
    });
  } else {
    log(
      `${writer} is lost: not fenced. Before its region serves again, run \`pnpm dr fence --region ${writer}\` (docs/runbooks/dr.md).`,
    );
  }
  const promote = replicationDynamicConfig(after, target);
  await send(
    target,
    args.targetApi,
    { ...promote },
    "promote: no standby_cluster, a permanent slot for every other region",
  );
  await waitUntil(`${target}'s leader accepts writes`, () =>
    roleIs(args.targetApi, (s) => isWriterRole(s.role) && s.state === "running"),
  );
  if (writerApi !== "lost") {
    const old = replicationDynamicConfig(after, writer);
    await send(
      writer,
      writerApi,
      { slots: old.slots },
      "drop the old writer's permanent slots (it is a standby now)",
    );
  }
  const nextConfig =
    newWriter === primaryRegion(topology).name
      ? `remove dr.promotedRegion from Pulumi.${topology.name}.yaml`
      : `set dr.promotedRegion: ${newWriter} in Pulumi.${topology.name}.yaml`;
  log(
    `${args.execute ? "done" : "dry run done"}. Next: ${nextConfig}, then deploy data, dr, workloads and edge (docs/runbooks/dr.md).`,
  );
  return {
    executed: args.execute,
    requests,
    ...(checked.replayAgeSeconds !== undefined ? { replayAgeSeconds: checked.replayAgeSeconds } : {}),
    nextConfig,
  };
}
