import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import type pg from "pg";
import { connect, type ClientTarget } from "./postgres";
import { descendants, isAlive, signalAll, sleep, waitFor, type ProcessIdentity } from "./procs";
import type { Proc, Sandbox } from "./sandbox";

/** One member of a local Patroni cluster. */
export interface MemberSpec {
  readonly name: string;
  readonly pgPort: number;
  readonly restPort: number;
  readonly dataDir: string;
  /** PostgreSQL's Unix socket directory (the superuser's peer-authenticated way in). */
  readonly socketDir?: string;
  /** The member's full Patroni configuration (written as JSON, which is YAML). */
  readonly config: Record<string, unknown>;
  /** Environment of the member's Patroni process (the PATRONI_* variables a pod gets). */
  readonly env: Readonly<Record<string, string>>;
}

/** How the test reaches the REST API and PostgreSQL (the rendered auth, local values). */
export interface ClusterAccess {
  readonly restUsername: string;
  readonly restPassword: string;
  /** Set when the REST API serves HTTPS: the CA to verify it against. */
  readonly restCaFile?: string;
  readonly superuser: string;
  readonly superuserPassword: string;
  readonly caFile: string;
}

/** GET /patroni of a member (Patroni 3.0: role is "master" or "replica"). */
export interface MemberStatus {
  readonly state: string;
  readonly role: string;
  readonly timeline?: number;
  readonly replication?: ReadonlyArray<{ application_name: string; state: string; sync_state: string }>;
}

/** One row of GET /cluster. */
export interface ClusterMember {
  readonly name: string;
  readonly role: string;
  readonly state: string;
  readonly timeline?: number;
  readonly lag?: number | string;
}

/** A state sample of one member's PostgreSQL (for the unprotected-window measurement). */
export interface SyncSample {
  readonly t: number;
  readonly member: string;
  readonly inRecovery: boolean;
  readonly syncStandbyNames: string;
  readonly syncStandbys: number;
}

export class LocalPatroniCluster {
  readonly members: readonly MemberSpec[];
  private readonly procs = new Map<string, Proc>();
  private restarts = 0;

  constructor(
    private readonly sandbox: Sandbox,
    members: readonly MemberSpec[],
    private readonly access: ClusterAccess,
  ) {
    this.members = members;
    for (const m of members) sandbox.trackDataDir(m.dataDir);
  }

