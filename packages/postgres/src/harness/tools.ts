import * as fs from "node:fs";
import * as os from "node:os";

/**
 * The engines the integration tests need, by absolute path (Debian packages). When one is missing
 * the suite is skipped with the install hint, except under CI (CI=true), where a missing engine is
 * a failure: CI must install them (see the data tier README).
 */
export const ENGINES = {
  postgres: { path: "/usr/lib/postgresql/15/bin/postgres", debian: "postgresql-15" },
  pgaudit: { path: "/usr/lib/postgresql/15/lib/pgaudit.so", debian: "postgresql-15-pgaudit" },
  patroni: { path: "/usr/bin/patroni", debian: "patroni" },
  etcd: { path: "/usr/bin/etcd", debian: "etcd-server" },
  psycopg2: { path: "/usr/lib/python3/dist-packages/psycopg2", debian: "python3-psycopg2" },
  pgbouncer: { path: "/usr/sbin/pgbouncer", debian: "pgbouncer" },
  pgbench: { path: "/usr/lib/postgresql/15/bin/pgbench", debian: "postgresql-contrib / postgresql-15" },
  pgbackrest: { path: "/usr/bin/pgbackrest", debian: "pgbackrest" },
  openssl: { path: "/usr/bin/openssl", debian: "openssl" },
  prlimit: { path: "/usr/bin/prlimit", debian: "util-linux" },
} as const;

export type Engine = keyof typeof ENGINES;

/** Why the suite cannot run here, or undefined when it can. */
export function missing(engines: readonly Engine[]): string | undefined {
  const absent = engines.filter((e) => !fs.existsSync(ENGINES[e].path));
  const problems = absent.map((e) => `${ENGINES[e].path} (Debian package ${ENGINES[e].debian})`);
  const user = os.userInfo();
  if (user.uid !== 0 && user.username !== "postgres") {
    problems.push(
      `running as ${user.username}: run as root (engines are started as postgres) or as postgres`,
    );
  }
  return problems.length === 0 ? undefined : `missing: ${problems.join("; ")}`;
}

/** Skips (locally) or fails (CI=true) the current suite when an engine is missing. */
export function requireEngines(context: Mocha.Context, engines: readonly Engine[]): void {
  const why = missing(engines);
  if (why === undefined) return;
  if (process.env.CI === "true") throw new Error(`integration engines unavailable under CI: ${why}`);
  console.log(`      SKIPPED: ${why}`);
  context.skip();
}
