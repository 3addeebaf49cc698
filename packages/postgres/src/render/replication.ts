import { type EnvironmentTopology, primaryRegion, writerRegionName } from "@hcp/platform";
import {
  type PatroniClusterRole,
  type StandbyClusterConfig,
  type StandbySource,
  standbyClusterConfig,
} from "./patroni";
import { PORTS, regionStanza, replicationHostName } from "./layout";

/**
 * Cross-region replication as data: which cluster writes, what every other cluster streams from,
 * the replication slots that keep WAL for them, the pgBackRest stanzas each region writes and reads,
 * and the Patroni dynamic configuration that follows from all of it. The renderers (bootstrap.dcs),
 * the DR commands (`pnpm dr promote` / `failback`, which PATCH /config) and their tests use these
 * functions, so a rendered file and an operation cannot disagree.
 */

/**
 * Every stanza of the environment, the current writer's first: what a cluster's restore_command
 * looks through. A timeline's WAL lives in the stanza of the region that wrote it, so a cluster that
 * follows the writer across a promotion (or a failback) finds each segment where it was archived.
 */
export function readStanzas(topology: EnvironmentTopology): string[] {
  const writer = writerRegionName(topology);
  const ordered = [writer, ...topology.regions.map((r) => r.name).filter((r) => r !== writer)];
  return ordered.map((r) => regionStanza(topology, r));
}

/**
 * `restore_command` that tries each stanza in turn: pgBackRest's archive-get exits non-zero when a
 * segment (or the stanza) is not in any repository, and the shell then asks the next stanza.
 */
export function restoreCommandChain(stanzas: readonly string[]): string {
  if (stanzas.length === 0) {
    throw new Error("restoreCommandChain: no stanza to restore from");
  }
  return stanzas.map((s) => `pgbackrest --stanza=${s} archive-get %f "%p"`).join(" || ");
}

/**
 * Name of the physical replication slot a standby cluster in `region` streams through, on whichever
 * cluster is the writer: `hcp_standby_us_east_1`. Patroni accepts lower-case letters, digits and `_`;
 * the prefix keeps it apart from the member slots Patroni names after pods.
 */
export function standbySlotName(region: string): string {
  return `hcp_standby_${region.replace(/-/g, "_")}`;
}

/** Patroni permanent slots: slot name -> its definition. */
export type PermanentSlots = Readonly<Record<string, { readonly type: "physical" }>>;

/**
 * The permanent slots of a region's cluster: one per other region while it is the writer (each
 * standby cluster streams through its own, so the writer keeps the WAL a disconnected standby still
 * needs, up to `max_slot_wal_keep_size`), none while it is a standby. Patroni 3 creates permanent
 * physical slots on a standby leader too; a slot there would hold WAL for a consumer that does not
 * exist, so a standby cluster has none.
 */
export function permanentSlots(topology: EnvironmentTopology, region: string): PermanentSlots {
  if (writerRegionName(topology) !== region) {
    return {};
  }
  return Object.fromEntries(
    topology.regions
      .filter((r) => r.name !== region)
      .map((r) => [standbySlotName(r.name), { type: "physical" as const }]),
  );
}

/** What a standby cluster in `region` streams from: the writer's replication endpoint. */
export function standbySourceOf(topology: EnvironmentTopology, region: string): StandbySource {
  const writer = writerRegionName(topology);
  if (writer === region) {
    throw new Error(`${region} holds the writer of ${topology.name}: it is not a standby of anything`);
  }
  return {
    host: replicationHostName(topology.name, writer),
    port: PORTS.postgres,
    sslMode: "verify-full",
    primarySlotName: standbySlotName(region),
    restoreCommand: restoreCommandChain(readStanzas(topology)),
  };
}

/**
 * The role a region's cluster has in the environment as configured: the writer region's is a
 * primary, every other region's a standby cluster of the writer.
 */
export function clusterRole(topology: EnvironmentTopology, region: string): PatroniClusterRole {
  return writerRegionName(topology) === region
    ? { kind: "primary" }
    : { kind: "standby", source: standbySourceOf(topology, region) };
}

/**
 * The keys of Patroni's dynamic configuration (GET/PATCH /config) that cross-region replication
 * decides, for a region's cluster in its configured role. `null` removes a key (PATCH semantics).
 * The DR commands send these bodies; the bootstrap configuration renders the same values.
 */
export interface ReplicationDynamicConfig {
  readonly standby_cluster: StandbyClusterConfig | null;
  readonly slots: PermanentSlots | null;
  readonly postgresql: { readonly parameters: { readonly max_slot_wal_keep_size: string } };
}

/** `max_slot_wal_keep_size` of the environment. */
export function slotWalKeepSize(topology: EnvironmentTopology): string {
  return `${topology.dr.replicationSlotMaxWalGiB}GB`;
}

/** The dynamic configuration a region's cluster must hold for its configured role. */
export function replicationDynamicConfig(
  topology: EnvironmentTopology,
  region: string,
): ReplicationDynamicConfig {
  const role = clusterRole(topology, region);
  const slots = permanentSlots(topology, region);
  return {
    standby_cluster: role.kind === "standby" ? standbyClusterConfig(role.source) : null,
    slots: Object.keys(slots).length > 0 ? slots : null,
    postgresql: { parameters: { max_slot_wal_keep_size: slotWalKeepSize(topology) } },
  };
}

/** The environment as if `region` held the writer (what a promotion or failback leads to). */
export function withWriter(topology: EnvironmentTopology, region: string): EnvironmentTopology {
  const primary = primaryRegion(topology).name;
  const { promotedRegion: _previous, ...rest } = topology.dr;
  return { ...topology, dr: region === primary ? rest : { ...rest, promotedRegion: region } };
}
