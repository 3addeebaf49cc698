/**
 * PostgreSQL sizing from the database node's EC2 instance type. One Patroni member runs per
 * database node (the node group is tainted for it and members spread one per zone), so the member
 * gets the node minus what the kubelet, the system daemons and the pgBackRest sidecar need. The
 * parameter formulas are the usual ones for a dedicated PostgreSQL host (25 % shared_buffers, 75 %
 * effective_cache_size, work_mem from the memory left per connection), made exact so tests can pin
 * them.
 */

/** vCPUs and memory of an EC2 instance type. */
export interface InstanceShape {
  readonly vcpu: number;
  readonly memoryMiB: number;
}

/** GiB of memory per vCPU of the general families the database node group may use. */
const MEMORY_GIB_PER_VCPU: Readonly<Record<string, number>> = {
  /** Compute optimized. */
  c: 2,
  /** General purpose. */
  m: 4,
  /** Memory optimized: the recommended family for PostgreSQL. */
  r: 8,
};

/** vCPUs of the named sizes; `<n>xlarge` is `4 * n`. */
const NAMED_SIZES: Readonly<Record<string, number>> = { medium: 1, large: 2, xlarge: 4 };

/**
 * The shape of an instance type of the c, m or r families (e.g. `r7i.2xlarge` = 8 vCPU, 64 GiB).
 * Burstable (t), metal and other families are refused: a database node needs a fixed, known shape.
 */
export function instanceShape(instanceType: string): InstanceShape {
  const match = /^([a-z]+?)(\d+)([a-z-]*)\.(medium|large|xlarge|(\d+)xlarge)$/.exec(instanceType);
  const family = match?.[1];
  const perVcpu = family === undefined ? undefined : MEMORY_GIB_PER_VCPU[family];
  if (!match || perVcpu === undefined) {
    throw new Error(
      `Cannot size PostgreSQL for instance type '${instanceType}': only c, m and r families with sizes ` +
        `medium, large, xlarge or <n>xlarge are known (e.g. r7i.2xlarge). Fix: set ` +
        `regions[].sizes.nodeGroups.database.instanceTypes to such a type (r7i is recommended).`,
    );
  }
  const size = match[4];
  const vcpu = match[5] !== undefined ? 4 * Number(match[5]) : NAMED_SIZES[size];
  return { vcpu, memoryMiB: vcpu * perVcpu * 1024 };
}

/** Server connections PgBouncer may open per replica beyond `default_pool_size`. */
export const PGBOUNCER_RESERVE_POOL_SIZE = 5;

/**
 * Connections that bypass PgBouncer: Patroni, the bootstrap Job, pgBackRest, monitoring, schema
 * migrations and an operator session or two.
 */
export const DIRECT_CONNECTIONS = 50;

/** Memory of the pgBackRest TLS server sidecar in each member. */
export const SIDECAR_MEMORY_MIB = 256;
/** CPU of the pgBackRest TLS server sidecar in each member. */
export const SIDECAR_CPU_MILLIS = 100;

/** Inputs of {@link sizePostgres}. */
export interface PostgresSizingInput {
  /** EC2 instance type of the database node group (its first, preferred type). */
  readonly instanceType: string;
  /** PgBouncer replicas in front of the primary. */
  readonly pgbouncerReplicas: number;
  /** PgBouncer `default_pool_size`. */
  readonly pgbouncerPoolSize: number;
  /** Data volume per member, GiB (bounds max_wal_size). */
  readonly storageGiB: number;
}

/** PostgreSQL parameters that depend on the node and the pooler. */
export interface SizedParameters {
  readonly max_connections: number;
  readonly shared_buffers: string;
  readonly effective_cache_size: string;
  readonly work_mem: string;
  readonly maintenance_work_mem: string;
  readonly min_wal_size: string;
  readonly max_wal_size: string;
  readonly max_worker_processes: number;
  readonly max_parallel_workers: number;
  readonly max_parallel_workers_per_gather: number;
  readonly max_parallel_maintenance_workers: number;
  readonly "timescaledb.max_background_workers": number;
}

/** Result of {@link sizePostgres}. */
export interface PostgresSizing {
  readonly node: InstanceShape;
  /** Resources of the PostgreSQL container (requests = limits: Guaranteed QoS). */
  readonly container: { readonly cpuMillis: number; readonly memoryMiB: number };
  readonly parameters: SizedParameters;
}

/** TimescaleDB background workers (retention, compression, continuous aggregate jobs). */
const TIMESCALEDB_BACKGROUND_WORKERS = 8;
/** Other background workers: the TimescaleDB launcher, logical replication launcher, spare. */
const OTHER_BACKGROUND_WORKERS = 3;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * Sizes the PostgreSQL container and its memory/parallelism parameters.
 *
 * - Node reserve (kubelet, system daemons, DaemonSets): 10 % of memory, at least 1 GiB; 10 % of CPU,
 *   at least 500m. The pgBackRest sidecar takes {@link SIDECAR_MEMORY_MIB} and {@link SIDECAR_CPU_MILLIS}.
 * - max_connections = pgbouncerReplicas * (pool + reserve pool) + {@link DIRECT_CONNECTIONS}: every
 *   PgBouncer replica is capped at that many server connections (`max_db_connections`).
 * - shared_buffers 25 %, effective_cache_size 75 % of the container memory; work_mem = (memory -
 *   shared_buffers) / (3 * max_connections), 4-256 MB; maintenance_work_mem = memory / 16, at most 2 GB.
 * - max_wal_size = storage / 10, 1-16 GB; parallel workers from the vCPUs.
 */
export function sizePostgres(input: PostgresSizingInput): PostgresSizing {
  const node = instanceShape(input.instanceType);
  const reserveMiB = Math.max(1024, Math.ceil(node.memoryMiB * 0.1));
  const memoryMiB = node.memoryMiB - reserveMiB - SIDECAR_MEMORY_MIB;
  const reserveMillis = Math.max(500, Math.ceil(node.vcpu * 100));
  const cpuMillis = node.vcpu * 1000 - reserveMillis - SIDECAR_CPU_MILLIS;

  const maxConnections =
    input.pgbouncerReplicas * (input.pgbouncerPoolSize + PGBOUNCER_RESERVE_POOL_SIZE) + DIRECT_CONNECTIONS;
  const sharedBuffers = Math.floor(memoryMiB / 4);
  const workMem = clamp(Math.floor((memoryMiB - sharedBuffers) / (3 * maxConnections)), 4, 256);
  const parallelPerGather = clamp(Math.floor(node.vcpu / 2), 1, 4);

  return {
    node,
    container: { cpuMillis, memoryMiB },
    parameters: {
      max_connections: maxConnections,
      shared_buffers: `${sharedBuffers}MB`,
      effective_cache_size: `${Math.floor(memoryMiB * 0.75)}MB`,
      work_mem: `${workMem}MB`,
      maintenance_work_mem: `${Math.min(2048, Math.floor(memoryMiB / 16))}MB`,
      min_wal_size: "1GB",
      max_wal_size: `${clamp(Math.floor(input.storageGiB / 10), 1, 16)}GB`,
      max_worker_processes: node.vcpu + TIMESCALEDB_BACKGROUND_WORKERS + OTHER_BACKGROUND_WORKERS,
      max_parallel_workers: node.vcpu,
      max_parallel_workers_per_gather: parallelPerGather,
      max_parallel_maintenance_workers: parallelPerGather,
      "timescaledb.max_background_workers": TIMESCALEDB_BACKGROUND_WORKERS,
    },
  };
}
