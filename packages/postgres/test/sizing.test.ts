import * as assert from "node:assert/strict";
import { DIRECT_CONNECTIONS, instanceShape, PGBOUNCER_RESERVE_POOL_SIZE, sizePostgres } from "../src/sizing";

describe("instanceShape", () => {
  const cases: ReadonlyArray<readonly [string, number, number]> = [
    ["r7i.large", 2, 16],
    ["r7i.xlarge", 4, 32],
    ["r7i.2xlarge", 8, 64],
    ["r6i.16xlarge", 64, 512],
    ["m7i.xlarge", 4, 16],
    ["m7i-flex.large", 2, 8],
    ["c7i.2xlarge", 8, 16],
    ["r7g.medium", 1, 8],
  ];
  for (const [type, vcpu, gib] of cases) {
    it(`${type} = ${vcpu} vCPU, ${gib} GiB`, () => {
      assert.deepEqual(instanceShape(type), { vcpu, memoryMiB: gib * 1024 });
    });
  }
  for (const type of ["t3.large", "x2idn.16xlarge", "r7i.metal-24xl", "r7i", "large", ""]) {
    it(`refuses '${type}' and says what is accepted`, () => {
      assert.throws(
        () => instanceShape(type),
        (e: Error) => {
          assert.match(e.message, new RegExp(`'${type.replace(/\./g, "\\.")}'`));
          assert.match(e.message, /c, m and r families/);
          assert.match(e.message, /Fix:/);
          return true;
        },
      );
    });
  }
});

describe("sizePostgres", () => {
  it("sizes production (r7i.2xlarge, 3 PgBouncers x pool 80, 500 GiB) exactly", () => {
    const s = sizePostgres({
      instanceType: "r7i.2xlarge",
      pgbouncerReplicas: 3,
      pgbouncerPoolSize: 80,
      storageGiB: 500,
    });
    // 65536 MiB - 10 % reserve (6554) - 256 sidecar = 58726 MiB; 8000m - 800m - 100m = 7100m.
    assert.deepEqual(s.container, { cpuMillis: 7100, memoryMiB: 58726 });
    assert.deepEqual(s.parameters, {
      max_connections: 3 * (80 + PGBOUNCER_RESERVE_POOL_SIZE) + DIRECT_CONNECTIONS,
      shared_buffers: "14681MB",
      effective_cache_size: "44044MB",
      work_mem: "48MB",
      maintenance_work_mem: "2048MB",
      min_wal_size: "1GB",
      max_wal_size: "16GB",
      max_worker_processes: 19,
      max_parallel_workers: 8,
      max_parallel_workers_per_gather: 4,
      max_parallel_maintenance_workers: 4,
      "timescaledb.max_background_workers": 8,
    });
    assert.equal(s.parameters.max_connections, 305);
  });

  it("sizes staging (r7i.large, 2 PgBouncers x pool 50, 50 GiB) exactly", () => {
    const s = sizePostgres({
      instanceType: "r7i.large",
      pgbouncerReplicas: 2,
      pgbouncerPoolSize: 50,
      storageGiB: 50,
    });
    // 16384 - 1639 - 256 = 14489 MiB; 2000m - 500m (minimum reserve) - 100m = 1400m.
    assert.deepEqual(s.container, { cpuMillis: 1400, memoryMiB: 14489 });
    assert.equal(s.parameters.max_connections, 160);
    assert.equal(s.parameters.shared_buffers, "3622MB");
    assert.equal(s.parameters.effective_cache_size, "10866MB");
    assert.equal(s.parameters.work_mem, "22MB");
    assert.equal(s.parameters.maintenance_work_mem, "905MB");
    assert.equal(s.parameters.max_wal_size, "5GB");
    assert.equal(s.parameters.max_parallel_workers_per_gather, 1);
    assert.equal(s.parameters.max_worker_processes, 13);
  });

  it("keeps at least 1 GiB for the node on small types and clamps work_mem to 4-256 MB", () => {
    const small = sizePostgres({
      instanceType: "m7i.large",
      pgbouncerReplicas: 20,
      pgbouncerPoolSize: 500,
      storageGiB: 10,
    });
    assert.equal(small.container.memoryMiB, 8192 - 1024 - 256);
    assert.equal(small.parameters.work_mem, "4MB");
    assert.equal(small.parameters.max_wal_size, "1GB");
    const big = sizePostgres({
      instanceType: "r7i.16xlarge",
      pgbouncerReplicas: 2,
      pgbouncerPoolSize: 5,
      storageGiB: 16384,
    });
    assert.equal(big.parameters.work_mem, "256MB");
    assert.equal(big.parameters.max_wal_size, "16GB");
  });

  it("gives shared_buffers a quarter and effective_cache_size three quarters of the container", () => {
    for (const type of ["r7i.large", "r7i.4xlarge", "m7i.2xlarge", "c7i.xlarge"]) {
      const s = sizePostgres({
        instanceType: type,
        pgbouncerReplicas: 2,
        pgbouncerPoolSize: 50,
        storageGiB: 100,
      });
      assert.equal(s.parameters.shared_buffers, `${Math.floor(s.container.memoryMiB / 4)}MB`, type);
      assert.equal(s.parameters.effective_cache_size, `${Math.floor(s.container.memoryMiB * 0.75)}MB`, type);
      assert.ok(s.container.memoryMiB < s.node.memoryMiB - 1024, type);
    }
  });
});
