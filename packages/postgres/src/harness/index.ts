/**
 * Test support of `@hcp/postgres`, exported as `@hcp/postgres/harness`: boots the rendered artifacts on real
 * engines on loopback — Patroni + etcd + PostgreSQL members, standalone servers, PgBouncer,
 * pgBackRest repositories (local or on moto_server) — in a sandbox whose processes are stopped by
 * exact PID, plus the failover scenarios and the committing writer the tests and benchmarks measure
 * with. Everything derives from `renderArtifacts` output and reports what it had to change.
 */
export * from "./cluster";
export * from "./diff";
export * from "./etcd";
export * from "./leaderProxy";
export * from "./localize";
export * from "./moto";
export * from "./patroni";
export * from "./pgbench";
export * from "./pgbouncer";
export * from "./ports";
export * from "./postgres";
export * from "./procs";
export * from "./sandbox";
export * from "./scenarios";
export * from "./standalone";
export * from "./tls";
export * from "./tools";
export * from "./writer";