  member(name: string): MemberSpec {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  /** Writes the member's config and starts `/usr/bin/python3 /usr/bin/patroni <config>`. */
  start(name: string): Proc {
    const m = this.member(name);
    const file = this.sandbox.writeFile(
      `${name}.patroni.yml`,
      `${JSON.stringify(m.config, null, 2)}\n`,
      0o600,
    );
    const logName = this.procs.has(name) ? `${name}-patroni-${++this.restarts}` : `${name}-patroni`;
    const proc = this.sandbox.spawn(logName, "/usr/bin/python3", ["/usr/bin/patroni", file], { env: m.env });
    this.procs.set(name, proc);
    return proc;
  }

  startAll(): void {
    for (const m of this.members) this.start(m.name);
  }

  patroniProc(name: string): Proc | undefined {
    return this.procs.get(name);
  }

  /**
   * Patroni's own log lines of every member (PostgreSQL's stderr, which Patroni passes through, is
   * left out), for failure messages.
   */
  logs(lines = 25): string {
    return [...this.procs.values()]
      .map((p) => this.sandbox.tail(p, lines, (line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} /.test(line)))
      .join("\n");
  }

  private restRequest(
    name: string,
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string }> {
    return this.rawRequest(name, method, path, body, true);
  }

  /** A REST API request with (`authenticate`) or without the rendered basic-auth credentials. */
  rawRequest(
    name: string,
    method: "GET" | "POST",
    path: string,
    body: unknown,
    authenticate: boolean,
  ): Promise<{ status: number; text: string }> {
    const m = this.member(name);
    const ca = this.access.restCaFile;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (authenticate) {
      const token = Buffer.from(`${this.access.restUsername}:${this.access.restPassword}`).toString("base64");
      headers.Authorization = `Basic ${token}`;
    }
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    // POST /switchover answers only once the switchover is over.
    const timeout = method === "POST" ? 90_000 : 3_000;
    const options = { host: "127.0.0.1", port: m.restPort, path, method, headers, timeout };
    return new Promise((resolve, reject) => {
      const onResponse = (res: http.IncomingMessage): void => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      };
      const req = ca
        ? https.request({ ...options, ca: fs.readFileSync(ca), servername: "localhost" }, onResponse)
        : http.request(options, onResponse);
      req.on("timeout", () => req.destroy(new Error(`REST ${method} ${path} on ${name} timed out`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  async status(name: string): Promise<MemberStatus | undefined> {
    try {
      const res = await this.restRequest(name, "GET", "/patroni");
      return JSON.parse(res.text) as MemberStatus;
    } catch {
      return undefined;
    }
  }

  /** GET /cluster from the first member that answers. */
  async clusterView(except: readonly string[] = []): Promise<ClusterMember[] | undefined> {
    for (const m of this.members) {
      if (except.includes(m.name)) continue;
      try {
        const res = await this.restRequest(m.name, "GET", "/cluster");
        if (res.status === 200) return (JSON.parse(res.text) as { members: ClusterMember[] }).members;
      } catch {
        // try the next member
      }
    }
    return undefined;
  }

  /** The current leader according to the members' own REST APIs (role master/primary, running). */
  async leader(except: readonly string[] = []): Promise<string | undefined> {
    for (const m of this.members) {
      if (except.includes(m.name)) continue;
      const s = await this.status(m.name);
      if (s && (s.role === "master" || s.role === "primary") && s.state === "running") return m.name;
    }
    return undefined;
  }

  /**
   * Waits until there is a running leader and every other member in `expectReplicas` (default: all)
   * is a running replica streaming from it.
   */
  async waitHealthy(
    timeoutMs: number,
    expectReplicas?: readonly string[],
    options: { syncStandby?: boolean } = {},
  ): Promise<string> {
    return waitFor(
      options.syncStandby
        ? "a Patroni leader, every replica streaming and a synchronous standby recorded in the DCS"
        : "a Patroni leader with every replica streaming",
      async () => {
        const leader = await this.leader();
        if (!leader) return undefined;
        const replicas = expectReplicas ?? this.members.map((m) => m.name).filter((n) => n !== leader);
        const status = await this.status(leader);
        const streaming = new Set(
          (status?.replication ?? []).filter((r) => r.state === "streaming").map((r) => r.application_name),
        );
        for (const r of replicas) {
          const s = await this.status(r);
          if (!s || s.role !== "replica" || s.state !== "running" || !streaming.has(r)) return undefined;
        }
        if (options.syncStandby) {
          // Patroni only lets the standby named in its /sync key take over automatically in
          // synchronous mode; until it names one, a leader loss leaves the cluster leaderless.
          const view = await this.clusterView();
          if (!view?.some((m) => m.role === "sync_standby")) return undefined;
        }
        return leader;
      },
      { timeoutMs, intervalMs: 500, detail: () => this.logs() },
    );
  }

  /** libpq multi-host DSN over every member, read-write sessions only, TLS verified. */
  dsn(database = "postgres"): string {
    const hosts = this.members.map(() => "127.0.0.1").join(",");
    const ports = this.members.map((m) => m.pgPort).join(",");
    return [
      `host=${hosts}`,
      `port=${ports}`,
      `dbname=${database}`,
      `user=${this.access.superuser}`,
      `password=${this.access.superuserPassword}`,
      "target_session_attrs=read-write",
      "connect_timeout=2",
      "sslmode=verify-full",
      `sslrootcert=${this.access.caFile}`,
      "application_name=hcp-writer",
      "keepalives_idle=2",
      "keepalives_interval=1",
      "keepalives_count=2",
    ].join(" ");
  }

  target(name: string): ClientTarget {
    return {
      port: this.member(name).pgPort,
      user: this.access.superuser,
      password: this.access.superuserPassword,
      caFile: this.access.caFile,
    };
  }

  /**
   * A node loss: SIGKILL, at the same instant, the member's Patroni (and its children) and its
   * postmaster with every backend (Patroni starts postgres detached, so it is a separate tree).
   * Returns the kill time (epoch ms) and the PIDs killed.
   */
  killNode(name: string): { t: number; pids: number[] } {
    const proc = this.procs.get(name);
    const targets: ProcessIdentity[] = [];
    if (proc && isAlive(proc.identity)) targets.push(proc.identity, ...descendants(proc.identity.pid));
    targets.push(...this.sandbox.postgresProcesses(this.member(name).dataDir));
    const t = Date.now();
    const pids = signalAll(targets, "SIGKILL");
    return { t, pids };
  }

  /** Planned switchover through the REST API (the rendered basic auth). */
  async switchover(leader: string, candidate?: string): Promise<{ t: number; status: number; text: string }> {
    const t = Date.now();
    const res = await this.restRequest(
      leader,
      "POST",
      "/switchover",
      candidate ? { leader, candidate } : { leader },
    );
    return { t, ...res };
  }

  /** Stops the whole cluster: Patroni processes first (graceful), then anything left by PID. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => this.sandbox.stop(p, 20_000)));
  }
}

/**
 * Samples every member's replication state at a fixed interval on persistent connections (reopened
 * when a member dies or restarts), to measure when a newly promoted primary acknowledges commits
 * with no synchronous standby.
 */
export class SyncMonitor {
  readonly samples: SyncSample[] = [];
  private running = false;
  private loops: Array<Promise<void>> = [];

  constructor(
    private readonly cluster: LocalPatroniCluster,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.cluster.members.map((m) => this.loop(m.name));
  }

  private async loop(name: string): Promise<void> {
    let client: pg.Client | undefined;
    while (this.running) {
      const started = Date.now();
      try {
        client ??= await connect(this.cluster.target(name), { connectTimeoutMs: 1_000 });
        const res = await client.query<{ r: boolean; ssn: string; n: string }>(
          "SELECT pg_is_in_recovery() AS r, current_setting('synchronous_standby_names') AS ssn, " +
            "(SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')) AS n",
        );
        const row = res.rows[0];
        this.samples.push({
          t: Date.now(),
          member: name,
          inRecovery: row.r,
          syncStandbyNames: row.ssn,
          syncStandbys: Number(row.n),
        });
      } catch {
        await client?.end().catch(() => undefined);
        client = undefined;
      }
      await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
    }
    await client?.end().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * After a promotion of `member` (samples from `since` on): the first time it was seen writable
 * with an empty synchronous_standby_names (commits acknowledged on one copy only), and the first
 * time after that it had synchronous_standby_names set again. undefined `from` = never unprotected.
 */
export function unprotectedInterval(
  samples: readonly SyncSample[],
  member: string,
  since: number,
): { from?: number; until?: number } {
  const mine = samples.filter((s) => s.member === member && s.t >= since && !s.inRecovery);
  const start = mine.findIndex((s) => s.syncStandbyNames.trim() === "");
  if (start < 0) return {};
  const end = mine.slice(start).find((s) => s.syncStandbyNames.trim() !== "");
  return { from: mine[start].t, until: end?.t };
}
